// What a response tells people besides its decision: warnings the user sees (kubectl prints them
// as "Warning: ...") and the audit annotations the API server writes to its audit log. Names
// only, never a value; everything bounded, whatever the pod or the store holds.

import { LABEL_PREFIXES } from "./contract.js";
import { clip } from "./limits.js";
import * as messages from "./messages.js";

export const ADVICE_LIMITS = {
  /** The admission API: each warning under 256 characters, all together under 4096. */
  warningChars: 255,
  warningTotalChars: 4000,
  warnings: 10,
  /** Close names offered for one missing key, and the missing keys looked at. */
  suggestions: 3,
  missingCompared: 3,
  /** Names of the store compared per missing key: a store's size does not set the work. */
  namesCompared: 2000,
  /** Edits (insert, delete, replace one character) that still make a name "close". */
  distance: 2,
  /** A Secret key is at most 253 characters; longer names are not compared. */
  nameChars: 253,
  /** Characters of one audit annotation value. */
  auditChars: 1024,
} as const;

const LEGACY_PREFIX = LABEL_PREFIXES[1];
const OWNER_LABELS = ["user", "org", "project"] as const;

/** The pod's owner labels under the legacy prefix. */
export function legacyOwnerLabels(labels: Readonly<Record<string, string>>): string[] {
  return OWNER_LABELS.map((name) => LEGACY_PREFIX + name).filter((key) => Object.hasOwn(labels, key));
}

/**
 * Whether `a` becomes `b` in at most `max` edits: Levenshtein distance over a band of width
 * 2·max+1, so O(length · max) time and two rows of memory.
 */
export function withinDistance(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max) return false;
  const far = max + 1;
  let previous = new Array<number>(b.length + 2).fill(far);
  let current = new Array<number>(b.length + 2).fill(far);
  for (let j = 0; j <= Math.min(b.length, max); j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    current[from - 1] = from === 1 && i <= max ? i : far;
    let best = current[from - 1] as number;
    for (let j = from; j <= to; j++) {
      const replace = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const cell = Math.min(replace, (previous[j] as number) + 1, (current[j - 1] as number) + 1, far);
      current[j] = cell;
      best = Math.min(best, cell);
    }
    current[to + 1] = far;
    if (best > max) return false;
    [previous, current] = [current, previous];
  }
  return (previous[b.length] as number) <= max;
}

/** Up to ADVICE_LIMITS.suggestions names of `present` close to `missing`, sorted. */
export function closeNames(missing: string, present: Iterable<string>): string[] {
  if (missing.length > ADVICE_LIMITS.nameChars) return [];
  const found: string[] = [];
  let compared = 0;
  for (const name of present) {
    if (compared++ >= ADVICE_LIMITS.namesCompared) break;
    if (name.length > ADVICE_LIMITS.nameChars || name === missing) continue;
    if (withinDistance(missing, name, ADVICE_LIMITS.distance)) found.push(name);
  }
  return found.sort().slice(0, ADVICE_LIMITS.suggestions);
}

/** "did you mean" warnings for the first missing keys that have close names in the store. */
export function suggestionWarnings(missing: readonly string[], present: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  for (const key of missing.slice(0, ADVICE_LIMITS.missingCompared)) {
    const close = closeNames(key, present);
    if (close.length > 0) warnings.push(messages.didYouMean(key, close));
  }
  return warnings;
}

/** Each warning clipped, the list cut before the admission API's limits. */
export function boundWarnings(warnings: readonly string[]): string[] {
  const kept: string[] = [];
  let total = 0;
  for (const warning of warnings.slice(0, ADVICE_LIMITS.warnings)) {
    const text = clip(warning, ADVICE_LIMITS.warningChars - 1);
    if (total + text.length > ADVICE_LIMITS.warningTotalChars) break;
    total += text.length;
    kept.push(text);
  }
  return kept;
}

export interface AuditFacts {
  owner: string | undefined;
  /** The key names the pod asked for (empty on a refusal that must not reveal the store). */
  keys: readonly string[];
  decision: string;
  reason: string;
}

/**
 * The audit annotations of a response. The API server stores each as `<webhook name>/<key>`,
 * which must be a qualified name: so a key has no prefix (no "/") of its own.
 */
export function auditAnnotations(facts: AuditFacts): Record<string, string> {
  const annotations: Record<string, string> = {
    decision: facts.decision,
    reason: clip(facts.reason, ADVICE_LIMITS.auditChars),
  };
  if (facts.owner !== undefined) annotations.owner = clip(facts.owner, ADVICE_LIMITS.auditChars);
  if (facts.keys.length > 0) annotations.keys = clip(facts.keys.join(","), ADVICE_LIMITS.auditChars);
  return annotations;
}
