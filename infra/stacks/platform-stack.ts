import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { dependable, GcsBackend, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { AlertPolicies } from "../constructs/alert-policies";
import { ArtifactRegistry } from "../constructs/artifact-registry";
import { Budget } from "../constructs/budget";
import { ciAccountEmail, DEPLOY_ACCOUNT_ID } from "../constructs/ci-identities";
import { Dashboards } from "../constructs/dashboards";
import { Database } from "../constructs/database";
import { Identity, VERTEX_RUNTIME_ROLE } from "../constructs/identity";
import { LogMetrics } from "../constructs/log-metrics";
import { runAppHost } from "../constructs/naming";
import { Network } from "../constructs/network";
import { NotificationChannels } from "../constructs/notification-channels";
import { PollSchedule } from "../constructs/poll-schedule";
import { ProjectServices } from "../constructs/project-services";
import { RunService } from "../constructs/run-service";
import { Secrets } from "../constructs/secrets";
import { TaskQueue } from "../constructs/task-queue";
import { UptimeCheck } from "../constructs/uptime-check";
import { apisFor, type Deployment, secretsFor } from "../environments";
import { applyGuardrails } from "../guardrails/guardrails";
import { buildCatalog } from "../monitoring/metric-catalog";
import { statePrefix } from "../site";
import { PinnedStack } from "./pinned-stack";

export interface PlatformStackProps {
  readonly deployment: Deployment;
}

const SERVICE_NAME = "switchboard";

/** Why the service accepts unauthenticated requests (becomes the SB_RUN_PUBLIC_INVOKER exemption). */
const PUBLIC_ACCESS_REASON =
  "End users' browsers call POST /api/v1/chat and load the widget, and Intercom delivers POST " +
  "/webhooks/intercom from the internet; neither can present a Google identity. The service authenticates " +
  "them itself (signed session tokens, X-Hub-Signature HMAC), and /internal/* requires a Google-signed " +
  "OIDC token of the invoker identity.";

/**
 * One environment of Switchboard in its own Google Cloud project: APIs, network, database, secrets,
 * identities, image registry, the Cloud Run service, the task queue and poller, and observability.
 * State lives in the bootstrap bucket under `switchboard/<env>`.
 */
export class PlatformStack extends PinnedStack {
  readonly run: RunService;
  readonly database: Database;
  readonly queue: TaskQueue;
  readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const d = props.deployment;
    const { env } = d;
    const withBudget = d.site.billingAccount !== undefined;

    new GcsBackend(this, { bucket: d.site.stateBucket, prefix: statePrefix(env.name) });
    new GoogleProvider(this, "google", {
      project: d.projectId,
      region: d.region,
      defaultLabels: d.labels,
      // Bill API quota (billing budgets, service usage) to this project, not the caller's.
      userProjectOverride: true,
      billingProject: d.projectId,
    });

    // time_sleep: waits for log-based metrics to propagate before alert policies use them (LogMetrics).
    new TimeProvider(this, "time");

    const apis = new ProjectServices(this, "apis", {
      projectId: d.projectId,
      apis: apisFor(env, withBudget),
    });
    // The project number comes from the site: reading it with a data source at plan time would fail on a
    // new project, whose Resource Manager API this very stack enables.
    const runHost = runAppHost(SERVICE_NAME, d.projectNumber, d.region);
    this.publicUrl = d.publicUrl ?? `https://${runHost}`;
    const internalAudience = `https://${runHost}`;

    const network = new Network(this, "network", {
      projectId: d.projectId,
      region: d.region,
      network: env.network,
      connector: env.connector,
      labels: d.labels,
    });

    const identity = new Identity(this, "identity", {
      projectId: d.projectId,
      extraRuntimeRoles: env.model.gemini === "vertex" ? [VERTEX_RUNTIME_ROLE] : [],
      // The CI deploy identity acts as these two accounts only (no project-wide serviceAccountUser).
      deployerMember: `serviceAccount:${ciAccountEmail(DEPLOY_ACCOUNT_ID, d.site.bootstrapProjectId)}`,
    });

    this.database = new Database(this, "database", {
      projectId: d.projectId,
      region: d.region,
      spec: env.database,
      deletionProtection: env.deletionProtection,
      networkId: network.vpc.id,
      privateServicesConnection: network.privateServicesConnection,
      iamServiceAccountUser: identity.runtimeDatabaseUser,
      labels: d.labels,
    });

    const secretSpecs = secretsFor(env);
    const secrets = new Secrets(this, "secrets", {
      projectId: d.projectId,
      secrets: secretSpecs,
      accessor: identity.runtimeMember,
      labels: d.labels,
      deletionProtection: env.deletionProtection,
    });

    const registry = new ArtifactRegistry(this, "registry", {
      projectId: d.projectId,
      region: d.region,
      keepCount: env.imagesKept,
      labels: d.labels,
    });

    this.queue = new TaskQueue(this, "tasks", {
      projectId: d.projectId,
      region: d.region,
      spec: env.tasks,
      enqueuerMember: identity.runtimeMember,
    });

    const plainEnv: Record<string, string> = {
      NODE_ENV: "production",
      LOG_LEVEL: env.run.logLevel,
      GOOGLE_CLOUD_PROJECT: d.projectId,
      DATABASE_URL: `postgres://${encodeURIComponent(identity.runtimeDatabaseUser)}@${this.database.privateIp}:5432/${this.database.databaseName}?sslmode=require`,
      DATABASE_IAM_AUTH: "true",
      DATABASE_POOL_MAX: String(env.run.databasePoolMax),
      MODEL_PROVIDER: env.model.provider,
      INTERCOM_ADMIN_ID: d.intercomAdminId,
      INTERCOM_REGION: d.intercomRegion,
      TASK_QUEUE: "cloud-tasks",
      CLOUD_TASKS_QUEUE: this.queue.queuePath,
      TASKS_INVOKER_SA: identity.invoker.email,
      INTERNAL_AUDIENCE: internalAudience,
      PUBLIC_URL: this.publicUrl,
      POLLING_INTERVAL: env.polling.interval,
      CORS_ORIGINS: d.corsOrigins.join(","),
      ...(env.model.gemini === "vertex"
        ? { GOOGLE_GENAI_USE_VERTEXAI: "true", GOOGLE_CLOUD_LOCATION: env.model.vertexLocation }
        : {}),
    };
    // Credentials an upstream can revoke on rotation are passed as references the service resolves
    // itself, so after a 401 it re-reads the latest version without a new revision (Cloud Run resolves
    // secret_key_ref values only when an instance starts).
    const SELF_RESOLVED = new Set(["INTERCOM_ACCESS_TOKEN"]);
    const secretIdOf = (s: (typeof secretSpecs)[number]) => secrets.byEnvVar.get(s.envVar)?.secretId ?? s.id;
    // Only secrets that have a version (the site lists them) are mounted: Cloud Run refuses to start a
    // revision whose secret has none, so a secret added later waits until it is set and listed.
    const ready = new Set(d.readySecrets);
    const mounted = secretSpecs.filter((s) => ready.has(s.id));
    const secretEnv: Record<string, string> = Object.fromEntries(
      mounted.filter((s) => !SELF_RESOLVED.has(s.envVar)).map((s) => [s.envVar, secretIdOf(s)] as const),
    );
    const sessionKey = mounted.find((s) => s.envVar === "SESSION_SIGNING_KEY");
    if (sessionKey && d.previousSessionKeyVersion) {
      // Pinned: the rotated-out key keeps verifying live sessions until the rotation's grace period ends.
      secretEnv.SESSION_SIGNING_KEY_PREVIOUS = `${secretIdOf(sessionKey)}@${d.previousSessionKeyVersion}`;
    }
    for (const s of mounted.filter((spec) => SELF_RESOLVED.has(spec.envVar))) {
      // The literal id (not a Terraform reference): the secret of this name is created above.
      plainEnv[s.envVar] = `sm://${s.id}`;
    }

    this.run = new RunService(this, "run", {
      projectId: d.projectId,
      region: d.region,
      serviceName: SERVICE_NAME,
      image: d.image,
      serviceAccountEmail: identity.runtime.email,
      spec: env.run,
      deletionProtection: env.deletionProtection,
      connectorId: network.connector.id,
      env: plainEnv,
      secretEnv,
      invokerMember: identity.invokerMember,
      publicAccessReason: PUBLIC_ACCESS_REASON,
      labels: d.labels,
    });
    // The first revision reads the secrets and logs in to Cloud SQL as its IAM user before its startup
    // probe passes: the user, the secrets and every grant involved must exist first.
    this.run.service.dependsOn = [
      ...(this.run.service.dependsOn ?? []),
      ...[
        this.database.iamUser,
        ...secrets.byEnvVar.values(),
        ...secrets.accessGrants,
        ...identity.runtimeGrants,
        ...identity.deployerGrants,
      ].map((r) => dependable(r)),
    ];

    const poll = new PollSchedule(this, "poll", {
      projectId: d.projectId,
      region: d.region,
      spec: env.polling,
      targetUrl: `${internalAudience}/internal/poll`,
      audience: internalAudience,
      invokerEmail: identity.invoker.email,
    });
    // Creating a job that mints the invoker's tokens needs actAs on the invoker.
    poll.job.dependsOn = [
      ...(poll.job.dependsOn ?? []),
      ...identity.deployerGrants.map((g) => dependable(g)),
    ];

    // ---- observability ----
    const logMetrics = new LogMetrics(this, "log-metrics", {
      projectId: d.projectId,
      serviceName: SERVICE_NAME,
    });
    const catalog = buildCatalog(logMetrics.metricTypes);
    const channels = new NotificationChannels(this, "notifications", {
      projectId: d.projectId,
      emails: d.alertEmails,
      labels: d.labels,
    });
    new UptimeCheck(this, "uptime", {
      projectId: d.projectId,
      host: runHost,
      period: env.alerting.uptimePeriod,
      labels: d.labels,
    });
    // Literal values only: cdktf's HCL renderer (cdktf synth --hcl) mangles quoted strings that also hold
    // references, and every filter quotes its values. The uptime alert filters on this project's checks.
    const vars = {
      ENV: env.name,
      PROJECT_ID: d.projectId,
      REGION: d.region,
      SERVICE_NAME,
      SQL_DATABASE_ID: `${d.projectId}:${this.database.instanceName}`,
      SQL_CONNECTIONS_ALERT: Math.floor(env.database.maxConnections * 0.9),
      RUN_MAX_INSTANCES: env.run.maxInstances,
      TASK_QUEUE: this.queue.queueName,
    };
    new Dashboards(this, "dashboards", { projectId: d.projectId, catalog, vars });
    new AlertPolicies(this, "alerts", {
      projectId: d.projectId,
      catalog,
      vars,
      notificationChannelIds: env.alerting.notify ? channels.channelIds : [],
      labels: d.labels,
      logMetrics: { types: logMetrics.metricTypes, ready: logMetrics.ready },
    });
    if (d.site.billingAccount) {
      new Budget(this, "budget", {
        billingAccount: d.site.billingAccount,
        projectNumber: d.projectNumber,
        displayName: `switchboard-${env.name}`,
        monthlyUsd: env.budget.monthlyUsd,
        notificationChannelIds: env.alerting.notify ? channels.channelIds : [],
      });
    }

    // Every resource waits for the APIs it calls (enabling an API is eventually consistent).
    apis.gate(this);

    new TerraformOutput(this, "service_url", { value: this.publicUrl });
    new TerraformOutput(this, "webhook_url", {
      value: `${this.publicUrl}/webhooks/intercom`,
      description: "Intercom app → Webhooks → endpoint URL",
    });
    new TerraformOutput(this, "database_connection_name", { value: this.database.connectionName });
    new TerraformOutput(this, "queue_name", { value: this.queue.queuePath });
    new TerraformOutput(this, "image_repository", { value: registry.imageRepository });
    new TerraformOutput(this, "runtime_service_account", { value: identity.runtime.email });
    new TerraformOutput(this, "secret_ids", {
      value: secretSpecs.map((s) => s.id),
      description: "Secrets to give a version before the service can start (gcloud secrets versions add)",
    });

    applyGuardrails(this, { requireDataProtection: env.deletionProtection });
  }
}
