import { type DigitRun, forEachDigitRun } from "./digit-runs";
import { precededBy, type Span } from "./text";

/**
 * A nine-digit number is redacted as an SSN only after a word that says so. About 89 % of all nine-digit
 * numbers pass the SSA's rules, so without that word nearly every order, ticket or tracking number of
 * nine digits would become [SSN] and the assistant could no longer look it up; with it, "my SSN is
 * 123456789" is still caught. The dashed (or spaced) 3-2-4 form is distinctive enough on its own.
 */
const SSN_CONTEXT = /\b(?:ssns?|ss#|social(?:\s+security)?|soc\.?\s*sec)\b/i;

const DASH = 45;
const SPACE = 32;

/**
 * US social security numbers the SSA could have issued: area not 000, 666 or 900–999, group not 00,
 * serial not 0000. https://www.ssa.gov/employer/randomization.html
 */
export function ssnValid(digits: string): boolean {
  const area = digits.slice(0, 3);
  return (
    /^\d{9}$/.test(digits) &&
    area !== "000" &&
    area !== "666" &&
    area[0] !== "9" &&
    digits.slice(3, 5) !== "00" &&
    digits.slice(5) !== "0000"
  );
}

/** SSNs written 123-45-6789 or 123 45 6789 (same separator twice), or as nine digits after an SSN word. */
export function findSsns(text: string): Span[] {
  const spans: Span[] = [];
  forEachDigitRun(text, (run) => {
    for (let g = 0; g < run.count; g++) {
      const width = ssnAt(text, run, g);
      if (width === 0) continue;
      spans.push({ start: run.start(g), end: run.end(g + width - 1), kind: "ssn" });
      g += width - 1;
    }
  });
  return spans;
}

/** How many groups from `g` form an SSN (3, 1 or 0). */
function ssnAt(text: string, run: DigitRun, g: number): number {
  const separator = run.separator(g + 1);
  if (
    run.width(g) === 3 &&
    run.width(g + 1) === 2 &&
    run.width(g + 2) === 4 &&
    (separator === DASH || separator === SPACE) &&
    run.separator(g + 2) === separator &&
    ssnValid(run.digits(g, g + 2))
  ) {
    return 3;
  }
  return run.width(g) === 9 && ssnValid(run.digits(g, g)) && precededBy(text, run.start(g), SSN_CONTEXT)
    ? 1
    : 0;
}
