import { isAlphanumeric, isLetter, type Span } from "./text";

// The local part: letters, digits and . _ % + -  (the same set as the pattern this replaces).
const isLocalChar = (code: number) =>
  isAlphanumeric(code) || code === 46 || code === 95 || code === 37 || code === 43 || code === 45;
const isLabelChar = (code: number) => isAlphanumeric(code) || code === 45;

/**
 * E-mail addresses, found by walking out from each `@` instead of with a regular expression: the pattern
 * `[…]+@[…]+(\.[…]+)*\.[A-Za-z]{2,}` backtracks over every start position of a long run of local-part
 * characters (1 MB of digits took minutes). Here each character is read at most twice — once walking
 * left from the `@` after it, once walking right from the `@` before it — as `@` belongs to neither
 * part. Matches what that pattern matched: the longest domain ending in a label that starts with two
 * or more letters.
 */
export function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  let taken = 0; // characters before this belong to an earlier address
  let at = text.indexOf("@");
  while (at !== -1) {
    let start = at;
    while (start > taken && isLocalChar(text.charCodeAt(start - 1))) start--;
    const end = start < at ? domainEnd(text, at + 1) : -1;
    if (end !== -1) {
      spans.push({ start, end, kind: "email" });
      taken = end;
    }
    at = text.indexOf("@", Math.max(at + 1, taken));
  }
  return spans;
}

/** End of the longest `label(.label)*.tld` starting at `from`, or -1. */
function domainEnd(text: string, from: number): number {
  let best = -1;
  let labelStart = from;
  for (let label = 0; ; label++) {
    let end = labelStart;
    while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
    if (end === labelStart) return best;
    if (label > 0) {
      let letters = labelStart;
      while (letters < end && isLetter(text.charCodeAt(letters))) letters++;
      if (letters - labelStart >= 2) best = letters;
    }
    if (text.charCodeAt(end) !== 46) return best;
    labelStart = end + 1;
  }
}
