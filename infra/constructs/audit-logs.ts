import { ProjectIamAuditConfig } from "@cdktf/provider-google/lib/project-iam-audit-config";
import { Construct } from "constructs";

export interface AuditLogsProps {
  readonly projectId: string;
  /**
   * Services whose Data Access audit logs are turned on (environments.ts `auditLogs.dataAccess`).
   * @default [] (none: Admin Activity logs only, which are always on)
   */
  readonly dataAccess?: readonly string[];
}

/** Every Data Access log type: reads of configuration and metadata, reads of data, writes of data. */
export const DATA_ACCESS_LOG_TYPES = ["ADMIN_READ", "DATA_READ", "DATA_WRITE"] as const;

/**
 * Data Access audit logs per service (https://cloud.google.com/logging/docs/audit/configure-data-access):
 * with Secret Manager's on, every AccessSecretVersion of a tenant credential is logged with the identity
 * that made it. `google_project_iam_audit_config` is non-authoritative for other services' configs.
 */
export class AuditLogs extends Construct {
  readonly configs: readonly ProjectIamAuditConfig[];

  constructor(scope: Construct, id: string, props: AuditLogsProps) {
    super(scope, id);
    this.configs = (props.dataAccess ?? []).map(
      (service) =>
        new ProjectIamAuditConfig(this, service.replace(/\.googleapis\.com$/, ""), {
          project: props.projectId,
          service,
          auditLogConfig: DATA_ACCESS_LOG_TYPES.map((logType) => ({ logType })),
        }),
    );
  }
}
