// The identity rule: which owner an authenticated user name stands for. The secrets API uses it
// to pick the caller's store, the webhook to tell whether a pod's submitter is the pod's owner:
// one rule, configured once (--username-prefix), so whoever may fill a store may run its jobs.
// Pure; the webhook's check allocates nothing.

/** How user names map to owners. */
export interface IdentityRule {
  /**
   * Removed from the start of a user name to give the owner; "" takes the name as it is. A name
   * that starts with none of them (and no "" is listed) stands for no owner. [""]: every name is
   * its own owner. Checked at start (config/identity.ts) so that at most one applies to any name.
   */
  readonly usernamePrefixes: readonly string[];
}

/** The default: user names are owners as they are. */
export const NAMES_AS_THEY_ARE: IdentityRule = Object.freeze({ usernamePrefixes: Object.freeze([""]) });

/** Whom a user name stands for, or why nobody. `storeId` is the owner with "/" written "--". */
export type UserOwner =
  | { kind: "owner"; owner: string; storeId: string }
  /** No prefix applies (and names as they are are not accepted). */
  | { kind: "no-prefix" }
  /** `name` (the user name less its prefix) breaks the owner-name rule. */
  | { kind: "bad-name"; name: string }
  /** `name` is a valid owner name whose store name would exceed 253 characters. */
  | { kind: "too-long"; name: string };

// Owner names become part of a Secret name, user--{owner with / as --}--secrets, which must be
// a DNS subdomain of at most 253 characters.
export const MAX_STORE_ID = 253 - "user----secrets".length;

const SLASH = 0x2f;
const DASH = 0x2d;
const DOT = 0x2e;

/**
 * Where the owner part of `username` starts: after the one non-empty prefix it starts with, else
 * at 0 when names as they are are accepted, else -1. A non-empty prefix is tried first so that a
 * rule listing "" anywhere reads the same (config/identity.ts keeps the two from overlapping).
 */
function ownerStart(username: string, prefixes: readonly string[]): number {
  let asIs = false;
  for (const prefix of prefixes) {
    if (prefix === "") asIs = true;
    else if (username.startsWith(prefix)) return prefix.length;
  }
  return asIs ? 0 : -1;
}

/** The user name's owner under the rule (the secrets API's caller, the webhook's submitter). */
export function ownerOfUser(username: string, rule: IdentityRule): UserOwner {
  const start = ownerStart(username, rule.usernamePrefixes);
  if (start < 0) return { kind: "no-prefix" };
  const name = start === 0 ? username : username.slice(start);
  const length = storeIdLength(name);
  if (length < 0) return { kind: "bad-name", name };
  if (length > MAX_STORE_ID) return { kind: "too-long", name };
  return { kind: "owner", owner: name, storeId: name.replaceAll("/", "--") };
}

/**
 * Whether `username` stands for `owner` (slash form): exactly when ownerOfUser gives that owner.
 * The webhook's submitter check; it compares in place and allocates nothing.
 */
export function userIsOwner(username: string, owner: string, rule: IdentityRule): boolean {
  const start = ownerStart(username, rule.usernamePrefixes);
  if (start < 0 || username.length - start !== owner.length || !username.startsWith(owner, start))
    return false;
  const length = storeIdLength(owner);
  return length >= 0 && length <= MAX_STORE_ID;
}

/**
 * Whether `name` is one or more '/'-separated parts of [a-z0-9.-], each starting and ending with
 * a letter or digit, with no "--" (it separates parts in the store name) and no ".-", "-." or
 * ".." (the store name's dot-separated labels must start and end with a letter or digit).
 */
export function isOwnerName(name: string): boolean {
  return storeIdLength(name) >= 0;
}

/** Whether this character may appear in an owner name at all. */
export function isOwnerNameCharacter(code: number): boolean {
  return isAlphanumeric(code) || code === DASH || code === DOT || code === SLASH;
}

/**
 * The length of `name` as a store id ("/" counts two), or -1 when it is not an owner name. One
 * pass, no regex: user names are the caller's text, of any length.
 */
function storeIdLength(name: string): number {
  let previous = SLASH; // as if after a '/': the first character must start a part
  let slashes = 0;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (isAlphanumeric(code)) {
      previous = code;
      continue;
    }
    if (code !== DASH && code !== DOT && code !== SLASH) return -1;
    // '-', '.' and '/' must each follow a letter or digit.
    if (!isAlphanumeric(previous)) return -1;
    if (code === SLASH) slashes++;
    previous = code;
  }
  return isAlphanumeric(previous) ? name.length + slashes : -1;
}

function isAlphanumeric(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}
