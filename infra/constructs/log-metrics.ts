import { LoggingMetric } from "@cdktf/provider-google/lib/logging-metric";
import { Sleep } from "@cdktf/provider-time/lib/sleep";
import { Construct } from "constructs";
import { LOG_METRICS, type LogMetricSpec, logMetricType } from "../monitoring/log-metrics";
import { isMonitoringUnit } from "../monitoring/metric-units";

export interface LogMetricsProps {
  readonly projectId: string;
  /**
   * Cloud Run services whose stdout the metrics read: the public service and the worker, which runs the
   * background conversation turns. Policies and dashboards over these metrics therefore never narrow
   * them to one service_name (a test checks it).
   */
  readonly serviceNames: readonly string[];
  /** @default LOG_METRICS (infra/monitoring/log-metrics.ts) */
  readonly metrics?: readonly LogMetricSpec[];
  /** How long alert policies wait after a metric is created. @default METRIC_PROPAGATION */
  readonly propagation?: string;
}

/**
 * A new log-based metric is not usable in an alert policy at once: creating the policy answers 404
 * "Cannot find metric(s) … If a metric was created recently, it could take up to 10 minutes to become
 * available". Three minutes covers what is usually seen, and it overlaps the first apply's Cloud SQL
 * creation (about 10 minutes). When it is not enough, the apply fails on the policy alone and a second
 * apply creates it (docs/infrastructure.md, bring-up).
 */
export const METRIC_PROPAGATION = "180s";

/** Log-based metrics for the events the service logs (conversation time, counts, upstream errors, tokens, cost). */
export class LogMetrics extends Construct {
  /** Metric types (`logging.googleapis.com/user/…`) this construct defines. */
  readonly metricTypes: readonly string[];
  readonly metrics: readonly LoggingMetric[];
  /**
   * Done once every metric exists and has had time to propagate: alert policies on these metrics depend on
   * it. Any metric added or replaced changes its triggers, so the wait runs again for the new one.
   */
  readonly ready: Sleep;

  constructor(scope: Construct, id: string, props: LogMetricsProps) {
    super(scope, id);
    const specs = props.metrics ?? LOG_METRICS;
    const stdout = `projects/${props.projectId}/logs/run.googleapis.com%2Fstdout`;
    this.metrics = specs.map((spec) => {
      if (!isMonitoringUnit(spec.unit)) {
        throw new Error(
          `log metric ${spec.name}: unit "${spec.unit}" is not in Cloud Monitoring's unit grammar ` +
            '(e.g. "ms", "By", "1", or an annotation such as "{USD}")',
        );
      }
      const distribution = spec.kind === "distribution";
      return new LoggingMetric(this, spec.name.replace(/_/g, "-"), {
        project: props.projectId,
        name: spec.name,
        description: spec.description,
        filter: [
          'resource.type="cloud_run_revision"',
          `resource.labels.service_name=(${props.serviceNames.map((n) => `"${n}"`).join(" OR ")})`,
          `logName="${stdout}"`,
          `jsonPayload.event="${spec.event}"`,
        ].join(" AND "),
        metricDescriptor: {
          metricKind: "DELTA",
          valueType: distribution ? "DISTRIBUTION" : "INT64",
          unit: spec.unit,
          displayName: spec.description,
          labels: spec.labels.map((l) => ({ key: l.key, valueType: "STRING", description: l.description })),
        },
        labelExtractors: Object.fromEntries(
          spec.labels.map((l) => [l.key, `EXTRACT(jsonPayload.${l.field})`]),
        ),
        ...(distribution && spec.valueField
          ? { valueExtractor: `EXTRACT(jsonPayload.${spec.valueField})` }
          : {}),
        ...(distribution && spec.buckets
          ? {
              bucketOptions: {
                exponentialBuckets: {
                  numFiniteBuckets: spec.buckets.count,
                  growthFactor: spec.buckets.growth,
                  scale: spec.buckets.scale,
                },
              },
            }
          : {}),
      });
    });
    this.metricTypes = specs.map((s) => logMetricType(s.name));
    this.ready = new Sleep(this, "propagation", {
      createDuration: props.propagation ?? METRIC_PROPAGATION,
      triggers: Object.fromEntries(specs.map((spec, i) => [spec.name, this.metrics[i]?.id ?? spec.name])),
      dependsOn: [...this.metrics],
    });
  }
}
