import { describe, expect, test } from "vitest";
import {
  ChartTable,
  chartCsv,
  labelledDays,
  niceMax,
  StackedBars,
  summaryOf,
  ticksOf,
  topOf,
} from "../../service/src/console/charts";
import { chartData, daysBetween, formatOf } from "../../service/src/console/usage-charts";
import type { UsageChartRow } from "../../service/src/db/usage-report";

/** The console's SVG charts (console/charts.tsx) and the usage page's series (console/usage-charts.ts). */

const days = ["2026-11-01", "2026-11-02", "2026-11-03"];
const count = formatOf("count");
const render = (node: unknown) => String(node);

describe("the value axis", () => {
  test("tops at a round number at or above the largest bar", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(10)).toBe(10);
    expect(niceMax(11)).toBe(20);
    expect(niceMax(230)).toBe(250);
    expect(niceMax(0.0031)).toBeCloseTo(0.005);
    expect(ticksOf(250)).toEqual([0, 50, 100, 150, 200, 250]);
  });

  test("of a count shows whole numbers only, however small the counts", () => {
    const ones = { days, series: [{ key: "web", label: "web", values: [1, 0, 2] }] };
    expect(topOf(ones, true)).toBe(5);
    expect(ticksOf(topOf(ones, true))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(topOf(ones)).toBe(2);
    for (const max of [7, 13, 24, 99, 180, 4321]) {
      const many = { days: ["2026-11-01"], series: [{ key: "k", label: "k", values: [max] }] };
      expect(ticksOf(topOf(many, true)).every(Number.isInteger), `ticks for ${max}`).toBe(true);
    }
    const svg = render(StackedBars({ id: "c", title: "Counts", data: ones, format: count, integer: true }));
    const labels = [...svg.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(["0", "1", "2", "3", "4", "5"]);
  });

  test("labels about six days, always the first and the last", () => {
    expect(labelledDays(0)).toEqual([]);
    expect(labelledDays(3)).toEqual([0, 1, 2]);
    const ninety = labelledDays(90);
    expect(ninety[0]).toBe(0);
    expect(ninety.at(-1)).toBe(89);
    expect(ninety.length).toBeLessThanOrEqual(8);
  });
});

describe("a stacked bar chart", () => {
  const data = {
    days,
    series: [
      { key: "a", label: "gemini", values: [10, 0, 30] },
      { key: "b", label: "local", values: [5, 0, 0] },
    ],
  };

  test("draws a bar segment per non-zero value, as tall as its share of the axis", () => {
    const svg = render(StackedBars({ id: "t", title: "Tokens", data, format: count }));
    // Axis top 50 (max day total 30 → 50), plot height 260 - 12 - 28 = 220: 30 → 132, 10 → 44, 5 → 22.
    const heights = [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(heights.sort((x, y) => x - y)).toEqual([22, 44, 132]);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-labelledby="t-title t-desc"');
    expect(svg).toContain('<title id="t-title">Tokens</title>');
    expect(svg).toContain("2026-11-03 · gemini: 30");
    expect(svg).not.toContain("style=");
  });

  test("with no data still draws its axes and says there is nothing", () => {
    const empty = { days, series: [] };
    const svg = render(StackedBars({ id: "e", title: "Nothing", data: empty, format: count }));
    expect(svg).toContain("<svg");
    expect(svg).not.toContain("<rect x=");
    expect(summaryOf(empty, count)).toBe("Nothing in the 3 days shown.");
  });

  test("sums the series and names the busiest day in its summary", () => {
    expect(summaryOf(data, count)).toBe(
      "45 in 3 days (gemini 40, local 5); the busiest day was 2026-11-03 with 30.",
    );
  });

  test("escapes labels in the SVG, the legend, the table and quotes them in the CSV", () => {
    const evil = { days, series: [{ key: "x", label: '<script>alert("x")</script>', values: [1, 2, 3] }] };
    const svg = render(StackedBars({ id: "x", title: "<b>t</b>", data: evil, format: count }));
    const table = render(ChartTable({ caption: "c", data: evil, format: count }));
    for (const html of [svg, table]) {
      expect(html).not.toContain("<script>");
      expect(html).toContain("&lt;script&gt;");
    }
    expect(svg).not.toContain("<b>");
    expect(chartCsv({ days, series: [{ key: "m", label: '=cmd,"x"', values: [1, 0, 2] }] })).toBe(
      '"day","\'=cmd,""x""","total"\r\n"2026-11-01","1","1"\r\n"2026-11-02","0","0"\r\n"2026-11-03","2","2"\r\n',
    );
  });
});

describe("the usage page's series", () => {
  const row = (chart: UsageChartRow["chart"], day: string, key: string, n: number): UsageChartRow => ({
    chart,
    day,
    key,
    tokens: n * 100,
    costUsd: n / 1000,
    count: n,
  });

  test("fill every day of the period, zero where nothing happened", () => {
    expect(daysBetween("2026-10-30", "2026-11-02")).toEqual([
      "2026-10-30",
      "2026-10-31",
      "2026-11-01",
      "2026-11-02",
    ]);
    const data = chartData("tokens-by-model", [row("model", "2026-11-02", "gemini", 3)], days);
    expect(data.series).toEqual([{ key: "gemini", label: "gemini", values: [0, 300, 0] }]);
  });

  test("outcomes: answered, fallback, failed and handed off (the day's escalations) always", () => {
    const rows = [
      row("outcome", "2026-11-01", "answered", 4),
      row("outcome", "2026-11-01", "fallback", 1),
      row("escalations", "2026-11-01", "web", 1),
      row("escalations", "2026-11-01", "sms", 2),
    ];
    const data = chartData("outcomes", rows, days);
    expect(data.series.map((s) => [s.label, s.values[0]])).toEqual([
      ["Answered", 4],
      ["Fallback answer", 1],
      ["Failed", 0],
      ["Handed off", 3],
    ]);
  });

  test("cost reads in dollars, counts with separators", () => {
    expect(formatOf("costUsd")(0.01234)).toBe("$0.0123");
    expect(formatOf("tokens")(1234567)).toBe("1,234,567");
  });
});
