// RFC 6901 JSON Pointer: every segment escaped ("~" → "~0", "/" → "~1").

export function escapeSegment(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function pointer(...segments: readonly (string | number)[]): string {
  return segments.map((segment) => `/${escapeSegment(segment)}`).join("");
}
