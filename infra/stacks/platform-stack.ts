import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { GcsBackend, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { AlertPolicies } from "../constructs/alert-policies";
import { ArmorPolicy } from "../constructs/armor-policy";
import { ArtifactRegistry } from "../constructs/artifact-registry";
import { AuditLogs } from "../constructs/audit-logs";
import { Budget } from "../constructs/budget";
import { ciAccountEmail, DEPLOY_ACCOUNT_ID } from "../constructs/ci-identities";
import { Dashboards } from "../constructs/dashboards";
import { Database } from "../constructs/database";
import { Edge, trustedProxyHops } from "../constructs/edge";
import { GmailPush } from "../constructs/gmail-push";
import { Identity, VERTEX_RUNTIME_ROLE } from "../constructs/identity";
import { LogMetrics } from "../constructs/log-metrics";
import { runAppHost } from "../constructs/naming";
import { Network } from "../constructs/network";
import { NotificationChannels } from "../constructs/notification-channels";
import { PollSchedule } from "../constructs/poll-schedule";
import { ProjectServices } from "../constructs/project-services";
import { RunService } from "../constructs/run-service";
import { Secrets } from "../constructs/secrets";
import { ServiceEnvironment } from "../constructs/service-environment";
import { TaskQueue } from "../constructs/task-queue";
import { TenantSecrets } from "../constructs/tenant-secrets";
import { UptimeCheck } from "../constructs/uptime-check";
import { apisFor, type Deployment, type RunSpec, secretsFor } from "../environments";
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
/** Where Pub/Sub pushes Gmail notifications on the public service. */
const GMAIL_PUSH_PATH = "/webhooks/email/gmail-push";

/** Why the service accepts unauthenticated requests (becomes the SB_RUN_PUBLIC_INVOKER exemption). */
const PUBLIC_ACCESS_REASON =
  "End users' browsers call POST /api/v1/chat and load the widget, and Intercom delivers POST " +
  "/webhooks/intercom from the internet; neither can present a Google identity. The service authenticates " +
  "them itself (signed session tokens, X-Hub-Signature HMAC). /internal/* is not served here: it lives on " +
  "the internal worker service, which only the invoker identity may call.";

/** Where the services are reached: known before anything exists (deterministic run.app hosts). */
interface Addresses {
  /** What users, Intercom and the uptime check call: the edge's domain, or the public service's run.app host. */
  readonly publicHost: string;
  readonly publicUrl: string;
  /** The worker's run.app URL: Cloud Tasks and Cloud Scheduler target it, and it is the OIDC audience. */
  readonly workerUrl: string;
  /** The domain the edge serves; undefined without a domain or with the edge off. */
  readonly edgeDomain?: string;
}

/** The constructs everything else is wired to. */
interface Foundation {
  readonly network: Network;
  readonly identity: Identity;
  readonly database: Database;
  readonly secrets: Secrets;
  readonly registry: ArtifactRegistry;
  readonly queue: TaskQueue;
  readonly tenantSecrets: TenantSecrets;
}

/**
 * One environment of Switchboard in its own Google Cloud project: APIs, network, database, secrets,
 * identities, image registry, the two Cloud Run services (public, and the internal worker that serves
 * /internal/* to Cloud Tasks and Cloud Scheduler), the task queue and schedules, and observability.
 * State lives in the bootstrap bucket under `switchboard/<env>`.
 *
 * The stack composes: each construct owns one concern and is handed the constructs it wires to, and the
 * services' environment is filled by the constructs that produce its values (ServiceEnvironment).
 * Construct ids are resource addresses: renaming one destroys and recreates what it holds.
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
  /** The Gmail e-mail channel's push delivery and watch renewal; undefined while email is off. */
  readonly gmailPush?: GmailPush;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const d = props.deployment;
    this.useStateAndProviders(d);
    const apis = new ProjectServices(this, "apis", {
      projectId: d.projectId,
      apis: apisFor(d.env, d.site.billingAccount !== undefined),
    });
    const addresses = addressesOf(d);
    this.publicUrl = addresses.publicUrl;
    this.workerUrl = addresses.workerUrl;

    const foundation = this.foundation(d);
    const { database, secrets, queue, identity, tenantSecrets } = foundation;
    this.database = database;
    this.queue = queue;
    // What both services read, each construct adding its own part (and what a revision waits for).
    const environment = deploymentEnvironment(d, addresses).add(
      database,
      secrets,
      queue,
      identity,
      tenantSecrets,
    );
    this.schedules(d, identity);
    this.gmailPush = this.email(d, identity);
    if (this.gmailPush) environment.add(this.gmailPush);
    const services = this.services(d, addresses, foundation, environment);
    this.run = services.run;
    this.worker = services.worker;
    this.edge = services.edge;
    this.observability(d, addresses);

    // Every resource waits for the APIs it calls (enabling an API is eventually consistent).
    apis.gate(this);
    this.outputs(d, addresses, foundation);
    applyGuardrails(this, { requireDataProtection: d.env.deletionProtection });
  }

  private useStateAndProviders(d: Deployment): void {
    const { env } = d;
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
  }

  /** Network, identities, database, secrets, image registry and task queue. */
  private foundation(d: Deployment): Foundation {
    const { env } = d;
    const common = { projectId: d.projectId, labels: d.labels };
    const network = new Network(this, "network", {
      ...common,
      region: d.region,
      network: env.network,
      connector: env.connector,
    });
    const identity = new Identity(this, "identity", {
      projectId: d.projectId,
      extraRuntimeRoles: env.model.gemini === "vertex" ? [VERTEX_RUNTIME_ROLE] : [],
      // The CI deploy identity acts as these two accounts only (no project-wide serviceAccountUser).
      deployerMember: `serviceAccount:${ciAccountEmail(DEPLOY_ACCOUNT_ID, d.site.bootstrapProjectId)}`,
    });
    const database = new Database(this, "database", {
      ...common,
      region: d.region,
      spec: env.database,
      deletionProtection: env.deletionProtection,
      network,
      iamServiceAccountUser: identity.runtimeDatabaseUser,
    });
    const secrets = new Secrets(this, "secrets", {
      ...common,
      secrets: secretsFor(env),
      accessor: identity.runtime,
      deletionProtection: env.deletionProtection,
      ready: d.readySecrets,
      previousVersions: d.previousSecretVersions,
    });
    const registry = new ArtifactRegistry(this, "registry", {
      ...common,
      region: d.region,
      keepCount: env.imagesKept,
    });
    const queue = new TaskQueue(this, "tasks", {
      projectId: d.projectId,
      region: d.region,
      spec: env.tasks,
      enqueuer: identity.runtime,
      invoker: identity.invoker,
    });
    // Tenants' credentials: created by the service itself, under a prefix its grants are conditioned on.
    const tenantSecrets = new TenantSecrets(this, "tenant-secrets", {
      projectId: d.projectId,
      projectNumber: d.projectNumber,
      prefix: env.tenantSecrets.prefix,
      member: identity.runtimeMember,
    });
    return { network, identity, database, secrets, registry, queue, tenantSecrets };
  }

  /** The Intercom poll and the retention purge: Cloud Scheduler calls the worker as the invoker. */
  private schedules(d: Deployment, identity: Identity): void {
    const { env } = d;
    const target = {
      projectId: d.projectId,
      region: d.region,
      audience: this.workerUrl,
      invoker: identity.invoker,
      // Creating a job that mints the invoker's tokens needs actAs on the invoker.
      dependsOn: identity.deployerGrants,
    };
    new PollSchedule(this, "poll", {
      ...target,
      spec: env.polling,
      targetUrl: `${this.workerUrl}/internal/poll`,
    });
    // The retention purge: the worker's timeout bounds one call; it is idempotent, so retrying is safe.
    new PollSchedule(this, "retention", {
      ...target,
      jobName: "switchboard-retention",
      description: "Purges data past its retention period (POST /internal/retention)",
      spec: env.retention,
      targetUrl: `${this.workerUrl}/internal/retention`,
      attemptDeadline: `${env.worker.timeoutSeconds}s`,
      retryCount: 3,
    });
  }

  /**
   * Gmail push (issue 15), when the environment has email on: Pub/Sub pushes to PUBLIC_URL (through the
   * edge when it is on), and the audience is that URL, which the service will verify.
   */
  private email(d: Deployment, identity: Identity): GmailPush | undefined {
    if (!d.env.email.enabled) return undefined;
    const pushEndpoint = `${this.publicUrl}${GMAIL_PUSH_PATH}`;
    return new GmailPush(this, "email", {
      projectId: d.projectId,
      projectNumber: d.projectNumber,
      region: d.region,
      spec: d.env.email,
      pushEndpoint,
      pushAudience: pushEndpoint,
      renewalUrl: `${this.workerUrl}/internal/email/renew-watches`,
      internalAudience: this.workerUrl,
      invoker: identity.invoker,
      deployerMember: `serviceAccount:${ciAccountEmail(DEPLOY_ACCOUNT_ID, d.site.bootstrapProjectId)}`,
      schedulerDependsOn: identity.deployerGrants,
      labels: d.labels,
    });
  }

  /** The public service (behind the edge when there is one) and the internal worker. */
  private services(d: Deployment, addresses: Addresses, f: Foundation, shared: ServiceEnvironment) {
    const { env } = d;
    const common = {
      projectId: d.projectId,
      region: d.region,
      image: d.image,
      serviceAccount: f.identity.runtime,
      deletionProtection: env.deletionProtection,
      network: f.network,
      labels: d.labels,
    };
    const behindEdge = addresses.edgeDomain !== undefined;
    // Public: no principal needs run.invoker (the check is off); nothing internal calls it any more.
    const run = new RunService(this, "run", {
      ...common,
      serviceName: SERVICE_NAME,
      spec: env.run,
      environment: roleEnvironment(shared, "public", env.run).set(
        "TRUSTED_PROXY_HOPS",
        String(trustedProxyHops(behindEdge)),
      ),
      publicAccessReason: PUBLIC_ACCESS_REASON,
      // Behind the edge, only the load balancer (and internal sources) may reach it: nobody goes around
      // Cloud Armor through the run.app URL.
      ingress: behindEdge ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL",
    });
    const edge = addresses.edgeDomain ? this.edgeFor(d, run, addresses.edgeDomain) : undefined;
    // Internal only, and only the invoker identity (Cloud Tasks' and Cloud Scheduler's OIDC tokens) may
    // invoke it: a request needs both an internal source and that identity's token.
    const worker = new RunService(this, "worker", {
      ...common,
      serviceName: WORKER_SERVICE_NAME,
      description: "Switchboard worker: /internal/* for Cloud Tasks and Cloud Scheduler",
      spec: env.worker,
      environment: roleEnvironment(shared, "worker", env.worker),
      ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
      invoker: f.identity.invoker,
    });
    return { run, worker, edge };
  }

  private edgeFor(d: Deployment, run: RunService, domain: string): Edge {
    const armor = new ArmorPolicy(this, "armor", { projectId: d.projectId, spec: d.env.edge.armor });
    return new Edge(this, "edge", {
      projectId: d.projectId,
      region: d.region,
      service: run.service,
      domain,
      securityPolicy: armor.policy,
      labels: d.labels,
    });
  }

  /** Log-based metrics, uptime check, dashboards, alert policies and the budget. */
  private observability(d: Deployment, addresses: Addresses): void {
    const { env } = d;
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
    const notificationChannelIds = env.alerting.notify ? channels.channelIds : [];
    new AuditLogs(this, "audit-logs", { projectId: d.projectId, dataAccess: env.auditLogs.dataAccess });
    new UptimeCheck(this, "uptime", {
      projectId: d.projectId,
      host: addresses.publicHost,
      period: env.alerting.uptimePeriod,
      labels: d.labels,
    });
    const vars = this.monitoringVars(d);
    new Dashboards(this, "dashboards", { projectId: d.projectId, catalog, vars });
    new AlertPolicies(this, "alerts", {
      projectId: d.projectId,
      catalog,
      vars,
      notificationChannelIds,
      labels: d.labels,
      logMetrics: { types: logMetrics.metricTypes, ready: logMetrics.ready },
    });
    if (d.site.billingAccount) {
      new Budget(this, "budget", {
        billingAccount: d.site.billingAccount,
        projectNumber: d.projectNumber,
        displayName: `switchboard-${env.name}`,
        monthlyUsd: env.budget.monthlyUsd,
        notificationChannelIds,
      });
    }
  }

  /**
   * The `${NAME}` values of dashboards/*.json and policies/*.json. Literal values only: cdktf's HCL renderer
   * (cdktf synth --hcl) mangles quoted strings that also hold references, and every filter quotes its
   * values. The uptime alert filters on this project's checks.
   */
  private monitoringVars(d: Deployment) {
    const { env } = d;
    return {
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
  }

  private outputs(d: Deployment, addresses: Addresses, f: Foundation): void {
    new TerraformOutput(this, "service_url", { value: this.publicUrl });
    if (this.edge && addresses.edgeDomain) {
      new TerraformOutput(this, "load_balancer_ip", {
        value: this.edge.ipAddress,
        description: `DNS: an A record for ${addresses.edgeDomain} pointing here; the certificate provisions after it resolves`,
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
    new TerraformOutput(this, "sms_webhook_urls", {
      value: {
        twilio: `${this.publicUrl}/webhooks/twilio/sms`,
        telnyx: `${this.publicUrl}/webhooks/telnyx/sms`,
        voxie: `${this.publicUrl}/webhooks/voxie/sms`,
      },
      description:
        "SMS providers → the number's inbound webhook (one URL per provider; the number texted finds the tenant)",
    });
    if (this.gmailPush) {
      // The service reads these from its environment (GmailPush.addToEnvironment); here for the runbook.
      const push = this.gmailPush;
      new TerraformOutput(this, "gmail_push", {
        value: {
          topic: push.topic.id,
          GMAIL_PUSH_AUDIENCE: push.pushAudience,
          GMAIL_PUSH_SERVICE_ACCOUNT: push.pushIdentity.email,
        },
        description:
          "users.watch topicName, and the audience and e-mail the service verifies in push requests' OIDC tokens",
      });
    }
    new TerraformOutput(this, "database_connection_name", { value: this.database.connectionName });
    new TerraformOutput(this, "queue_name", { value: this.queue.queuePath });
    new TerraformOutput(this, "image_repository", { value: f.registry.imageRepository });
    new TerraformOutput(this, "runtime_service_account", { value: f.identity.runtime.email });
    new TerraformOutput(this, "secret_ids", {
      value: secretsFor(d.env).map((s) => s.id),
      description: "Secrets to give a version before the service can start (gcloud secrets versions add)",
    });
  }
}

/**
 * The project number comes from the site: reading it with a data source at plan time would fail on a new
 * project, whose Resource Manager API this very stack enables. Deterministic run.app hosts let the services
 * learn their own and each other's URLs without a cycle.
 */
function addressesOf(d: Deployment): Addresses {
  const runHost = runAppHost(SERVICE_NAME, d.projectNumber, d.region);
  const edgeDomain = edgeDomainOf(d);
  return {
    // With the edge, users (and Intercom, and the uptime check) come in through the domain.
    publicHost: edgeDomain ?? runHost,
    publicUrl: edgeDomain ? `https://${edgeDomain}` : (d.publicUrl ?? `https://${runHost}`),
    // Cloud Tasks and Cloud Scheduler count as internal sources for Cloud Run ingress only "if they're in
    // the same project ... and if they're using the default run.app URL and not a custom domain"
    // (https://cloud.google.com/run/docs/securing/ingress#settings): so the worker is addressed by its
    // run.app URL, which is also the OIDC audience /internal/* verifies.
    workerUrl: `https://${runAppHost(WORKER_SERVICE_NAME, d.projectNumber, d.region)}`,
    ...(edgeDomain ? { edgeDomain } : {}),
  };
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

/** What the deployment's data says, and where the services reach each other; the constructs add the rest. */
function deploymentEnvironment(d: Deployment, addresses: Addresses): ServiceEnvironment {
  const { model } = d.env;
  const environment = new ServiceEnvironment()
    .set("NODE_ENV", "production")
    .set("GOOGLE_CLOUD_PROJECT", d.projectId)
    .set("MODEL_PROVIDER", model.provider)
    .set("INTERCOM_ADMIN_ID", d.intercomAdminId)
    .set("INTERCOM_REGION", d.intercomRegion)
    // The look-back window of the Intercom poll that the poll job triggers.
    .set("POLLING_INTERVAL", d.env.polling.interval)
    .set("CORS_ORIGINS", d.corsOrigins.join(","))
    .set("PUBLIC_URL", addresses.publicUrl)
    // Both services enqueue tasks (the public one on webhooks, the worker on follow-ups): they target
    // WORKER_URL, and the worker verifies INTERNAL_AUDIENCE.
    .set("WORKER_URL", addresses.workerUrl)
    .set("INTERNAL_AUDIENCE", addresses.workerUrl);
  if (d.notifyFrom) environment.set("NOTIFY_FROM", d.notifyFrom);
  const oidc = d.env.console?.oidc;
  if (oidc) environment.set("OIDC_ISSUER", oidc.issuer).set("OIDC_CLIENT_ID", oidc.clientId);
  if (model.gemini === "vertex") {
    environment.set("GOOGLE_GENAI_USE_VERTEXAI", "true").set("GOOGLE_CLOUD_LOCATION", model.vertexLocation);
  }
  return environment;
}

/** The shared environment plus what differs between the two services: role, log level and pool size. */
function roleEnvironment(shared: ServiceEnvironment, role: "public" | "worker", spec: RunSpec) {
  return shared
    .copy()
    .set("SERVICE_ROLE", role)
    .set("LOG_LEVEL", spec.logLevel)
    .set("DATABASE_POOL_MAX", String(spec.databasePoolMax));
}
