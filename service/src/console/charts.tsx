/**
 * Server-rendered SVG charts of the console (the usage page): pure functions from series to markup, no
 * client script and no inline `style` (the console's Content-Security-Policy forbids inline styles, so
 * colours are SVG presentation attributes). Colour is never the only cue: every series also has a fill
 * pattern, shown in the legend, and the numbers are in a table beside each chart. Labels are text nodes
 * escaped by Hono's JSX.
 */

import { csvRow } from "../routes/admin/csv";

/** One series of a chart: a value per day of `ChartData.days`, in the same order. */
export interface ChartSeries {
  key: string;
  label: string;
  values: readonly number[];
}

export interface ChartData {
  days: readonly string[];
  series: readonly ChartSeries[];
}

export interface ChartProps {
  /** A page-unique id: the title's, the description's and the fill patterns' ids derive from it. */
  id: string;
  title: string;
  data: ChartData;
  format: (value: number) => string;
  /** Counts: the axis shows whole numbers only (its top is at least 5). */
  integer?: boolean | undefined;
}

/**
 * Colours with at least 4.5:1 contrast against white (WCAG asks 3:1 of graphics), in an order that keeps
 * neighbours apart in hue; after the seventh series they repeat with the next pattern.
 */
export const PALETTE = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0f766e", "#4b5563"];
/** Fill patterns, so two series are told apart without colour (the first is solid). */
export const PATTERNS = ["solid", "stripes", "dots", "cross", "rows", "columns", "checks"] as const;

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { top: 12, right: 12, bottom: 28, left: 64 };

/** The top of the value axis: the smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `max` (1 for no data). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= max * (1 - 1e-9)) ?? 10;
  return step * power;
}

/** The value axis's top for the data: a nice number, and at least 5 for a whole-number chart. */
export function topOf(data: ChartData, integer = false): number {
  const top = niceMax(Math.max(0, ...totalsOf(data)));
  return integer ? Math.max(5, top) : top;
}

/**
 * Evenly spaced values from 0 to `top`. Five steps: every `niceMax` top (1, 2, 2.5, 5 × 10ⁿ) divides into
 * round fifths, and a whole-number chart's top of at least 5 into whole numbers.
 */
export const ticksOf = (top: number, count = 5): number[] =>
  Array.from({ length: count + 1 }, (_, i) => (top * i) / count);

/** Each day's sum over the series (the height of a stacked bar). */
export const totalsOf = (data: ChartData): number[] =>
  data.days.map((_, i) => data.series.reduce((n, s) => n + (s.values[i] ?? 0), 0));

/** The chart's numbers in one sentence, for people who do not see it (and for everyone, a glance). */
export function summaryOf(data: ChartData, format: (v: number) => string): string {
  const totals = totalsOf(data);
  const sum = totals.reduce((a, b) => a + b, 0);
  if (sum === 0) return `Nothing in the ${data.days.length} days shown.`;
  const peak = totals.indexOf(Math.max(...totals));
  const parts = data.series
    .map((s) => ({ label: s.label, total: s.values.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total)
    .map((s) => `${s.label} ${format(s.total)}`);
  return `${format(sum)} in ${data.days.length} days (${parts.join(", ")}); the busiest day was ${data.days[peak]} with ${format(totals[peak] ?? 0)}.`;
}

const patternId = (chartId: string, i: number) => `${chartId}-fill-${i}`;

/** The fill of series `i`: its colour with its pattern drawn over it in white. */
function Fill(props: { id: string; index: number }) {
  const colour = PALETTE[props.index % PALETTE.length];
  // Past the palette's end the colours repeat, each with the next pattern.
  const pattern = PATTERNS[(props.index + Math.floor(props.index / PALETTE.length)) % PATTERNS.length];
  return (
    <pattern id={patternId(props.id, props.index)} width="8" height="8" patternUnits="userSpaceOnUse">
      <rect width="8" height="8" fill={colour} />
      {pattern === "stripes" ? (
        <path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" stroke-width="1.5" />
      ) : null}
      {pattern === "dots" ? <circle cx="4" cy="4" r="1.6" fill="#fff" /> : null}
      {pattern === "cross" ? <path d="M0,0 l8,8 M8,0 l-8,8" stroke="#fff" stroke-width="1" /> : null}
      {pattern === "rows" ? <path d="M0,4 h8" stroke="#fff" stroke-width="1.5" /> : null}
      {pattern === "columns" ? <path d="M4,0 v8" stroke="#fff" stroke-width="1.5" /> : null}
      {pattern === "checks" ? <rect width="4" height="4" fill="#fff" fill-opacity="0.6" /> : null}
    </pattern>
  );
}

/** Which days get a label under the axis: about six, always the first and the last. */
export function labelledDays(count: number): number[] {
  if (count <= 0) return [];
  const step = Math.max(1, Math.ceil(count / 6));
  const picked = Array.from({ length: count }, (_, i) => i).filter((i) => i % step === 0);
  if (picked.at(-1) !== count - 1) picked.push(count - 1);
  return picked;
}

function Axes(props: { top: number; days: readonly string[]; format: (v: number) => string }) {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(1, props.days.length);
  return (
    <g class="axes">
      {ticksOf(props.top).map((t) => {
        const y = PAD.top + plotH - (t / props.top) * plotH;
        return (
          <g>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} stroke="#d9e2ec" />
            <text x={PAD.left - 6} y={y + 4} text-anchor="end" fill="#52606d" font-size="11">
              {props.format(t)}
            </text>
          </g>
        );
      })}
      {labelledDays(props.days.length).map((i) => (
        <text
          x={PAD.left + slot * (i + 0.5)}
          y={HEIGHT - 8}
          text-anchor="middle"
          fill="#52606d"
          font-size="11"
        >
          {(props.days[i] ?? "").slice(5)}
        </text>
      ))}
    </g>
  );
}

/** The stacked bars: one per day, one segment per series with a value, each with a tooltip title. */
function Bars(props: { id: string; top: number; data: ChartData; format: (v: number) => string }) {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(1, props.data.days.length);
  const width = Math.max(1, slot * 0.8);
  return (
    <g class="bars">
      {props.data.days.map((day, d) => {
        let base = PAD.top + plotH;
        return props.data.series.map((s, i) => {
          const value = s.values[d] ?? 0;
          if (value <= 0) return null;
          const h = (value / props.top) * plotH;
          base -= h;
          return (
            <rect
              x={PAD.left + slot * d + (slot - width) / 2}
              y={base}
              width={width}
              height={h}
              fill={`url(#${patternId(props.id, i)})`}
              stroke="#fff"
              stroke-width="0.5"
            >
              <title>{`${day} · ${s.label}: ${props.format(value)}`}</title>
            </rect>
          );
        });
      })}
    </g>
  );
}

/** A stacked bar chart of the series per day, its legend, and a one-sentence summary. */
export function StackedBars(props: ChartProps) {
  const top = topOf(props.data, props.integer);
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        class="chart-svg"
      >
        <title id={titleId}>{props.title}</title>
        <desc id={descId}>{summaryOf(props.data, props.format)}</desc>
        <defs>
          {props.data.series.map((_, i) => (
            <Fill id={props.id} index={i} />
          ))}
        </defs>
        <Axes top={top} days={props.data.days} format={props.format} />
        <Bars id={props.id} top={top} data={props.data} format={props.format} />
      </svg>
      <Legend id={props.id} series={props.data.series} />
      <figcaption class="muted">{summaryOf(props.data, props.format)}</figcaption>
    </figure>
  );
}

function Legend(props: { id: string; series: readonly ChartSeries[] }) {
  if (props.series.length === 0) return null;
  return (
    <ul class="legend" aria-label="Legend">
      {props.series.map((s, i) => (
        <li>
          <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">
            <rect
              width="14"
              height="14"
              fill={`url(#${patternId(props.id, i)})`}
              stroke="#1f2933"
              stroke-width="0.5"
            />
          </svg>
          {s.label}
        </li>
      ))}
    </ul>
  );
}

/** The chart's numbers: a row per day, a column per series and the day's total. */
export function ChartTable(props: { caption: string; data: ChartData; format: (v: number) => string }) {
  const totals = totalsOf(props.data);
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {props.data.series.map((s) => (
              <th scope="col" class="num">
                {s.label}
              </th>
            ))}
            <th scope="col" class="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {props.data.days.map((day, d) => (
            <tr>
              <th scope="row">{day}</th>
              {props.data.series.map((s) => (
                <td class="num">{props.format(s.values[d] ?? 0)}</td>
              ))}
              <td class="num">{props.format(totals[d] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The chart's numbers as CSV (routes/admin/csv.ts: quoted, formula-safe): `day`, a column per series, `total`. */
export function chartCsv(data: ChartData): string {
  const totals = totalsOf(data);
  const header = csvRow(["day", ...data.series.map((s) => s.label), "total"]);
  const rows = data.days.map((day, d) =>
    csvRow([day, ...data.series.map((s) => s.values[d] ?? 0), totals[d] ?? 0]),
  );
  return [header, ...rows].join("");
}
