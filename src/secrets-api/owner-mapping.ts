// Who owns the secrets an API caller manages: the identity rule of src/core/identity.ts (the one
// the webhook checks submitters with), and the 403 message telling a caller why it owns nothing.

import { type IdentityRule, MAX_STORE_ID, ownerOfUser } from "../core/identity.js";
import { excerpt } from "./excerpt.js";

/** The configured rule (--username-prefix). */
export type OwnerMapping = IdentityRule;

export type OwnerResult =
  | { kind: "owner"; owner: string; storeId: string }
  | { kind: "refused"; message: string };

const OWNER_RULE =
  "lowercase letters, digits, '-', '.' and '/' only, each part between '/' starting and ending with a letter or digit, no '--', '.-', '-.' or '..'";

export function ownerOf(username: string, mapping: OwnerMapping): OwnerResult {
  const found = ownerOfUser(username, mapping);
  switch (found.kind) {
    case "owner":
      return found;
    case "no-prefix":
      return {
        kind: "refused",
        message: `user '${excerpt(username)}' is not a platform user (expected a name starting with ${expectedPrefixes(mapping)})`,
      };
    case "bad-name":
      return {
        kind: "refused",
        message: `user name '${excerpt(found.name)}' cannot own secrets: ${OWNER_RULE}`,
      };
    case "too-long":
      return {
        kind: "refused",
        message: `user name '${excerpt(found.name)}' cannot own secrets: it is longer than the ${MAX_STORE_ID} characters a store name leaves`,
      };
  }
}

/** 'a' or 'a' or 'b': the configured prefixes (at most 16, each bounded at start). */
function expectedPrefixes(mapping: OwnerMapping): string {
  return mapping.usernamePrefixes.map((prefix) => `'${prefix}'`).join(" or ");
}
