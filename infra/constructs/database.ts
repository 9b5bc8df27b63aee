import { SqlDatabase } from "@cdktf/provider-google/lib/sql-database";
import { SqlDatabaseInstance } from "@cdktf/provider-google/lib/sql-database-instance";
import { SqlUser } from "@cdktf/provider-google/lib/sql-user";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { DatabaseSpec } from "../environments";

export interface DatabaseProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard" */
  readonly namePrefix?: string;
  /** Database the service uses. @default "switchboard" */
  readonly databaseName?: string;
  readonly spec: DatabaseSpec;
  readonly deletionProtection: boolean;
  /** Self link / id of the VPC the private IP lives in. */
  readonly networkId: string;
  /** The private services access peering; the instance cannot get a private IP before it exists. */
  readonly privateServicesConnection: ITerraformDependable;
  /** Cloud SQL IAM user of the runtime service account (its e-mail without `.gserviceaccount.com`). */
  readonly iamServiceAccountUser: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Cloud SQL for PostgreSQL 15, private IP only, TLS required, IAM database authentication (the runtime
 * connects through the Cloud SQL Node.js connector, which verifies the server and logs in as the IAM user:
 * no database password exists in Terraform or its state).
 * Backups with point-in-time recovery, retention, HA, maintenance window and deletion protection come
 * from the environment data. The logging flags are the ones the CIS benchmark (Checkov CKV_GCP_51..54)
 * asks for. https://cloud.google.com/sql/docs/postgres/iam-authentication
 */
export class Database extends Construct {
  readonly instance: SqlDatabaseInstance;
  readonly database: SqlDatabase;
  readonly iamUser: SqlUser;
  /** `project:region:instance`, for connectors and the Cloud SQL Auth Proxy. */
  readonly connectionName: string;
  readonly privateIp: string;
  readonly databaseName: string;
  /** Instance name as a plain string (known before apply). */
  readonly instanceName: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { spec } = props;
    const prefix = props.namePrefix ?? "switchboard";
    this.databaseName = props.databaseName ?? "switchboard";
    this.instanceName = `${prefix}-pg`;

    const flags: Record<string, string> = {
      "cloudsql.iam_authentication": "on",
      log_checkpoints: "on",
      log_connections: "on",
      log_disconnections: "on",
      log_lock_waits: "on",
      log_min_duration_statement: "1000",
      max_connections: String(spec.maxConnections),
    };

    this.instance = new SqlDatabaseInstance(this, "instance", {
      project: props.projectId,
      name: this.instanceName,
      region: props.region,
      databaseVersion: "POSTGRES_15",
      deletionProtection: props.deletionProtection,
      dependsOn: [props.privateServicesConnection],
      settings: {
        edition: "ENTERPRISE",
        tier: spec.tier,
        availabilityType: spec.availability,
        diskType: "PD_SSD",
        diskSize: spec.diskSizeGb,
        diskAutoresize: true,
        diskAutoresizeLimit: spec.diskAutoresizeLimitGb,
        deletionProtectionEnabled: props.deletionProtection,
        // Where data is protected, backups outlive even a deliberate instance deletion.
        retainBackupsOnDelete: props.deletionProtection,
        userLabels: { ...props.labels },
        ipConfiguration: {
          ipv4Enabled: false,
          privateNetwork: props.networkId,
          sslMode: "ENCRYPTED_ONLY",
          enablePrivatePathForGoogleCloudServices: false,
        },
        backupConfiguration: {
          enabled: true,
          startTime: spec.backupStartTime,
          pointInTimeRecoveryEnabled: true,
          transactionLogRetentionDays: spec.pitrDays,
          backupRetentionSettings: { retainedBackups: spec.retainedBackups, retentionUnit: "COUNT" },
        },
        maintenanceWindow: { day: spec.maintenanceDay, hour: spec.maintenanceHour, updateTrack: "stable" },
        insightsConfig: {
          queryInsightsEnabled: true,
          queryStringLength: 1024,
          recordApplicationTags: true,
          recordClientAddress: false,
        },
        databaseFlags: Object.entries(flags).map(([name, value]) => ({ name, value })),
      },
      lifecycle: {
        // Storage auto-grow changes disk_size behind Terraform's back; do not shrink it back.
        ignoreChanges: ["settings[0].disk_size"],
      },
    });

    this.database = new SqlDatabase(this, "database", {
      project: props.projectId,
      instance: this.instance.name,
      name: this.databaseName,
      // ABANDON: Postgres refuses DROP DATABASE with open connections; keep data on stack destroy.
      deletionPolicy: "ABANDON",
    });

    this.iamUser = new SqlUser(this, "runtime-iam-user", {
      project: props.projectId,
      instance: this.instance.name,
      name: props.iamServiceAccountUser,
      type: "CLOUD_IAM_SERVICE_ACCOUNT",
    });

    this.connectionName = this.instance.connectionName;
    this.privateIp = this.instance.privateIpAddress;
  }
}
