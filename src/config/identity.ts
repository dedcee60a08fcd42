// --username-prefix: the identity rule's prefixes (src/core/identity.ts), read the same way by
// `serve`, `api` and `mutate`, and checked so that at most one of them applies to any user name.

import { type IdentityRule, isOwnerNameCharacter } from "../core/identity.js";
import { ConfigError } from "./checks.js";

// Bounds the webhook's per-review work (one startsWith each) and the API's per-request work.
const MAX_PREFIXES = 16;
const MAX_PREFIX_LENGTH = 253;

/**
 * Comma-separated prefixes, each trimmed; an empty item is "names as they are" ("a:," is the
 * prefix a: and names as they are). An empty text is names as they are alone, the default.
 */
export function identityRuleOf(name: string, text: string): IdentityRule {
  const prefixes = text.trim() === "" ? [""] : text.split(",").map((item) => item.trim());
  if (prefixes.length > MAX_PREFIXES)
    throw new ConfigError(`${name} lists ${prefixes.length} prefixes; at most ${MAX_PREFIXES} are allowed`);
  prefixes.forEach((prefix, i) => {
    if (prefix.length > MAX_PREFIX_LENGTH)
      throw new ConfigError(
        `${name}: the prefix '${prefix.slice(0, 40)}…' has ${prefix.length} characters; at most ${MAX_PREFIX_LENGTH} are allowed`,
      );
    if (prefixes.indexOf(prefix) !== i)
      throw new ConfigError(
        `${name} lists ${prefix === "" ? "the empty item (names as they are)" : `'${prefix}'`} twice`,
      );
  });
  checkOverlaps(name, prefixes);
  return Object.freeze({ usernamePrefixes: Object.freeze(prefixes) });
}

/**
 * No user name may have two readings: one prefix starting another would give two owners, and a
 * prefix of owner-name characters alone, with names as they are, would make the user 'oidc-alice'
 * the owner 'alice' although a user named so as it is would be the owner 'oidc-alice'.
 */
function checkOverlaps(name: string, prefixes: readonly string[]): void {
  const asIs = prefixes.includes("");
  for (const prefix of prefixes) {
    if (prefix === "") continue;
    const longer = prefixes.find((other) => other !== prefix && other.startsWith(prefix));
    if (longer !== undefined)
      throw new ConfigError(
        `${name}: '${prefix}' and '${longer}' overlap (a user name starting with '${longer}' starts with both); list prefixes none of which starts another`,
      );
    if (asIs && isOwnerNameText(prefix))
      throw new ConfigError(
        `${name}: with names as they are (the empty item), the prefix '${prefix}' must contain a character owner names never have, such as ':' (else the user '${prefix}alice' could be the owner '${prefix}alice' or 'alice')`,
      );
  }
}

function isOwnerNameText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isOwnerNameCharacter(text.charCodeAt(i))) return false;
  return true;
}
