import { LoggingMetric } from "@cdktf/provider-google/lib/logging-metric";
import { Construct } from "constructs";
import { LOG_METRICS, type LogMetricSpec, logMetricType } from "../monitoring/log-metrics";

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
}

/** Log-based metrics for the events the service logs (conversation time, counts, upstream errors, tokens, cost). */
export class LogMetrics extends Construct {
  /** Metric types (`logging.googleapis.com/user/…`) this construct defines. */
  readonly metricTypes: readonly string[];
  readonly metrics: readonly LoggingMetric[];

  constructor(scope: Construct, id: string, props: LogMetricsProps) {
    super(scope, id);
    const specs = props.metrics ?? LOG_METRICS;
    const stdout = `projects/${props.projectId}/logs/run.googleapis.com%2Fstdout`;
    this.metrics = specs.map((spec) => {
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
  }
}
