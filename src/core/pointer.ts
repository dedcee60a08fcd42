// RFC 6901 JSON Pointer: every segment escaped ("~" → "~0", "/" → "~1").

export function escapeSegment(segment: string | number): string {
  if (typeof segment === "number") return String(segment);
  return segment.includes("~") || segment.includes("/")
    ? segment.replaceAll("~", "~0").replaceAll("/", "~1")
    : segment;
}

export function pointer(...segments: readonly (string | number)[]): string {
  let text = "";
  for (const segment of segments) text += `/${escapeSegment(segment)}`;
  return text;
}
