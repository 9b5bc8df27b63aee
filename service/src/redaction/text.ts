/** The kinds of personal data the redactor finds; each is replaced by `[KIND]`. */
export type PiiKind = "email" | "iban" | "card" | "ssn" | "phone";

/** A half-open range `[start, end)` of the text that holds one piece of personal data. */
export interface Span {
  start: number;
  end: number;
  kind: PiiKind;
}

const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/;
const FULL_WIDTH_ALL = /[\uFF01-\uFF5E\u3000]/g;

/**
 * Full-width forms (U+FF01–FF5E: `４１１１`, `＠`, `－`) folded to their ASCII twins and the ideographic
 * space to a space. Each is one UTF-16 unit for one, so an index into the folded text is an index into
 * the original: detection runs on the folded text, replacement on the original.
 */
export function foldWidth(text: string): string {
  if (!FULL_WIDTH.test(text)) return text;
  return text.replace(FULL_WIDTH_ALL, (c) =>
    c === "\u3000" ? " " : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/** The text with each span overwritten by NUL characters (same length), so later detectors skip it. */
export function maskSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const parts: string[] = [];
  let at = 0;
  for (const span of spans) {
    parts.push(text.slice(at, span.start), "\0".repeat(span.end - span.start));
    at = span.end;
  }
  parts.push(text.slice(at));
  return parts.join("");
}

/** The original text with every span (sorted, disjoint) replaced by its placeholder, in one pass. */
export function replaceSpans(text: string, spans: readonly Span[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const span of spans) {
    parts.push(text.slice(at, span.start), `[${span.kind.toUpperCase()}]`);
    at = span.end;
  }
  parts.push(text.slice(at));
  return parts.join("");
}

/** Whether `pattern` occurs in the few characters before `start` (a bounded look, so linear overall). */
export function precededBy(text: string, start: number, pattern: RegExp, window = 40): boolean {
  return pattern.test(text.slice(Math.max(0, start - window), start));
}

export const isDigit = (code: number) => code >= 48 && code <= 57;
export const isLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
export const isAlphanumeric = (code: number) => isDigit(code) || isLetter(code);
