import { MonitoringUptimeCheckConfig } from "@cdktf/provider-google/lib/monitoring-uptime-check-config";
import { Construct } from "constructs";

export interface UptimeCheckProps {
  readonly projectId: string;
  /** Host name only, e.g. `switchboard-123456789.europe-west1.run.app`. */
  readonly host: string;
  /** @default "/api/v1/health" */
  readonly path?: string;
  /** @default "300s" */
  readonly period?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * An HTTPS uptime check of the readiness endpoint from Google's checkers in several regions: it fails when
 * the service is down or its database is (the endpoint answers 503 then).
 */
export class UptimeCheck extends Construct {
  readonly check: MonitoringUptimeCheckConfig;
  /** The generated check id (`metric.labels.check_id`), for filters that must single this check out. */
  readonly checkId: string;

  constructor(scope: Construct, id: string, props: UptimeCheckProps) {
    super(scope, id);
    this.check = new MonitoringUptimeCheckConfig(this, "check", {
      project: props.projectId,
      displayName: `Switchboard health (${props.host})`,
      period: props.period ?? "300s",
      timeout: "10s",
      checkerType: "STATIC_IP_CHECKERS",
      userLabels: { ...props.labels },
      monitoredResource: { type: "uptime_url", labels: { project_id: props.projectId, host: props.host } },
      httpCheck: {
        path: props.path ?? "/api/v1/health",
        port: 443,
        useSsl: true,
        validateSsl: true,
        requestMethod: "GET",
        acceptedResponseStatusCodes: [{ statusValue: 200 }],
      },
    });
    this.checkId = this.check.uptimeCheckId;
  }
}
