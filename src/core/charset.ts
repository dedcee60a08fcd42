// Name rules as linear scanners: one pass over the text, no backtracking. Regular expressions
// are not used on user text anywhere in src/ (the lint forbids them): `/\/+$/` on a run of
// 150,000 slashes took over 20 s and held every admission behind it.

const CODE_0 = 48;
const CODE_9 = 57;
const CODE_LOWER_A = 97;
const CODE_LOWER_Z = 122;
const CODE_UPPER_A = 65;
const CODE_UPPER_Z = 90;
const CODE_DASH = 45;
const CODE_DOT = 46;
const CODE_UNDERSCORE = 95;

function isDigit(code: number): boolean {
  return code >= CODE_0 && code <= CODE_9;
}

function isLowerAlnum(code: number): boolean {
  return isDigit(code) || (code >= CODE_LOWER_A && code <= CODE_LOWER_Z);
}

/** [a-zA-Z0-9_.-]: the platform's secret name characters. */
function isNameChar(code: number): boolean {
  return (
    isLowerAlnum(code) ||
    (code >= CODE_UPPER_A && code <= CODE_UPPER_Z) ||
    code === CODE_DASH ||
    code === CODE_DOT ||
    code === CODE_UNDERSCORE
  );
}

function every(text: string, accept: (code: number) => boolean): boolean {
  for (let i = 0; i < text.length; i++) if (!accept(text.charCodeAt(i))) return false;
  return true;
}

/** 1 to 253 characters of [a-zA-Z0-9_.-] (a secret name's characters, an owner path segment). */
export function isNamePart(text: string): boolean {
  return text.length >= 1 && text.length <= 253 && every(text, isNameChar);
}

/** One or more ASCII digits, nothing else. */
export function isDigits(text: string): boolean {
  return text.length > 0 && every(text, isDigit);
}

/**
 * Lowercase letters, digits and '-' (and '.' when `dots`), starting and ending with a letter or
 * digit. No length bound: callers bound it.
 */
function isLowerName(text: string, dots: boolean): boolean {
  if (text.length === 0) return false;
  if (!isLowerAlnum(text.charCodeAt(0)) || !isLowerAlnum(text.charCodeAt(text.length - 1))) return false;
  return every(text, (code) => isLowerAlnum(code) || code === CODE_DASH || (dots && code === CODE_DOT));
}

/** A DNS label's characters: [a-z0-9-], starting and ending with [a-z0-9]. */
export function isDnsLabel(text: string): boolean {
  return isLowerName(text, false);
}

/** A DNS subdomain's characters: [a-z0-9.-], starting and ending with [a-z0-9]. */
export function isDnsSubdomain(text: string): boolean {
  return isLowerName(text, true);
}

/** The text without its trailing run of `char` (one character). */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Every character outside [a-z0-9-] replaced by "-". */
export function toDnsLabelChars(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += isLowerAlnum(code) || code === CODE_DASH ? text[i] : "-";
  }
  return out;
}

/** The text between `prefix` and `suffix` when it has both around a non-empty middle. */
export function between(text: string, prefix: string, suffix: string): string | undefined {
  if (text.length <= prefix.length + suffix.length) return undefined;
  if (!text.startsWith(prefix) || !text.endsWith(suffix)) return undefined;
  return text.slice(prefix.length, text.length - suffix.length);
}

/** A leading run of ASCII digits and the rest of the text. */
export function splitDigits(text: string): { digits: string; rest: string } {
  let end = 0;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return { digits: text.slice(0, end), rest: text.slice(end) };
}
