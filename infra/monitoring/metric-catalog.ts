import { LOG_METRICS, logMetricType } from "./log-metrics";

/**
 * Every metric type a dashboard or alert policy may refer to: the Google metrics we use (from
 * https://cloud.google.com/monitoring/api/metrics_gcp) plus the log-based metrics this app defines.
 * A reference to anything else fails synth: a typo in a filter would otherwise be a dashboard that
 * silently shows nothing and an alert that never fires.
 */
export const GOOGLE_METRIC_TYPES: readonly string[] = [
  "run.googleapis.com/request_count",
  "run.googleapis.com/request_latencies",
  "run.googleapis.com/container/instance_count",
  "run.googleapis.com/container/cpu/utilizations",
  "run.googleapis.com/container/memory/utilizations",
  "run.googleapis.com/container/max_request_concurrencies",
  "run.googleapis.com/container/startup_latencies",
  "cloudsql.googleapis.com/database/cpu/utilization",
  "cloudsql.googleapis.com/database/memory/utilization",
  "cloudsql.googleapis.com/database/disk/utilization",
  "cloudsql.googleapis.com/database/postgresql/num_backends",
  "cloudsql.googleapis.com/database/up",
  "cloudtasks.googleapis.com/queue/depth",
  "cloudtasks.googleapis.com/queue/task_attempt_count",
  "pubsub.googleapis.com/subscription/num_undelivered_messages",
  "monitoring.googleapis.com/uptime_check/check_passed",
  "monitoring.googleapis.com/uptime_check/request_latency",
];

export interface MetricCatalog {
  readonly types: ReadonlySet<string>;
  /** PromQL spelling of each type (`run_googleapis_com:request_count`) → type. */
  readonly promql: ReadonlyMap<string, string>;
}

/** `logging.googleapis.com/user/x` → `logging_googleapis_com:user_x` (Cloud Monitoring's PromQL mapping). */
export function promqlName(type: string): string {
  const slash = type.indexOf("/");
  return `${type.slice(0, slash).replace(/\./g, "_")}:${type.slice(slash + 1).replace(/[/.]/g, "_")}`;
}

export function buildCatalog(
  extra: readonly string[] = LOG_METRICS.map((m) => logMetricType(m.name)),
): MetricCatalog {
  const types = new Set([...GOOGLE_METRIC_TYPES, ...extra]);
  return { types, promql: new Map([...types].map((t) => [promqlName(t), t])) };
}

const FILTER_TYPE = /metric\.type\s*=\s*"([^"]+)"/g;
const PROMQL_NAME = /\b([a-z0-9_]+_googleapis_com:[A-Za-z0-9_]+)/g;
const DISTRIBUTION_SUFFIX = /_(sum|count|bucket)$/;

/** Metric types a string (a Monitoring filter or a PromQL query) refers to, known or not. */
export function referencedMetrics(text: string, catalog: MetricCatalog): string[] {
  const found: string[] = [];
  for (const [, type] of text.matchAll(FILTER_TYPE)) if (type) found.push(type);
  for (const [, name] of text.matchAll(PROMQL_NAME)) {
    if (!name) continue;
    found.push(catalog.promql.get(name) ?? catalog.promql.get(name.replace(DISTRIBUTION_SUFFIX, "")) ?? name);
  }
  return found;
}

/** Metric references in a string (a Monitoring filter or a PromQL query) that the catalog does not know. */
export function unknownMetrics(text: string, catalog: MetricCatalog): string[] {
  const unknown: string[] = [];
  for (const [, type] of text.matchAll(FILTER_TYPE)) if (type && !catalog.types.has(type)) unknown.push(type);
  for (const [, name] of text.matchAll(PROMQL_NAME)) {
    if (name && !catalog.promql.has(name) && !catalog.promql.has(name.replace(DISTRIBUTION_SUFFIX, ""))) {
      unknown.push(name);
    }
  }
  return unknown;
}
