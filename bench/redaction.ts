/**
 * PII redaction cost per 100 KB of text (not a test; `npm run bench`), for hostile shapes of text and for
 * ordinary chat, at 10 KB, 100 KB and 1 MB. Linear time shows as a flat ms/100 KB across the sizes. The
 * baseline, measured in the same run on the same text, is one linear regular-expression pass
 * (`text.replace(/[0-9@]/g, "#")`): the least any redactor has to do. "before" is the e-mail pattern the
 * redactor used to run, on the shapes where it backtracked (10 KB and 100 KB only: 1 MB took minutes).
 * Target: a few ms per 10 KB, i.e. ≤ 50 ms/100 KB at every size.
 */
import { redactPii } from "../service/src/redaction";
import { median, writeResult } from "./lib";

const KB = 1024;
const SIZES = [10 * KB, 100 * KB, 1024 * KB];
const OLD_EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

const CHAT = [
  "Hi, I ordered a standing desk last week and it still hasn't arrived. Can you check order 55123?",
  "Sure, you can reach me at jane.doe@example.com or on +44 20 7946 0958 after 5pm.",
  "I was charged twice on my card 4111 1111 1111 1111, please refund one of them.",
  "Also, how do I invite my team? We are 12 people and I'd like to compare the Pro and Team plans.",
  "My IBAN for the refund is DE89 3704 0044 0532 0130 00, thanks!",
  "The invoice from 2026-11-22 shows $1,234.56 but the quote said $999.",
].join(" ");

/** Each shape repeated to the wanted length. */
const SHAPES: Record<string, string> = {
  "chat text": `${CHAT} `,
  "digit run": "1234567890",
  "digits and spaces": "1 ",
  "digit pairs": "22 ",
  "separator runs": "1 - . / ( ) - . / ",
  "a@a@a@…": "a@",
  "a.a.a.…": "a.",
  "near-IBANs": "DE89 3704 0044 0532 0130 01 ",
  "failed-Luhn cards": "4111 1111 1111 1112 ",
  "phone numbers": "+1 (415) 555-0132, ",
  "ten 1-digit groups": "1 1 1 1 1 1 1 1 1 1, ",
  "+ and 1-digit groups": "+1 1 1 1 1 1 1, ",
  "long local part, then @": "a",
  "brackets and pluses": "((+(+)(",
  "SSN-shaped": "ssn 123456780, ",
};

const fill = (unit: string, size: number) =>
  unit === "a" ? `${"a".repeat(size - 1)}@` : unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Median and fastest of `runs` timings: on a shared machine the median carries other processes' noise. */
function timeMs(fn: () => unknown, runs: number): { median: number; min: number } {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return { median: median(samples), min: Math.min(...samples) };
}

const per100KB = (ms: number, size: number) => Number(((ms * 100 * KB) / size).toFixed(2));
const rows: Record<string, string | number>[] = [];
const shapes: Record<string, unknown> = {};
// Warm up the JIT on every shape first, so the 10 KB figures are not compile time.
for (const unit of Object.values(SHAPES)) for (let i = 0; i < 5; i++) redactPii(fill(unit, 10 * KB));

for (const [name, unit] of Object.entries(SHAPES)) {
  const bySize: Record<string, unknown> = {};
  for (const size of SIZES) {
    const text = fill(unit, size);
    const runs = size <= 10 * KB ? 31 : size <= 100 * KB ? 11 : 5;
    const redact = timeMs(() => redactPii(text), runs);
    const baseline = timeMs(() => text.replace(/[0-9@]/g, "#"), runs);
    const before = size <= 100 * KB ? timeMs(() => text.replace(OLD_EMAIL, "[EMAIL]"), 1).median : undefined;
    const label = `${size / KB} KB`;
    bySize[label] = {
      redactMsPer100KB: per100KB(redact.median, size),
      redactMinMsPer100KB: per100KB(redact.min, size),
      baselineMsPer100KB: per100KB(baseline.median, size),
      ratioToBaseline: Number((redact.median / baseline.median).toFixed(1)),
      ...(before !== undefined ? { oldEmailPatternMsPer100KB: per100KB(before, size) } : {}),
    };
    rows.push({
      shape: name,
      size: label,
      "ms/100KB": per100KB(redact.median, size),
      fastest: per100KB(redact.min, size),
      baseline: per100KB(baseline.median, size),
      "× baseline": Number((redact.median / baseline.median).toFixed(1)),
      "old e-mail pattern": before === undefined ? "–" : per100KB(before, size),
    });
  }
  shapes[name] = bySize;
}
console.table(rows);
const worst = Math.max(...rows.map((r) => Number(r["ms/100KB"])));
const result = writeResult("redaction", {
  sizes: SIZES.map((s) => `${s / KB} KB`),
  baseline: "text.replace(/[0-9@]/g, '#'), same text, same run",
  shapes,
  worstMsPer100KB: worst,
  worstMsPer10KB: Number((worst / 10).toFixed(2)),
  targetMsPer100KB: 50,
});
console.log(`worst: ${result.worstMsPer100KB} ms/100KB (${result.worstMsPer10KB} ms per 10 KB)`);
