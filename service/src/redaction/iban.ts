import { isAlphanumeric, isDigit, isLetter, type Span } from "./text";

/**
 * IBAN length per country, from SWIFT's IBAN registry (the "IBAN structure" table of every country in it;
 * dependent territories use their parent's code, e.g. FR for Réunion, GB for Jersey).
 * https://www.swift.com/standards/data-standards/iban-international-bank-account-number
 */
// biome-ignore format: a table reads better in rows
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const isSpace = (code: number) => code === 32 || code === 0xa0;

/**
 * IBANs, electronic (`DE89370400440532013000`) or printed in groups (`DE89 3704 0044 0532 0130 00`), in
 * either case: two letters of a registered country, two check digits, then exactly that country's length
 * in letters and digits with at most one space between any two, ending at a word boundary, and passing
 * the ISO 7064 mod-97 check. Candidates start only at a word start and read at most 2 × 34 characters,
 * so the scan is linear.
 */
export function findIbans(text: string): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i + 4 <= text.length; i++) {
    if (!startsLikeIban(text, i)) continue;
    const length = IBAN_LENGTHS[text.slice(i, i + 2).toUpperCase()];
    if (length === undefined) continue;
    const end = endOfCharacters(text, i, length);
    if (end === -1 || isAlphanumeric(text.charCodeAt(end)) || !mod97Valid(text, i, end)) continue;
    spans.push({ start: i, end, kind: "iban" });
    i = end - 1;
  }
  return spans;
}

function startsLikeIban(text: string, i: number): boolean {
  return (
    isLetter(text.charCodeAt(i)) &&
    isLetter(text.charCodeAt(i + 1)) &&
    isDigit(text.charCodeAt(i + 2)) &&
    isDigit(text.charCodeAt(i + 3)) &&
    (i === 0 || !isAlphanumeric(text.charCodeAt(i - 1)))
  );
}

/** Index just past the `count`-th letter or digit from `start`, single spaces allowed between; else -1. */
function endOfCharacters(text: string, start: number, count: number): number {
  let seen = 0;
  let i = start;
  while (seen < count && i < text.length) {
    const code = text.charCodeAt(i);
    if (isAlphanumeric(code)) {
      seen++;
      i++;
    } else if (seen > 0 && isSpace(code) && isAlphanumeric(text.charCodeAt(i + 1))) {
      i++;
    } else {
      return -1;
    }
  }
  return seen === count ? i : -1;
}

/** ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end (A = 10 … Z = 35). */
export function mod97Valid(text: string, start: number, end: number): boolean {
  const chars = text
    .slice(start, end)
    .replace(/[\s\u00a0]/g, "")
    .toUpperCase();
  const rearranged = chars.slice(4) + chars.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    remainder = isDigit(code) ? (remainder * 10 + (code - 48)) % 97 : (remainder * 100 + (code - 55)) % 97;
  }
  return remainder === 1;
}
