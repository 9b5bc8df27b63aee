import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MetricCatalog, referencedMetrics, unknownMetrics } from "./metric-catalog";

/**
 * Loading, templating and validating `dashboards/*.json` and `policies/*.json`.
 *
 * Both kinds may use `${NAME}` placeholders (upper-case) that the stack fills in: a string that is exactly
 * one placeholder takes the variable's type (so `"thresholdValue": "${RUN_MAX_INSTANCES}"` becomes a
 * number), otherwise the value is spliced into the string. A placeholder without a variable fails synth
 * (Terraform would read it as an interpolation), and so does a metric the catalog does not know.
 */

export const DASHBOARDS_DIR = fileURLToPath(new URL("../../dashboards", import.meta.url));
export const POLICIES_DIR = fileURLToPath(new URL("../../policies", import.meta.url));

export interface MonitoringFile {
  /** File name without `.json`: the construct id of what it becomes. */
  readonly name: string;
  readonly path: string;
  readonly content: unknown;
}

export function readMonitoringFiles(dir: string): MonitoringFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      let content: unknown;
      try {
        content = JSON.parse(readFileSync(path, "utf8"));
      } catch (error) {
        throw new Error(`${path}: invalid JSON: ${(error as Error).message}`);
      }
      return { name: basename(f, ".json"), path, content };
    });
}

export type TemplateVars = Readonly<Record<string, string | number>>;

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([A-Z][A-Z0-9_]*)\}$/;

/** Fill placeholders in every string of a JSON value; throws naming the file on an unknown one. */
export function fillTemplate(value: unknown, vars: TemplateVars, where: string): unknown {
  if (typeof value === "string") {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole?.[1] && whole[1] in vars) return vars[whole[1]];
    return value.replace(PLACEHOLDER, (match, name: string) => {
      const v = vars[name];
      if (v === undefined) {
        throw new Error(
          `${where}: unknown placeholder ${match}; known: ${Object.keys(vars).sort().join(", ")}`,
        );
      }
      return String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fillTemplate(v, vars, where));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplate(v, vars, where)]));
  }
  return value;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** Every metric type the filters and PromQL queries in the value refer to. */
export function metricsIn(value: unknown, catalog: MetricCatalog): string[] {
  return [...new Set(strings(value).flatMap((s) => referencedMetrics(s, catalog)))];
}

/** Throws when any filter or PromQL query in the value refers to a metric outside the catalog. */
export function assertKnownMetrics(value: unknown, catalog: MetricCatalog, where: string): void {
  const unknown = [...new Set(strings(value).flatMap((s) => unknownMetrics(s, catalog)))];
  if (unknown.length) {
    throw new Error(
      `${where}: refers to metric(s) no construct or Google service defines: ${unknown.join(", ")}. ` +
        "Define a log-based metric (infra/monitoring/log-metrics.ts) or add the Google metric type to " +
        "infra/monitoring/metric-catalog.ts.",
    );
  }
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

// ---- alert policies (Cloud Monitoring API AlertPolicy JSON) -----------------------------------------

const POLICY_KEYS = new Set([
  "displayName",
  "combiner",
  "conditions",
  "documentation",
  "severity",
  "alertStrategy",
  "userLabels",
  "enabled",
]);
const CONDITION_KINDS = [
  "conditionThreshold",
  "conditionAbsent",
  "conditionPrometheusQueryLanguage",
  "conditionMatchedLog",
];
const SEVERITIES = new Set(["CRITICAL", "ERROR", "WARNING"]);

export interface AlertPolicyDoc {
  readonly displayName: string;
  readonly combiner: "OR" | "AND" | "AND_WITH_MATCHING_RESOURCE";
  readonly severity: "CRITICAL" | "ERROR" | "WARNING";
  readonly documentation: { readonly content: string; readonly mimeType?: string; readonly subject?: string };
  readonly conditions: readonly Record<string, unknown>[];
  readonly alertStrategy?: Record<string, unknown>;
  readonly userLabels?: Record<string, string>;
  readonly enabled?: boolean;
}

/** Shape checks of one alert policy file; the construct passes the fields straight to the provider. */
export function validateAlertPolicy(doc: unknown, where: string): AlertPolicyDoc {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail(where, "must be a JSON object");
  const p = doc as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!POLICY_KEYS.has(key)) fail(where, `unknown field ${key}`);
  if (typeof p.displayName !== "string" || !p.displayName) fail(where, "displayName is required");
  if (!["OR", "AND", "AND_WITH_MATCHING_RESOURCE"].includes(String(p.combiner)))
    fail(where, "combiner must be OR or AND");
  if (!SEVERITIES.has(String(p.severity))) fail(where, "severity must be CRITICAL, ERROR or WARNING");
  const docs = p.documentation as Record<string, unknown> | undefined;
  if (!docs || typeof docs.content !== "string" || docs.content.length < 20) {
    fail(where, "documentation.content must tell the responder what to do");
  }
  if (!Array.isArray(p.conditions) || p.conditions.length === 0) fail(where, "conditions must not be empty");
  for (const [i, c] of (p.conditions as Record<string, unknown>[]).entries()) {
    if (typeof c.displayName !== "string") fail(where, `conditions[${i}].displayName is required`);
    const kinds = Object.keys(c).filter((k) => k !== "displayName");
    if (kinds.length !== 1 || !CONDITION_KINDS.includes(kinds[0] as string)) {
      fail(where, `conditions[${i}] must hold exactly one of ${CONDITION_KINDS.join(", ")}`);
    }
    const body = c[kinds[0] as string] as Record<string, unknown>;
    if (kinds[0] === "conditionThreshold") {
      if (typeof body.filter !== "string")
        fail(where, `conditions[${i}].conditionThreshold.filter is required`);
      if (typeof body.thresholdValue !== "number")
        fail(where, `conditions[${i}] thresholdValue must be a number`);
      if (!/^COMPARISON_(GT|GE|LT|LE|EQ|NE)$/.test(String(body.comparison)))
        fail(where, `conditions[${i}] comparison`);
      if (!/^\d+s$/.test(String(body.duration))) fail(where, `conditions[${i}] duration must be like "300s"`);
    }
    if (kinds[0] === "conditionPrometheusQueryLanguage" && typeof body.query !== "string") {
      fail(where, `conditions[${i}].conditionPrometheusQueryLanguage.query is required`);
    }
  }
  return p as unknown as AlertPolicyDoc;
}

// ---- dashboards (widget rows, expanded to a mosaic layout) ------------------------------------------

/**
 * One chart: either a metric with its aggregation (`metric`, `resource`, `aligner`, ...) or a PromQL query
 * (`promql`), for sums over distributions such as tokens and cost.
 */
export interface WidgetRow {
  readonly title: string;
  readonly promql?: string;
  readonly metric?: string;
  /** Monitored resource type. */
  readonly resource?: string;
  /** Extra filter clauses ANDed to the metric and resource. */
  readonly filter?: string;
  readonly aligner?: string;
  /** @default "REDUCE_SUM" */
  readonly reducer?: string;
  readonly groupBy?: readonly string[];
  /** @default "60s" */
  readonly period?: string;
  /** @default "LINE" */
  readonly plot?: "LINE" | "STACKED_AREA" | "STACKED_BAR";
  readonly yLabel?: string;
  /** A dashed line at this value (the alert threshold). */
  readonly threshold?: number;
}

export interface DashboardDoc {
  readonly displayName: string;
  /** Widgets per row. @default 2 */
  readonly columns?: number;
  readonly widgets: readonly WidgetRow[];
}

const WIDGET_KEYS = new Set([
  "title",
  "promql",
  "metric",
  "resource",
  "filter",
  "aligner",
  "reducer",
  "groupBy",
  "period",
  "plot",
  "yLabel",
  "threshold",
]);

export function validateDashboard(doc: unknown, where: string): DashboardDoc {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail(where, "must be a JSON object");
  const d = doc as Record<string, unknown>;
  if (typeof d.displayName !== "string" || !d.displayName) fail(where, "displayName is required");
  if (!Array.isArray(d.widgets) || d.widgets.length === 0) fail(where, "widgets must not be empty");
  for (const [i, w] of (d.widgets as Record<string, unknown>[]).entries()) {
    for (const key of Object.keys(w))
      if (!WIDGET_KEYS.has(key)) fail(where, `widgets[${i}]: unknown field ${key}`);
    const required = typeof w.promql === "string" ? ["title"] : ["title", "metric", "resource", "aligner"];
    for (const key of required) {
      if (typeof w[key] !== "string" || !w[key]) fail(where, `widgets[${i}].${key} is required`);
    }
  }
  return d as unknown as DashboardDoc;
}

function seriesFilter(w: WidgetRow): Record<string, unknown> {
  return {
    filter: [
      `metric.type="${w.metric}"`,
      `resource.type="${w.resource}"`,
      ...(w.filter ? [w.filter] : []),
    ].join(" AND "),
    aggregation: {
      alignmentPeriod: w.period ?? "60s",
      perSeriesAligner: w.aligner,
      crossSeriesReducer: w.reducer ?? "REDUCE_SUM",
      groupByFields: [...(w.groupBy ?? [])],
    },
  };
}

/**
 * The value without what the Dashboards API leaves out of its answer: proto3 JSON omits zeros, empty
 * strings, empty lists and (then) empty objects, so `xPos: 0`, `label: ""` or `groupByFields: []` in the
 * configuration would differ from what Terraform reads back and show as a diff on every plan. Leaving them
 * out means the same thing to the API.
 */
export function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (!value || typeof value !== "object") return value;
  const kept = Object.entries(value)
    .map(([key, v]) => [key, withoutDefaults(v)] as const)
    .filter(([, v]) => !isProtoDefault(v));
  return Object.fromEntries(kept);
}

function isProtoDefault(v: unknown): boolean {
  if (v === 0 || v === "" || v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === "object" && Object.keys(v as object).length === 0;
}

/** Dashboard rows → Cloud Monitoring Dashboard JSON (mosaic layout, 48 columns), defaults left out. */
export function dashboardJson(doc: DashboardDoc): Record<string, unknown> {
  return withoutDefaults(mosaicDashboard(doc)) as Record<string, unknown>;
}

function mosaicDashboard(doc: DashboardDoc): Record<string, unknown> {
  const columns = doc.columns ?? 2;
  const width = Math.floor(48 / columns);
  const height = 16;
  return {
    displayName: doc.displayName,
    mosaicLayout: {
      columns: 48,
      tiles: doc.widgets.map((w, i) => ({
        xPos: (i % columns) * width,
        yPos: Math.floor(i / columns) * height,
        width,
        height,
        widget: {
          title: w.title,
          xyChart: {
            dataSets: [
              {
                plotType: w.plot ?? "LINE",
                minAlignmentPeriod: w.period ?? "60s",
                timeSeriesQuery: w.promql
                  ? { prometheusQuery: w.promql }
                  : { timeSeriesFilter: seriesFilter(w) },
              },
            ],
            ...(w.threshold !== undefined ? { thresholds: [{ value: w.threshold, targetAxis: "Y1" }] } : {}),
            yAxis: { label: w.yLabel ?? "", scale: "LINEAR" },
          },
        },
      })),
    },
  };
}
