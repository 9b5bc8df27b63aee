/**
 * PII redaction for text on its way to a model or a log line: e-mail addresses, IBANs, payment card
 * numbers, US social security numbers and phone numbers. Each is replaced by a typed placeholder the model
 * can still reason about ("[EMAIL]"). A leaf module: the engine, the channels and the logger all use it.
 *
 * Every detector reads the text in one linear pass (no backtracking pattern, no rescan), so a megabyte of
 * hostile text costs milliseconds, not minutes (`npm run bench` → bench/redaction.ts).
 */
import { findCards } from "./cards";
import { findEmails } from "./email";
import { findIbans } from "./iban";
import { findPhones } from "./phones";
import { findSsns } from "./ssn";
import { foldWidth, maskSpans, type PiiKind, replaceSpans, type Span } from "./text";

export { luhnValid } from "./cards";
export { mod97Valid } from "./iban";
export { ssnValid } from "./ssn";
export type { PiiKind } from "./text";

export interface Redaction {
  text: string;
  counts: Record<PiiKind, number>;
}

/**
 * In this order: an IBAN's digits could pass for a card, a card's for a phone number; what an earlier
 * detector found is masked before the next one reads the text.
 */
const DETECTORS: readonly ((text: string) => Span[])[] = [
  findEmails,
  findIbans,
  findCards,
  findSsns,
  findPhones,
];

// Nothing that could be PII lacks a digit or an @ (in ASCII or full width).
const MAYBE_PII = /[\d@\uFF10-\uFF20]/;

export function redactPii(input: string): Redaction {
  const counts: Record<PiiKind, number> = { email: 0, iban: 0, card: 0, ssn: 0, phone: 0 };
  if (!MAYBE_PII.test(input)) return { text: input, counts };
  let text = foldWidth(input);
  const spans: Span[] = [];
  for (const detect of DETECTORS) {
    const found = detect(text);
    if (found.length === 0) continue;
    for (const span of found) spans.push(span);
    text = maskSpans(text, found);
  }
  if (spans.length === 0) return { text: input, counts };
  spans.sort((a, b) => a.start - b.start);
  for (const span of spans) counts[span.kind]++;
  return { text: replaceSpans(input, spans), counts };
}
