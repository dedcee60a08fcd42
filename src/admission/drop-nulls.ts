// JSON null in an object field means "absent" to the API server (it decodes into Go zero values),
// and direct callers may send it. Removing such fields once, at the door, keeps every later reader
// from meeting a null where the types promise a value or nothing.

/** Deletes, in place, every object property whose value is null (nulls inside lists are kept). */
export function dropNulls(root: unknown): void {
  // A loop over a work list, not recursion: a deeply nested body must not overflow the stack.
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== "object" || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === "object" && item !== null) pending.push(item);
      continue;
    }
    const record = next as Record<string, unknown>;
    // for-in allocates no list of keys (this walks every object of every review); a key deleted
    // during the walk is not visited again. JSON.parse objects inherit nothing enumerable.
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const value = record[key];
      if (value === null) delete record[key];
      else if (typeof value === "object") pending.push(value);
    }
  }
}
