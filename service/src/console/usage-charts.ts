import type { UsageChartKind, UsageChartRow } from "../db/usage-report";
import type { ChartData, ChartSeries } from "./charts";

/**
 * The usage page's charts, as data: which rows of db/usage-report.ts `usageDashboard` each one draws and
 * how its numbers read. Pure functions, so the page and its CSV downloads show the very same numbers.
 */

export type Measure = "tokens" | "costUsd" | "count";

export interface ChartDef {
  title: string;
  source: UsageChartKind;
  measure: Measure;
}

export const CHARTS = {
  "tokens-by-model": { title: "Tokens per day by model", source: "model", measure: "tokens" },
  "cost-by-model": { title: "Cost per day by model (USD)", source: "model", measure: "costUsd" },
  "tokens-by-channel": { title: "Tokens per day by channel", source: "channel", measure: "tokens" },
  "cost-by-channel": { title: "Cost per day by channel (USD)", source: "channel", measure: "costUsd" },
  conversations: { title: "Conversations per day by channel", source: "conversations", measure: "count" },
  escalations: { title: "Escalations per day by channel", source: "escalations", measure: "count" },
  outcomes: { title: "Answers per day by outcome", source: "outcome", measure: "count" },
} as const satisfies Record<string, ChartDef>;

export type ChartName = keyof typeof CHARTS;
export const CHART_NAMES = Object.keys(CHARTS) as ChartName[];

/** The outcomes chart's series, always all four and in this order, so its legend never moves. */
const OUTCOMES = [
  { key: "answered", label: "Answered" },
  { key: "fallback", label: "Fallback answer" },
  { key: "failed", label: "Failed" },
  { key: "handed_off", label: "Handed off" },
];

const DAY = 86_400_000;

/** Every UTC day from `from` to `to`, both included (a day without rows still gets its bar's place). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += DAY)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

const round = (v: number) => Math.round(v * 1e8) / 1e8;

/** The series of `rows` by key, one value per day (sums, in case a key appears twice on a day). */
function seriesOf(rows: readonly UsageChartRow[], days: readonly string[], measure: Measure): ChartSeries[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const byKey = new Map<string, number[]>();
  for (const row of rows) {
    const at = index.get(row.day);
    if (at === undefined) continue;
    const values = byKey.get(row.key) ?? days.map(() => 0);
    values[at] = round((values[at] ?? 0) + row[measure]);
    byKey.set(row.key, values);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, values]) => ({ key, label: key, values }));
}

/** One chart's data out of the page's rows. */
export function chartData(
  name: ChartName,
  rows: readonly UsageChartRow[],
  days: readonly string[],
): ChartData {
  const def: ChartDef = CHARTS[name];
  const own = rows.filter((r) => r.chart === def.source);
  if (name !== "outcomes") return { days, series: seriesOf(own, days, def.measure) };
  // Handed off: the day's escalations, whatever their channel.
  const handedOff = seriesOf(
    rows.filter((r) => r.chart === "escalations").map((r) => ({ ...r, key: "handed_off" })),
    days,
    "count",
  );
  const found = new Map([...seriesOf(own, days, "count"), ...handedOff].map((s) => [s.key, s.values]));
  return {
    days,
    series: OUTCOMES.map((o) => ({ ...o, values: found.get(o.key) ?? days.map(() => 0) })),
  };
}

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** How a measure's numbers read: whole numbers with separators; dollars to the hundredth of a cent. */
export function formatOf(measure: Measure): (v: number) => string {
  if (measure === "costUsd") return (v) => `$${v.toFixed(4)}`;
  return (v) => whole.format(v);
}
