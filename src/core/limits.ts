// Bounds on user text and on what one pod may ask for. Mutating admission sees a pod before the
// API server's own size checks, so a megabyte annotation reaches the webhook: every input is
// bounded here, and every bound is refused with a 422 naming it.

export const LIMITS = {
  /**
   * Characters in one `secret:` reference. The longest valid one is about 760:
   * `secret://` + cluster (253) + `/` + owner path (a store name holds at most 238) + `/` + key (253).
   */
  referenceChars: 1024,
  /** Characters in a mount path: Linux's PATH_MAX. */
  mountPathChars: 4096,
  /** Characters in the file annotation: the API server allows 256 KiB for all annotations together. */
  annotationChars: 262_144,
  /** Entries in the file annotation: a job uses a handful of secret files; 1000 is generous. */
  annotationEntries: 1000,
  /** Mounts the webhook adds to one pod (entries × their target containers): a patch of about 1 MB. */
  fileMounts: 10_000,
  /** Problems spelled out in one refusal; the rest are counted. */
  problemsShown: 20,
  /** Items listed in one message (missing keys, a pod's containers); the rest are counted. */
  itemsShown: 20,
  /** Characters of user text quoted in a message. */
  quotedChars: 100,
} as const;

/** User text for a message: cut to LIMITS.quotedChars characters, "…" marking the cut. */
export function clip(text: string, max: number = LIMITS.quotedChars): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The first `max` items, each shown by `show`, joined, with ", and N more" for the rest. */
export function listSome(
  items: readonly string[],
  show: (item: string) => string,
  max: number = LIMITS.itemsShown,
): string {
  const shown = items.slice(0, max).map(show).join(", ");
  return items.length > max ? `${shown}, and ${items.length - max} more` : shown;
}

/** A place in a pod ("env A of container 'main'") for a message: its names are user text. */
export function clipWhere(where: string): string {
  return clip(where, 3 * LIMITS.quotedChars);
}

/** User text in single quotes, clipped. */
export function quoted(text: string): string {
  return `'${clip(text)}'`;
}
