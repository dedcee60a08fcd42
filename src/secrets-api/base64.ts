// Standard base64 with padding, checked in one pass over the text (values reach 1.4 MB, and a
// backtracking pattern on user text is a hazard this project does not take).

// 1 for the 64 characters of the standard alphabet, by character code.
const ALPHABET = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 61; // "="

/**
 * Whether `text` is standard base64 (alphabet A-Z a-z 0-9 + /) in whole groups of four, padded
 * with one or two "=" at the very end only. The empty text is valid (zero bytes).
 */
export function isBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  let padding = 0;
  if (length > 0 && text.charCodeAt(length - 1) === PAD) {
    padding = text.charCodeAt(length - 2) === PAD ? 2 : 1;
  }
  const data = length - padding;
  for (let i = 0; i < data; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || ALPHABET[code] !== 1) return false;
  }
  return true;
}
