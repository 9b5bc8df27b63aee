import { isDigit } from "./text";

// Space, no-break space, - . / and the Unicode hyphens and dashes (U+2010–2014): how people group card
// numbers and SSNs. Full-width forms are folded to ASCII before this runs.
const isGroupSeparator = (code: number) =>
  code === 32 ||
  code === 0xa0 ||
  code === 45 ||
  code === 46 ||
  code === 47 ||
  (code >= 0x2010 && code <= 0x2014);

/**
 * One run of digit groups joined by exactly one separator character (`4111 1111 1111 1111`,
 * `123-45-6789`). Kept in typed arrays reused from run to run: a hostile run of half a million groups
 * ("1 1 1 …") must not become half a million objects for the garbage collector.
 */
export class DigitRun {
  count = 0;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private separators = new Int32Array(64);

  constructor(readonly text: string) {}

  // The arrays outlive the run (reused): read only below `count`.
  start(g: number): number {
    return g < this.count ? (this.starts[g] ?? -1) : -1;
  }
  end(g: number): number {
    return g < this.count ? (this.ends[g] ?? -1) : -1;
  }
  /** The separator character before group `g` (0 before the first). */
  separator(g: number): number {
    return g < this.count ? (this.separators[g] ?? 0) : 0;
  }
  width(g: number): number {
    return g < this.count ? this.end(g) - this.start(g) : 0;
  }
  /** The digits of groups `from`..`to` (inclusive), without separators. */
  digits(from: number, to: number): string {
    let digits = "";
    for (let g = from; g <= to; g++) digits += this.text.slice(this.start(g), this.end(g));
    return digits;
  }
  /** Whether groups `from`..`to` are joined by one and the same separator character. */
  sameSeparator(from: number, to: number): boolean {
    for (let g = from + 2; g <= to; g++) if (this.separator(g) !== this.separator(from + 1)) return false;
    return true;
  }

  push(start: number, end: number, separator: number): void {
    if (this.count === this.starts.length) this.grow();
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.separators[this.count] = separator;
    this.count++;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    for (const key of ["starts", "ends", "separators"] as const) {
      const bigger = new Int32Array(size);
      bigger.set(this[key]);
      this[key] = bigger;
    }
  }
}

/** Calls `onRun` with every run of digit groups in the text, in one pass (the run object is reused). */
export function forEachDigitRun(text: string, onRun: (run: DigitRun) => void): void {
  const run = new DigitRun(text);
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    run.count = 0;
    let separator = 0;
    for (;;) {
      const start = i;
      while (i < text.length && isDigit(text.charCodeAt(i))) i++;
      run.push(start, i, separator);
      const next = text.charCodeAt(i);
      if (!isGroupSeparator(next) || !isDigit(text.charCodeAt(i + 1))) break;
      separator = next;
      i++;
    }
    onRun(run);
  }
}
