// User text quoted in answers and logs is bounded: a request may carry megabytes of it.

const MAX_EXCERPT = 100;

/** The text itself when short, else its first 100 characters and its length. */
export function excerpt(text: string): string {
  return text.length <= MAX_EXCERPT ? text : `${text.slice(0, MAX_EXCERPT)}… (${text.length} characters)`;
}
