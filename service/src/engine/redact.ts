/**
 * PII redaction for text on its way to a model or a log line: e-mail addresses, phone numbers, payment
 * card numbers (only digit runs that pass the Luhn check, so order numbers survive) and US social security
 * numbers. Each is replaced by a typed placeholder the model can still reason about ("[EMAIL]").
 */

export type PiiKind = "email" | "card" | "ssn" | "phone";
export interface Redaction {
  text: string;
  counts: Record<PiiKind, number>;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// 13–19 digits, optionally grouped by single spaces or dashes.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
// Area 000/666/9xx, group 00 and serial 0000 are never issued.
const SSN = /(?<!\d)(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?!\d)/g;
// International (+CC …) or North-American shaped numbers with at least 9 digits in all, never a slice of
// a longer digit group (an order number that failed the card check stays as it is).
const PHONE =
  /(?<![\w+]|\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?!\w|[ .-]\d)/g;

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

export function redactPii(input: string): Redaction {
  const counts: Record<PiiKind, number> = { email: 0, card: 0, ssn: 0, phone: 0 };
  // Cheap exit for the common case: nothing that could be PII has a digit or an @.
  if (!/[\d@]/.test(input)) return { text: input, counts };
  let text = input.replace(EMAIL, () => {
    counts.email++;
    return "[EMAIL]";
  });
  text = text.replace(CARD, (match) => {
    if (!luhnValid(match.replace(/[ -]/g, ""))) return match;
    counts.card++;
    return "[CARD]";
  });
  text = text.replace(SSN, () => {
    counts.ssn++;
    return "[SSN]";
  });
  text = text.replace(PHONE, (match) => {
    if (match.replace(/\D/g, "").length < 9) return match;
    counts.phone++;
    return "[PHONE]";
  });
  return { text, counts };
}
