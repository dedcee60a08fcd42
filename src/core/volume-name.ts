// The name of the secret volume injected for a store: a fixed prefix (which also marks it as
// ours for idempotent reinvocation) and at most 63 characters, a DNS label.

import { isDnsLabel, toDnsLabelChars, trimTrailing } from "./charset.js";

export const VOLUME_PREFIX = "apolo-secrets-";
const MAX_VOLUME_NAME = 63;

/** FNV-1a, 32 bits: a short stable suffix that keeps truncated names distinct. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

export function volumeNameFor(ownerId: string): string {
  const readable = VOLUME_PREFIX + ownerId;
  if (readable.length <= MAX_VOLUME_NAME && isDnsLabel(readable)) return readable;
  const suffix = `-${fnv1a(ownerId)}`;
  const room = MAX_VOLUME_NAME - VOLUME_PREFIX.length - suffix.length;
  const cleaned = trimTrailing(toDnsLabelChars(ownerId.slice(0, room)), "-");
  return `${VOLUME_PREFIX}${cleaned === "" ? "x" : cleaned}${suffix}`;
}
