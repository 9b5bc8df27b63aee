import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { dependable, GcsBackend, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { AlertPolicies } from "../constructs/alert-policies";
import { ArmorPolicy } from "../constructs/armor-policy";
import { ArtifactRegistry } from "../constructs/artifact-registry";
import { Budget } from "../constructs/budget";
import { ciAccountEmail, DEPLOY_ACCOUNT_ID } from "../constructs/ci-identities";
import { Dashboards } from "../constructs/dashboards";
import { Database } from "../constructs/database";
import { Edge } from "../constructs/edge";
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
import { LOG_VALUE_VARS } from "../monitoring/log-metrics";
import { buildCatalog } from "../monitoring/metric-catalog";
import { statePrefix } from "../site";
import { PinnedStack } from "./pinned-stack";

export interface PlatformStackProps {
  readonly deployment: Deployment;
}

const SERVICE_NAME = "switchboard";
/** The internal service that serves /internal/* (same image, SERVICE_ROLE=worker). */
const WORKER_SERVICE_NAME = "switchboard-worker";

/** Why the service accepts unauthenticated requests (becomes the SB_RUN_PUBLIC_INVOKER exemption). */
const PUBLIC_ACCESS_REASON =
  "End users' browsers call POST /api/v1/chat and load the widget, and Intercom delivers POST " +
  "/webhooks/intercom from the internet; neither can present a Google identity. The service authenticates " +
  "them itself (signed session tokens, X-Hub-Signature HMAC). /internal/* is not served here: it lives on " +
  "the internal worker service, which only the invoker identity may call.";

/**
 * One environment of Switchboard in its own Google Cloud project: APIs, network, database, secrets,
 * identities, image registry, the two Cloud Run services (public, and the internal worker that serves
 * /internal/* to Cloud Tasks and Cloud Scheduler), the task queue and schedules, and observability.
 * State lives in the bootstrap bucket under `switchboard/<env>`.
 */
export class PlatformStack extends PinnedStack {
  readonly run: RunService;
  /** The load balancer in front of the public service; undefined without a domain or with the edge off. */
  readonly edge?: Edge;
  readonly worker: RunService;
  /** The worker's run.app URL: Cloud Tasks and Cloud Scheduler target it, and it is the OIDC audience. */
  readonly workerUrl: string;
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
    // Deterministic run.app hosts: the services learn their own and each other's URLs without a cycle.
    const runHost = runAppHost(SERVICE_NAME, d.projectNumber, d.region);
    const edgeDomain = edgeDomainOf(d);
    // With the edge, users (and Intercom, and the uptime check) come in through the domain.
    const publicHost = edgeDomain ?? runHost;
    this.publicUrl = edgeDomain ? `https://${edgeDomain}` : (d.publicUrl ?? `https://${runHost}`);
    // Cloud Tasks and Cloud Scheduler count as internal sources for Cloud Run ingress only "if they're in
    // the same project ... and if they're using the default run.app URL and not a custom domain"
    // (https://cloud.google.com/run/docs/securing/ingress#settings): so the worker is addressed by its
    // run.app URL, which is also the OIDC audience /internal/* verifies.
    this.workerUrl = `https://${runAppHost(WORKER_SERVICE_NAME, d.projectNumber, d.region)}`;
    const internalAudience = this.workerUrl;

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
      // Through the Cloud SQL Node.js connector (not a DATABASE_URL with sslmode=require, which never checks
      // the server's identity): it fetches an ephemeral client certificate and the instance's CA with the
      // runtime's roles/cloudsql.client, verifies the server, and logs in as the IAM database user with
      // roles/cloudsql.instanceUser (both granted by Identity). Literal, so the plan shows the value.
      CLOUD_SQL_INSTANCE: `${d.projectId}:${d.region}:${this.database.instanceName}`,
      CLOUD_SQL_IP_TYPE: "PRIVATE",
      DATABASE_USER: identity.runtimeDatabaseUser,
      DATABASE_NAME: this.database.databaseName,
      DATABASE_POOL_MAX: String(env.run.databasePoolMax),
      MODEL_PROVIDER: env.model.provider,
      INTERCOM_ADMIN_ID: d.intercomAdminId,
      INTERCOM_REGION: d.intercomRegion,
      TASK_QUEUE: "cloud-tasks",
      CLOUD_TASKS_QUEUE: this.queue.queuePath,
      TASKS_INVOKER_SA: identity.invoker.email,
      // Both services enqueue tasks (the public one on webhooks, the worker on follow-ups): they target
      // WORKER_URL, and the worker verifies INTERNAL_AUDIENCE.
      WORKER_URL: this.workerUrl,
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

    const common = {
      projectId: d.projectId,
      region: d.region,
      image: d.image,
      serviceAccountEmail: identity.runtime.email,
      deletionProtection: env.deletionProtection,
      ...(network.connector
        ? { connectorId: network.connector.id }
        : { directEgress: { networkId: network.vpc.id, subnetworkId: network.subnet.id } }),
      secretEnv,
      labels: d.labels,
    };
    // Public: no principal needs run.invoker (the check is off); nothing internal calls it any more.
    this.run = new RunService(this, "run", {
      ...common,
      serviceName: SERVICE_NAME,
      spec: env.run,
      env: { ...plainEnv, SERVICE_ROLE: "public", TRUSTED_PROXY_HOPS: String(trustedProxyHops(edgeDomain)) },
      publicAccessReason: PUBLIC_ACCESS_REASON,
      // Behind the edge, only the load balancer (and internal sources) may reach it: nobody goes around
      // Cloud Armor through the run.app URL.
      ingress: edgeDomain ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL",
    });
    if (edgeDomain) {
      const armor = new ArmorPolicy(this, "armor", { projectId: d.projectId, spec: env.edge.armor });
      this.edge = new Edge(this, "edge", {
        projectId: d.projectId,
        region: d.region,
        serviceName: this.run.service.name,
        domain: edgeDomain,
        securityPolicyId: armor.policy.id,
        labels: d.labels,
      });
    }
    // Internal only, and only the invoker identity (Cloud Tasks' and Cloud Scheduler's OIDC tokens) may
    // invoke it: a request needs both an internal source and that identity's token.
    this.worker = new RunService(this, "worker", {
      ...common,
      serviceName: WORKER_SERVICE_NAME,
      description: "Switchboard worker: /internal/* for Cloud Tasks and Cloud Scheduler",
      spec: env.worker,
      env: {
        ...plainEnv,
        LOG_LEVEL: env.worker.logLevel,
        DATABASE_POOL_MAX: String(env.worker.databasePoolMax),
        SERVICE_ROLE: "worker",
      },
      ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
      invokerMember: identity.invokerMember,
    });
    // The first revision reads the secrets and logs in to Cloud SQL as its IAM user before its startup
    // probe passes: the user, the secrets and every grant involved must exist first.
    for (const service of [this.run.service, this.worker.service]) {
      service.dependsOn = [
        ...(service.dependsOn ?? []),
        ...[
          this.database.iamUser,
          ...secrets.byEnvVar.values(),
          ...secrets.accessGrants,
          ...identity.runtimeGrants,
          ...identity.deployerGrants,
        ].map((r) => dependable(r)),
      ];
    }

    const poll = new PollSchedule(this, "poll", {
      projectId: d.projectId,
      region: d.region,
      spec: env.polling,
      targetUrl: `${internalAudience}/internal/poll`,
      audience: internalAudience,
      invokerEmail: identity.invoker.email,
    });
    // The retention purge: the worker's timeout bounds one call; it is idempotent, so retrying is safe.
    const retention = new PollSchedule(this, "retention", {
      projectId: d.projectId,
      region: d.region,
      jobName: "switchboard-retention",
      description: "Purges data past its retention period (POST /internal/retention)",
      spec: env.retention,
      targetUrl: `${internalAudience}/internal/retention`,
      audience: internalAudience,
      invokerEmail: identity.invoker.email,
      attemptDeadline: `${env.worker.timeoutSeconds}s`,
      retryCount: 3,
    });
    // Creating a job that mints the invoker's tokens needs actAs on the invoker.
    for (const job of [poll.job, retention.job]) {
      job.dependsOn = [...(job.dependsOn ?? []), ...identity.deployerGrants.map((g) => dependable(g))];
    }

    // ---- observability ----
    const logMetrics = new LogMetrics(this, "log-metrics", {
      projectId: d.projectId,
      serviceNames: [SERVICE_NAME, WORKER_SERVICE_NAME],
    });
    const catalog = buildCatalog(logMetrics.metricTypes);
    const channels = new NotificationChannels(this, "notifications", {
      projectId: d.projectId,
      emails: d.alertEmails,
      labels: d.labels,
    });
    new UptimeCheck(this, "uptime", {
      projectId: d.projectId,
      host: publicHost,
      period: env.alerting.uptimePeriod,
      labels: d.labels,
    });
    // Literal values only: cdktf's HCL renderer (cdktf synth --hcl) mangles quoted strings that also hold
    // references, and every filter quotes its values. The uptime alert filters on this project's checks.
    const vars = {
      ...LOG_VALUE_VARS,
      ENV: env.name,
      PROJECT_ID: d.projectId,
      REGION: d.region,
      SERVICE_NAME,
      SQL_DATABASE_ID: `${d.projectId}:${this.database.instanceName}`,
      SQL_CONNECTIONS_ALERT: Math.floor(env.database.maxConnections * 0.9),
      RUN_MAX_INSTANCES: env.run.maxInstances,
      TASK_QUEUE: this.queue.queueName,
      MODEL_DAILY_COST_USD: env.alerting.model.dailyCostUsd,
      MODEL_TOKENS_PER_REQUEST: env.alerting.model.tokensPerRequest,
      MODEL_CACHE_HIT_RATE_MIN: env.alerting.model.cacheHitRateMin,
      MODEL_ALERT_MIN_CALLS: env.alerting.model.minCallsPerHour,
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
    if (this.edge && edgeDomain) {
      new TerraformOutput(this, "load_balancer_ip", {
        value: this.edge.ipAddress,
        description: `DNS: an A record for ${edgeDomain} pointing here; the certificate provisions after it resolves`,
      });
    }
    new TerraformOutput(this, "worker_url", {
      value: this.workerUrl,
      description: "Internal worker (Cloud Tasks, Cloud Scheduler); not reachable from the internet",
    });
    new TerraformOutput(this, "worker_service", {
      value: WORKER_SERVICE_NAME,
      description: "Roll each release's image out to this service too (gcloud run deploy --image)",
    });
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

/** The domain the edge serves, when the environment has the edge on and the site gives it a domain. */
function edgeDomainOf(d: Deployment): string | undefined {
  if (d.domain && !d.env.edge.enabled) {
    throw new Error(
      `environments.${d.env.name}.domain is set in the site, but the edge is off for ${d.env.name} ` +
        "(edge.enabled in infra/environments.ts): turn it on, or remove the domain",
    );
  }
  return d.env.edge.enabled ? d.domain : undefined;
}

/**
 * TRUSTED_PROXY_HOPS (brief contract): how many trusted proxies append to X-Forwarded-For, so the service
 * takes the client address that many places from the right and ignores whatever a client wrote itself.
 * - Cloud Run alone: its front end appends the address it saw as the last entry → 1.
 * - Behind the global external Application Load Balancer: the load balancer appends
 *   "<client-ip>,<load-balancer-ip>" (https://cloud.google.com/load-balancing/docs/https#x-forwarded-for_header)
 *   and Cloud Run adds nothing after those, so the client is second from the right → 2 (the same position
 *   kubernetes/registry.k8s.io reads behind a Google load balancer and Cloud Run, pkg/net/clientip).
 */
function trustedProxyHops(edgeDomain: string | undefined): number {
  return edgeDomain ? 2 : 1;
}
