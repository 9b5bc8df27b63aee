import { SqlDatabase } from "@cdktf/provider-google/lib/sql-database";
import {
  SqlDatabaseInstance,
  type SqlDatabaseInstanceSettings,
} from "@cdktf/provider-google/lib/sql-database-instance";
import { SqlUser } from "@cdktf/provider-google/lib/sql-user";
import { Construct } from "constructs";
import type { DatabaseSpec } from "../environments";
import type { Network } from "./network";
import type { ServiceEnvironment, ServiceEnvironmentSource } from "./service-environment";

export interface DatabaseProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard" */
  readonly namePrefix?: string;
  /** Database the service uses. @default "switchboard" */
  readonly databaseName?: string;
  readonly spec: DatabaseSpec;
  readonly deletionProtection: boolean;
  /**
   * The network the private IP lives in; the instance waits for its private services access peering, without
   * which it cannot get a private IP.
   */
  readonly network: Pick<Network, "vpc" | "privateServicesConnection">;
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
 *
 * The services that use it get its connection settings from it (addToEnvironment).
 */
export class Database extends Construct implements ServiceEnvironmentSource {
  readonly instance: SqlDatabaseInstance;
  readonly database: SqlDatabase;
  readonly iamUser: SqlUser;
  /** `project:region:instance`, for connectors and the Cloud SQL Auth Proxy. */
  readonly connectionName: string;
  readonly privateIp: string;
  readonly databaseName: string;
  /** Instance name as a plain string (known before apply). */
  readonly instanceName: string;
  /** `project:region:instance` as a plain string, so the plan shows the value the service gets. */
  private readonly instanceConnectionName: string;
  private readonly iamUserName: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "switchboard";
    this.databaseName = props.databaseName ?? "switchboard";
    this.instanceName = `${prefix}-pg`;
    this.instanceConnectionName = `${props.projectId}:${props.region}:${this.instanceName}`;
    this.iamUserName = props.iamServiceAccountUser;

    this.instance = new SqlDatabaseInstance(this, "instance", {
      project: props.projectId,
      name: this.instanceName,
      region: props.region,
      databaseVersion: "POSTGRES_15",
      deletionProtection: props.deletionProtection,
      dependsOn: [props.network.privateServicesConnection],
      settings: instanceSettings(props),
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

  /**
   * Through the Cloud SQL Node.js connector (not a DATABASE_URL with sslmode=require, which never checks the
   * server's identity): it fetches an ephemeral client certificate and the instance's CA with the runtime's
   * roles/cloudsql.client, verifies the server, and logs in as the IAM database user with
   * roles/cloudsql.instanceUser (both granted by Identity).
   */
  addToEnvironment(environment: ServiceEnvironment): void {
    environment
      .set("CLOUD_SQL_INSTANCE", this.instanceConnectionName)
      .set("CLOUD_SQL_IP_TYPE", "PRIVATE")
      .set("DATABASE_USER", this.iamUserName)
      .set("DATABASE_NAME", this.databaseName)
      // The user is named, not referenced (a literal shows in the plan), yet the first revision's startup
      // probe logs in as it.
      .waitFor(this.iamUser);
  }
}

/** Size, availability, private IP with TLS, backups with PITR, maintenance, insights and flags from the data. */
function instanceSettings(props: DatabaseProps): SqlDatabaseInstanceSettings {
  const { spec } = props;
  const flags: Record<string, string> = {
    "cloudsql.iam_authentication": "on",
    log_checkpoints: "on",
    log_connections: "on",
    log_disconnections: "on",
    log_lock_waits: "on",
    log_min_duration_statement: "1000",
    max_connections: String(spec.maxConnections),
  };

  return {
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
      privateNetwork: props.network.vpc.id,
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
  };
}
