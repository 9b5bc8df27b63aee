// The "min" metadata (about 80 kB, of "min" / "mobile" / "max"): it checks a number's length and leading
// digits per country, where "max" (145 kB) adds per-type patterns that reject numbers from ranges newer
// than the metadata. For redaction the looser check is the right one: a false positive costs a
// placeholder, a false negative leaks a number. "mobile" would miss landlines.
import { findPhoneNumbersInText } from "libphonenumber-js/min";
import { isDigit, precededBy, type Span } from "./text";

/**
 * Numbers written without a country code are read as North American: the service's users so far write
 * "(415) 555-0132". Anything written with `+` (or 011) is found for every country.
 */
const DEFAULT_COUNTRY = "US";

/** The fewest digits of an international number (Niue: +683 4002), and of a North American one. */
const MIN_INTERNATIONAL_DIGITS = 7;
const MIN_NATIONAL_DIGITS = 10;

/**
 * A bare run of digits (no +, no brackets, no separators) is a phone number only after a word that says
 * so: "call me at 4155550132" is one, "order 2345678901" is not (libphonenumber would accept both).
 */
const PHONE_CONTEXT =
  /\b(?:phone|tel|telephone|call|calling|cell|mobile|whatsapp|sms|text me|fax|reach me|number is)\b/i;

/**
 * libphonenumber-js costs tens of µs per digit group it examines, and on one long run of groups it retries
 * inner matches group by group: given 1 MB of "1 1 1 1 …" whole it took several seconds. So the text is cut
 * into candidate runs here (digits and the punctuation phone numbers are written with, bounded by anything
 * else), only plausible ones are handed to it, and it gets a budget of digit groups proportional to the
 * text's length. Once the budget is spent, the candidate at hand and every later one are redacted whole
 * without asking (fail closed): only hostile or number-dense text gets that far.
 */
const BUDGET_BASE_GROUPS = 32;
const BUDGET_CHARS_PER_GROUP = 256;

export function findPhones(text: string): Span[] {
  const spans: Span[] = [];
  let budget = BUDGET_BASE_GROUPS + Math.floor(text.length / BUDGET_CHARS_PER_GROUP);
  forEachCandidate(text, (candidate) => {
    if (!couldBePhone(text, candidate)) return;
    if (candidate.groups > budget) {
      spans.push({ start: candidate.start, end: candidate.end, kind: "phone" });
      budget = 0;
      return;
    }
    budget -= candidate.groups;
    spans.push(...phonesIn(text, candidate.start, candidate.end));
  });
  return spans;
}

/** Cheap checks before asking libphonenumber: enough digits, and a reason to read a bare digit run. */
function couldBePhone(text: string, candidate: Candidate): boolean {
  if (candidate.digits < (candidate.plus ? MIN_INTERNATIONAL_DIGITS : MIN_NATIONAL_DIGITS)) return false;
  if (!candidate.bare) return true;
  return candidate.digits <= 15 && precededBy(text, candidate.start, PHONE_CONTEXT);
}

/** libphonenumber on one candidate, with a character of context either side (it rejects "x4155550132"). */
function phonesIn(text: string, start: number, end: number): Span[] {
  const from = Math.max(0, start - 1);
  const window = text.slice(from, Math.min(text.length, end + 1));
  const spans: Span[] = [];
  for (const found of findPhoneNumbersInText(window, DEFAULT_COUNTRY)) {
    const s = from + found.startsAt;
    const e = from + found.endsAt;
    // Never a slice of a longer digit group: an order number that failed the card check stays whole.
    if (isDigit(text.charCodeAt(s - 1)) || isDigit(text.charCodeAt(e))) continue;
    spans.push({ start: s, end: e, kind: "phone" });
  }
  return spans;
}

interface Candidate {
  start: number;
  end: number;
  digits: number;
  groups: number;
  /** One group of digits and nothing else. */
  bare: boolean;
  /** Holds a + (an international number). */
  plus: boolean;
}

// Digits, + ( ) - . / space, no-break space and the Unicode dashes: what phone numbers are written with.
const isPhoneChar = (code: number) =>
  isDigit(code) ||
  code === 32 ||
  code === 0xa0 ||
  (code >= 40 && code <= 41) ||
  code === 43 ||
  (code >= 45 && code <= 47) ||
  (code >= 0x2010 && code <= 0x2015) ||
  code === 0x2212;

/**
 * Calls `onCandidate` for each maximal run of phone characters, trimmed to start at a digit, + or ( and
 * to end at a digit or ).
 */
function forEachCandidate(text: string, onCandidate: (candidate: Candidate) => void): void {
  let i = 0;
  while (i < text.length) {
    if (!isPhoneChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let start = -1;
    let end = -1;
    let digits = 0;
    let groups = 0;
    let plus = false;
    for (; i < text.length && isPhoneChar(text.charCodeAt(i)); i++) {
      const code = text.charCodeAt(i);
      if (isDigit(code)) {
        if (start === -1) start = i;
        if (!isDigit(text.charCodeAt(i - 1))) groups++;
        digits++;
        end = i + 1;
      } else if (code === 43 || code === 40) {
        if (start === -1) start = i;
        if (code === 43) plus = true;
      } else if (start !== -1 && code === 41) {
        end = i + 1;
      }
    }
    if (digits === 0) continue;
    onCandidate({ start, end, digits, groups, bare: groups === 1 && end - start === digits, plus });
  }
}
