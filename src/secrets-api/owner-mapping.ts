// Who owns the secrets an API caller manages: the authenticated user name, as is or with a
// configured prefix removed (e.g. "system:serviceaccount:apolo-users:"). Pure.

import { excerpt } from "./excerpt.js";

export interface OwnerMapping {
  /** Removed from the start of the user name; callers without it are refused. Empty: as is. */
  usernamePrefix: string;
}

export type OwnerResult =
  | { kind: "owner"; owner: string; storeId: string }
  | { kind: "refused"; message: string };

// Owner names become part of a Secret name, user--{owner with / as --}--secrets, which must be
// a DNS subdomain of at most 253 characters.
const MAX_STORE_ID = 253 - "user----secrets".length;
const OWNER_RULE =
  "lowercase letters, digits, '-', '.' and '/' only, each part between '/' starting and ending with a letter or digit, no '--', '.-', '-.' or '..'";

export function ownerOf(username: string, mapping: OwnerMapping): OwnerResult {
  let name = username;
  if (mapping.usernamePrefix !== "") {
    if (!username.startsWith(mapping.usernamePrefix)) {
      return {
        kind: "refused",
        message: `user '${excerpt(username)}' is not a platform user (expected a name starting with '${mapping.usernamePrefix}')`,
      };
    }
    name = username.slice(mapping.usernamePrefix.length);
  }
  if (!isOwnerName(name)) {
    return {
      kind: "refused",
      message: `user name '${excerpt(name)}' cannot own secrets: ${OWNER_RULE}`,
    };
  }
  const storeId = name.replaceAll("/", "--");
  if (storeId.length > MAX_STORE_ID) {
    return {
      kind: "refused",
      message: `user name '${excerpt(name)}' cannot own secrets: it is longer than the ${MAX_STORE_ID} characters a store name leaves`,
    };
  }
  return { kind: "owner", owner: name, storeId };
}

/**
 * Whether `name` is one or more '/'-separated parts of [a-z0-9.-], each starting and ending with
 * a letter or digit, with no "--" (it separates parts in the store name) and no ".-", "-." or
 * ".." (the store name's dot-separated labels must start and end with a letter or digit).
 * One pass, no regex.
 */
export function isOwnerName(name: string): boolean {
  let previous = 0x2f; // as if after a '/': the first character must start a part
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (isAlphanumeric(code)) {
      previous = code;
      continue;
    }
    const punctuation = code === 0x2d || code === 0x2e; // '-' '.'
    if (!punctuation && code !== 0x2f) return false;
    // '-', '.' and '/' must each follow a letter or digit.
    if (!isAlphanumeric(previous)) return false;
    previous = code;
  }
  return isAlphanumeric(previous);
}

function isAlphanumeric(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}
