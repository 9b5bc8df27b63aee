import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from "@cdktf/provider-google/lib/monitoring-alert-policy";
import { Construct } from "constructs";
import type { MetricCatalog } from "../monitoring/metric-catalog";
import {
  assertKnownMetrics,
  fillTemplate,
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
      return new MonitoringAlertPolicy(this, file.name, {
        project: props.projectId,
        displayName: doc.displayName,
        combiner: doc.combiner,
        severity: doc.severity,
        enabled: doc.enabled ?? true,
        documentation: { mimeType: "text/markdown", ...doc.documentation },
        conditions: doc.conditions as unknown as MonitoringAlertPolicyConditions[],
        ...(doc.alertStrategy ? { alertStrategy: doc.alertStrategy } : {}),
        notificationChannels: [...props.notificationChannelIds],
        userLabels: { ...props.labels, ...doc.userLabels },
      });
    });
  }
}
