import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from "@cdktf/provider-google/lib/monitoring-alert-policy";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { MetricCatalog } from "../monitoring/metric-catalog";
import {
  type AlertPolicyDoc,
  assertKnownMetrics,
  fillTemplate,
  metricsIn,
  POLICIES_DIR,
  readMonitoringFiles,
  type TemplateVars,
  validateAlertPolicy,
} from "../monitoring/monitoring-files";

export interface AlertPoliciesProps {
  readonly projectId: string;
  readonly catalog: MetricCatalog;
  readonly vars: TemplateVars;
  /** Channels every policy notifies; empty creates the policies silent. */
  readonly notificationChannelIds: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** @default the repository's policies/ directory */
  readonly directory?: string;
  /**
   * The log-based metrics this stack defines and what signals they are usable: a policy on one of them
   * waits for it, or creating the policy fails with 404 (LogMetrics.ready).
   * @default undefined (no policy waits)
   */
  readonly logMetrics?: { readonly types: readonly string[]; readonly ready: ITerraformDependable };
}

/**
 * One alert policy per `policies/*.json` file, in the Cloud Monitoring API's AlertPolicy shape (camelCase,
 * the same field names the provider takes), with `${NAME}` placeholders filled per environment.
 */
export class AlertPolicies extends Construct {
  readonly policies: readonly MonitoringAlertPolicy[];

  constructor(scope: Construct, id: string, props: AlertPoliciesProps) {
    super(scope, id);
    this.policies = readMonitoringFiles(props.directory ?? POLICIES_DIR).map((file) => {
      const doc = validateAlertPolicy(fillTemplate(file.content, props.vars, file.path), file.path);
      assertKnownMetrics(doc, props.catalog, file.path);
      const logMetrics = props.logMetrics;
      const waits = logMetrics && metricsIn(doc, props.catalog).some((t) => logMetrics.types.includes(t));
      return new MonitoringAlertPolicy(this, file.name, {
        project: props.projectId,
        displayName: doc.displayName,
        combiner: doc.combiner,
        severity: doc.severity,
        enabled: doc.enabled ?? true,
        documentation: { mimeType: "text/markdown", ...doc.documentation },
        conditions: conditionsOf(doc),
        ...(doc.alertStrategy ? { alertStrategy: doc.alertStrategy } : {}),
        notificationChannels: [...props.notificationChannelIds],
        userLabels: { ...props.labels, ...doc.userLabels },
        ...(waits ? { dependsOn: [logMetrics.ready] } : {}),
      });
    });
  }
}

/**
 * The file's conditions, with metric validation off for PromQL conditions (unless the file says
 * otherwise): the API would otherwise refuse a query over a metric that has no data yet, which is every
 * log-based metric right after a deploy.
 * https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#prometheusquerylanguagecondition
 */
function conditionsOf(doc: AlertPolicyDoc): MonitoringAlertPolicyConditions[] {
  return doc.conditions.map((condition) => {
    const promql = condition.conditionPrometheusQueryLanguage as Record<string, unknown> | undefined;
    if (!promql) return condition as unknown as MonitoringAlertPolicyConditions;
    return {
      ...condition,
      conditionPrometheusQueryLanguage: { disableMetricValidation: true, ...promql },
    } as unknown as MonitoringAlertPolicyConditions;
  });
}
