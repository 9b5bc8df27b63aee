import { type DigitRun, forEachDigitRun } from "./digit-runs";
import type { Span } from "./text";

// Cards are printed in at most five groups (4-4-4-4-3 for 19 digits; 4-6-5 for Amex).
const MAX_GROUPS = 6;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

/**
 * Payment card numbers: 13–19 digits made of whole digit groups (never a slice of a longer group, so an
 * order number stays) joined by one kind of separator (space, -, ., / or none), that pass the Luhn check.
 * A run may hold more than the card (`4111 1111 1111 1111 12/27`): every start group is tried, longest
 * card first, and a card taken from inside a longer run must be grouped as cards are printed, so the
 * date in `2026-11-22 4111 1111 1111 1111` cannot lend its digits to a lucky Luhn match. Each start looks
 * at no more than six groups, so the scan stays linear.
 */
export function findCards(text: string): Span[] {
  const spans: Span[] = [];
  forEachDigitRun(text, (run) => {
    for (let from = 0; from < run.count; from++) {
      const to = longestCard(run, from);
      if (to === -1) continue;
      spans.push({ start: run.start(from), end: run.end(to), kind: "card" });
      from = to;
    }
  });
  return spans;
}

function longestCard(run: DigitRun, from: number): number {
  let best = -1;
  let digits = 0;
  for (let to = from; to < run.count && to < from + MAX_GROUPS; to++) {
    digits += run.width(to);
    if (digits > 19) break;
    if (
      digits >= 13 &&
      run.sameSeparator(from, to) &&
      ((from === 0 && to === run.count - 1) || printedLikeACard(run, from, to)) &&
      luhnValid(run.digits(from, to))
    ) {
      best = to;
    }
  }
  return best;
}

/** One group, or 4-4-…-n (Visa, Mastercard, …), or 4-6-n (Amex, Diners). */
function printedLikeACard(run: DigitRun, from: number, to: number): boolean {
  if (from === to) return true;
  if (run.width(from) !== 4) return false;
  if (to - from === 2 && run.width(from + 1) === 6) return true;
  for (let g = from + 1; g < to; g++) if (run.width(g) !== 4) return false;
  return true;
}
