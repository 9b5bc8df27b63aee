import { type EnvironmentName, type Site, SiteConfigError } from "./site";

/**
 * Everything that differs between dev, staging and prod, as data. Constructs never branch on the
 * environment name; they read these fields. Numbers follow the product brief (shared/REFERENCE.md):
 * Cloud Run 2 vCPU / 4 GiB, min 1, max 20, concurrency 80, timeout 300 s in prod; dev scales to zero;
 * Cloud SQL PostgreSQL 15 on db-custom-2-4096 with 20 GB SSD, 7 days of backups, PITR and regional HA in
 * prod; a pool of 5 connections per instance.
 */

/** How the service reaches Gemini: keyless through Vertex AI, or with an API key secret. */
export type GeminiAccess = "vertex" | "api-key";

export interface RunSpec {
  /** vCPU limit, e.g. "1" or "2". */
  readonly cpu: string;
  /** Memory limit, e.g. "512Mi" or "4Gi". */
  readonly memory: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Requests one instance serves at once. */
  readonly concurrency: number;
  readonly timeoutSeconds: number;
  /**
   * CPU only during requests (true) or always allocated (false). The service does no background work
   * (DESIGN.md: work outlives a request only through the task queue), so throttling is safe and cheaper.
   */
  readonly cpuIdle: boolean;
  readonly logLevel: "debug" | "info" | "warn";
  /** Connections each instance may open to PostgreSQL. */
  readonly databasePoolMax: number;
}

export interface ConnectorSpec {
  /** Serverless VPC Access connector machine type: f1-micro, e2-micro or e2-standard-4. */
  readonly machineType: "f1-micro" | "e2-micro" | "e2-standard-4";
  readonly minInstances: number;
  readonly maxInstances: number;
}

export interface NetworkSpec {
  /**
   * How Cloud Run reaches the VPC (Cloud SQL's private IP); only private ranges take that path.
   * - "connector": a Serverless VPC Access connector, at least two VMs running around the clock
   *   (`connector` sizes them) in a /28 subnet.
   * - "direct": Direct VPC egress, instances take IPs from a subnet themselves: no VMs, no connector
   *   throughput ceiling, billed with the instances. Documented limit: a new instance may wait "a minute or
   *   more" for its first connection (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc), so the
   *   startup probe, which reads the database, gets 120 s.
   */
  readonly egress: "connector" | "direct";
  /** /28 subnet the connector runs in (flow logs and private Google access on). */
  readonly connectorCidr: string;
  /**
   * Subnet Direct VPC egress takes instance IPs from (flow logs and private Google access on). Google asks
   * for /26 or larger; Cloud Run holds about 2 IPs per instance, reserved in blocks of 16 per revision, and
   * an old revision keeps its block while a new one rolls out, so a /24 (252 usable) covers both services at
   * their maximum during a rollout in every environment (a test checks it).
   */
  readonly directEgressCidr: string;
  /** Prefix length of the range reserved for private services access (Cloud SQL). */
  readonly privateServicesPrefixLength: number;
  /** Fraction of flows sampled into VPC flow logs. */
  readonly flowLogSampling: number;
}

export interface DatabaseSpec {
  readonly tier: string;
  readonly diskSizeGb: number;
  /** Ceiling for storage auto-grow, in GB. */
  readonly diskAutoresizeLimitGb: number;
  /** REGIONAL = high availability with a standby in a second zone. */
  readonly availability: "ZONAL" | "REGIONAL";
  /** Daily automated backups kept. */
  readonly retainedBackups: number;
  /** Days of write-ahead log kept for point-in-time recovery (1-7). */
  readonly pitrDays: number;
  /** `max_connections` flag; the connections alert fires at 90 % of it. */
  readonly maxConnections: number;
  /** Day (1 = Monday) and hour (UTC) of the maintenance window. */
  readonly maintenanceDay: number;
  readonly maintenanceHour: number;
  readonly backupStartTime: string;
}

export interface ModelSpec {
  readonly provider: "gemini" | "local" | "gpt-trainer";
  readonly gemini: GeminiAccess;
  /** Whether the GPT-trainer credentials (API key and chatbot id) are provisioned. */
  readonly gptTrainer: boolean;
  /** Vertex AI location for Gemini (global endpoint works for the 2.5 models). */
  readonly vertexLocation: string;
}

export interface TasksSpec {
  /**
   * Dispatch rate towards the service. Each task is one conversation turn: one or two Gemini calls and two
   * or three Intercom calls. Gemini allows 500 requests/min per deployment in the brief (8.3/s), Intercom
   * 10,000 calls/min per app, so Gemini bounds it.
   */
  readonly maxDispatchesPerSecond: number;
  readonly maxConcurrentDispatches: number;
  readonly maxAttempts: number;
  /** Gemini's 429 asks for a retry after ~60 s: back off from 10 s to 10 min. */
  readonly minBackoff: string;
  readonly maxBackoff: string;
  readonly maxRetryDuration: string;
  /** Fraction of task operations logged. */
  readonly loggingSamplingRatio: number;
}

/** A Cloud Scheduler job's timing (cron in UTC). */
export interface ScheduleSpec {
  readonly schedule: string;
  readonly paused: boolean;
}

export interface PollingSpec extends ScheduleSpec {
  /** Cron schedule of the Intercom polling job (a safety net behind webhooks). */
  readonly schedule: string;
  /** POLLING_INTERVAL the service uses for its look-back window. */
  readonly interval: string;
}

/**
 * Thresholds of the model alerts the product brief asks for (policies/model-*.json), passed as template
 * variables. Gemini is about $10.60 a day at prod's planned traffic (docs/runbook.md, monthly cost).
 */
export interface ModelAlertSpec {
  /** Model cost over the last 24 hours, USD. */
  readonly dailyCostUsd: number;
  /** Average input + output + thinking tokens per model call over an hour (a turn is ~3,500 today). */
  readonly tokensPerRequest: number;
  /** Context-cache hit rate (cached / input tokens of Gemini chat calls over an hour) that is too low. */
  readonly cacheHitRateMin: number;
  /** Model calls an hour below which the two ratio alerts stay quiet (a handful of calls proves nothing). */
  readonly minCallsPerHour: number;
}

export interface AlertingSpec {
  /** Page the site's alert e-mails; false creates the policies without notifications. */
  readonly notify: boolean;
  /** Uptime check period. */
  readonly uptimePeriod: "60s" | "300s" | "600s" | "900s";
  readonly model: ModelAlertSpec;
}

export interface ArmorSpec {
  /** Per-client-IP rate-based ban (all paths but /webhooks/*): over `count` requests per `intervalSec`. */
  readonly rateLimit: {
    readonly count: number;
    /** One of 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600. */
    readonly intervalSec: number;
    readonly banDurationSec: number;
  };
  /** Preconfigured WAF rule sets (OWASP Core Rule Set), one deny(403) rule each. */
  readonly wafRules: readonly string[];
  /** Only log what the WAF rules would block (preview) until they are tuned on real traffic. */
  readonly wafPreview: boolean;
  /** OWASP paranoia level: 1 has the fewest false positives. */
  readonly wafSensitivity: 1 | 2 | 3 | 4;
}

export interface EdgeSpec {
  /**
   * Put a global external Application Load Balancer with Cloud Armor and a Google-managed certificate in
   * front of the public service, when the site gives the environment a `domain` (until then the service
   * stays on its run.app URL). The public service's ingress becomes internal-and-load-balancer.
   */
  readonly enabled: boolean;
  readonly armor: ArmorSpec;
}

/**
 * Per-tenant credentials (the service's SECRET_STORE=secret-manager): one secret per credential, created
 * by the runtime identity under `prefix`, which its IAM grants are conditioned on (TenantSecrets).
 */
export interface TenantSecretsSpec {
  /** SECRET_STORE_PREFIX: letters, digits, `-`, `_`; ends with `-` or `_` so no other secret shares it. */
  readonly prefix: string;
}

/**
 * Data Access audit logs (DATA_READ, DATA_WRITE and ADMIN_READ) for these services: every read of a tenant
 * credential and every Cloud SQL Admin API read in Cloud Logging. Admin Activity logs are always on; Data
 * Access logs cost ingestion (https://cloud.google.com/logging/docs/audit/configure-data-access).
 */
export interface AuditLogSpec {
  readonly dataAccess: readonly string[];
}

/** Pub/Sub's delivery of Gmail notifications to the public service (POST /webhooks/email/gmail-push). */
export interface GmailPushSpec {
  /** Seconds Pub/Sub waits for the 2xx; the service acknowledges after enqueueing, well within it. */
  readonly ackDeadlineSeconds: number;
  /** Backoff between redeliveries of a notification the service did not acknowledge. */
  readonly minimumBackoff: string;
  readonly maximumBackoff: string;
  /** Deliveries before a notification goes to the dead-letter topic (5-100). */
  readonly maxDeliveryAttempts: number;
  /** How long an unacknowledged (or dead-lettered) notification is kept. */
  readonly messageRetention: string;
}

/**
 * The Gmail e-mail channel (issue 15): the notifications topic, its push subscription and dead letters,
 * the OAuth client secrets and the daily watch renewal.
 */
export interface EmailSpec {
  readonly enabled: boolean;
  readonly push: GmailPushSpec;
  /**
   * When Cloud Scheduler calls POST /internal/email/renew-watches: a Gmail watch lapses after 7 days, and
   * Google recommends renewing daily, so one missed run still leaves six days.
   */
  readonly watchRenewal: ScheduleSpec;
}

export interface BudgetSpec {
  /** Monthly budget in USD; alerts at 50/80/100 % of it. */
  readonly monthlyUsd: number;
}

export interface EnvironmentSpec {
  readonly name: EnvironmentName;
  /**
   * Deletion protection on stateful resources (Cloud SQL in Terraform and in GCP, secrets, the Cloud Run
   * service), and the guardrail that requires it.
   */
  readonly deletionProtection: boolean;
  /** The public service: chat API, widget, webhooks (everything but /internal/*). */
  readonly run: RunSpec;
  /**
   * The worker: the same image as a second, internal-only service (SERVICE_ROLE=worker) that serves
   * /internal/* to Cloud Tasks (one conversation turn per task) and Cloud Scheduler (poll, retention).
   * Sized for that: few concurrent turns per instance (each is one or two model calls of seconds, holding a
   * database connection), and a 600 s timeout, Cloud Tasks' default dispatch deadline for HTTP targets
   * (https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues.tasks#Task), so
   * Cloud Run never cuts a turn Cloud Tasks still waits for. Instances × concurrency stays above the queue's
   * maxConcurrentDispatches; instances × databasePoolMax, added to the public service's, stays under 90 % of
   * max_connections (a test checks both).
   */
  readonly worker: RunSpec;
  readonly connector: ConnectorSpec;
  readonly network: NetworkSpec;
  readonly database: DatabaseSpec;
  readonly model: ModelSpec;
  readonly tasks: TasksSpec;
  readonly polling: PollingSpec;
  /**
   * When Cloud Scheduler calls POST /internal/retention, which purges data past its retention period
   * (the periods themselves are service configuration). Daily, off-peak, off the hour.
   */
  readonly retention: ScheduleSpec;
  readonly alerting: AlertingSpec;
  readonly budget: BudgetSpec;
  readonly edge: EdgeSpec;
  /** Keep images: the most recent N versions survive cleanup. */
  readonly imagesKept: number;
  readonly tenantSecrets: TenantSecretsSpec;
  readonly auditLogs: AuditLogSpec;
  readonly email: EmailSpec;
  /** The web console's sign-in; absent: no issuer (the deployed console then has no sign-in). */
  readonly console?: ConsoleSpec;
}

/**
 * The console's OpenID Connect issuer and client (docs/console.md, "Sign-in"): the issuer and client id are
 * plain configuration; the client secret is the Secret Manager secret `console-oidc-client-secret`.
 */
export interface ConsoleSpec {
  readonly oidc?: { readonly issuer: string; readonly clientId: string };
}

const tasksDefaults: TasksSpec = {
  maxDispatchesPerSecond: 5,
  maxConcurrentDispatches: 20,
  maxAttempts: 10,
  minBackoff: "10s",
  maxBackoff: "600s",
  maxRetryDuration: "3600s",
  loggingSamplingRatio: 1,
};

const modelDefaults: ModelSpec = {
  provider: "gemini",
  gemini: "vertex",
  gptTrainer: false,
  vertexLocation: "global",
};

/**
 * Egress per environment: dev uses Direct VPC egress (it scales to zero, so the connector's two VMs were
 * idle around the clock: about $11 of its ~$67 a month, and dev is where the option gets exercised).
 * Staging and prod keep the connector: in prod a cold instance must not wait up to a minute for its first
 * database connection in the middle of a traffic spike, the connector costs about 2 % of prod's bill, and
 * staging runs on the path prod runs on.
 */
/**
 * The OWASP CRS 3.3 sets that apply to a Node.js JSON API (the issue names v33; Google now also offers
 * CRS 4.22 sets, `-v422-stable`, to move to once these are tuned). 300 requests a minute per IP is far
 * above one person chatting and below a scripted flood; the service's own per-client limits act first
 * on anything slower.
 */
const armorDefaults: ArmorSpec = {
  rateLimit: { count: 300, intervalSec: 60, banDurationSec: 600 },
  wafRules: [
    "sqli-v33-stable",
    "xss-v33-stable",
    "lfi-v33-stable",
    "rfi-v33-stable",
    "rce-v33-stable",
    "methodenforcement-v33-stable",
    "scannerdetection-v33-stable",
    "protocolattack-v33-stable",
    "sessionfixation-v33-stable",
    "nodejs-v33-stable",
  ],
  wafPreview: true,
  wafSensitivity: 1,
};

const tenantSecretsDefaults: TenantSecretsSpec = { prefix: "switchboard-tenant-" };

/** Services whose Data Access audit logs prod turns on: tenant credentials and the database. */
export const PROD_DATA_ACCESS_AUDITED = ["cloudsql.googleapis.com", "secretmanager.googleapis.com"] as const;

/**
 * On in every environment: the service answers tenants' Gmail mailboxes (docs/email.md). Turn it off
 * (`enabled: false`) where an organization policy forbids the grant to Gmail's publisher identity
 * (domain-restricted sharing). Redeliveries back off from 10 s to 10 min;
 * after 10 failed deliveries (about an hour) a notification is dead-lettered, where it is kept 7 days.
 * A lost notification loses no mail: the next one's history.list covers everything since the last id.
 */
const emailDefaults: EmailSpec = {
  enabled: true,
  push: {
    ackDeadlineSeconds: 30,
    minimumBackoff: "10s",
    maximumBackoff: "600s",
    maxDeliveryAttempts: 10,
    messageRetention: "604800s",
  },
  watchRenewal: { schedule: "41 4 * * *", paused: false },
};

const networkDefaults: NetworkSpec = {
  egress: "connector",
  connectorCidr: "10.8.0.0/28",
  directEgressCidr: "10.8.16.0/24",
  privateServicesPrefixLength: 20,
  flowLogSampling: 0.5,
};

export const environments: Readonly<Record<EnvironmentName, EnvironmentSpec>> = {
  dev: {
    name: "dev",
    deletionProtection: false,
    run: {
      cpu: "1",
      memory: "512Mi",
      minInstances: 0,
      maxInstances: 3,
      concurrency: 80,
      timeoutSeconds: 300,
      cpuIdle: true,
      logLevel: "debug",
      databasePoolMax: 5,
    },
    worker: {
      cpu: "1",
      memory: "512Mi",
      minInstances: 0,
      maxInstances: 2,
      concurrency: 10,
      timeoutSeconds: 600,
      cpuIdle: true,
      logLevel: "debug",
      databasePoolMax: 3,
    },
    connector: { machineType: "f1-micro", minInstances: 2, maxInstances: 3 },
    network: { ...networkDefaults, egress: "direct", flowLogSampling: 0.1 },
    database: {
      tier: "db-custom-1-3840",
      diskSizeGb: 10,
      diskAutoresizeLimitGb: 50,
      availability: "ZONAL",
      retainedBackups: 3,
      pitrDays: 1,
      maxConnections: 50,
      maintenanceDay: 2,
      maintenanceHour: 3,
      backupStartTime: "02:00",
    },
    model: modelDefaults,
    tasks: { ...tasksDefaults, maxDispatchesPerSecond: 1, maxConcurrentDispatches: 5 },
    polling: { schedule: "*/5 * * * *", interval: "300s", paused: false },
    retention: { schedule: "17 3 * * *", paused: false },
    alerting: {
      notify: false,
      uptimePeriod: "900s",
      model: { dailyCostUsd: 3, tokensPerRequest: 12_000, cacheHitRateMin: 0.4, minCallsPerHour: 20 },
    },
    budget: { monthlyUsd: 100 },
    edge: { enabled: false, armor: armorDefaults },
    imagesKept: 10,
    tenantSecrets: tenantSecretsDefaults,
    auditLogs: { dataAccess: [] },
    email: emailDefaults,
  },
  staging: {
    name: "staging",
    deletionProtection: true,
    run: {
      cpu: "1",
      memory: "1Gi",
      minInstances: 0,
      maxInstances: 5,
      concurrency: 80,
      timeoutSeconds: 300,
      cpuIdle: true,
      logLevel: "info",
      databasePoolMax: 5,
    },
    worker: {
      cpu: "1",
      memory: "1Gi",
      minInstances: 0,
      maxInstances: 3,
      concurrency: 10,
      timeoutSeconds: 600,
      cpuIdle: true,
      logLevel: "info",
      databasePoolMax: 3,
    },
    connector: { machineType: "e2-micro", minInstances: 2, maxInstances: 3 },
    network: networkDefaults,
    database: {
      tier: "db-custom-1-3840",
      diskSizeGb: 20,
      diskAutoresizeLimitGb: 100,
      availability: "ZONAL",
      retainedBackups: 7,
      pitrDays: 3,
      maxConnections: 100,
      maintenanceDay: 2,
      maintenanceHour: 3,
      backupStartTime: "02:00",
    },
    model: modelDefaults,
    tasks: { ...tasksDefaults, maxDispatchesPerSecond: 2, maxConcurrentDispatches: 10 },
    polling: { schedule: "* * * * *", interval: "60s", paused: false },
    retention: { schedule: "17 3 * * *", paused: false },
    alerting: {
      notify: true,
      uptimePeriod: "300s",
      model: { dailyCostUsd: 5, tokensPerRequest: 12_000, cacheHitRateMin: 0.4, minCallsPerHour: 20 },
    },
    budget: { monthlyUsd: 200 },
    edge: { enabled: false, armor: armorDefaults },
    imagesKept: 20,
    tenantSecrets: tenantSecretsDefaults,
    auditLogs: { dataAccess: [] },
    email: emailDefaults,
  },
  prod: {
    name: "prod",
    deletionProtection: true,
    run: {
      cpu: "2",
      memory: "4Gi",
      minInstances: 1,
      maxInstances: 20,
      concurrency: 80,
      timeoutSeconds: 300,
      cpuIdle: true,
      logLevel: "info",
      databasePoolMax: 5,
    },
    // One warm worker: an Intercom customer's reply would otherwise wait for a cold start.
    worker: {
      cpu: "1",
      memory: "2Gi",
      minInstances: 1,
      maxInstances: 5,
      concurrency: 10,
      timeoutSeconds: 600,
      cpuIdle: true,
      logLevel: "info",
      databasePoolMax: 5,
    },
    connector: { machineType: "e2-micro", minInstances: 2, maxInstances: 10 },
    network: networkDefaults,
    database: {
      tier: "db-custom-2-4096",
      diskSizeGb: 20,
      diskAutoresizeLimitGb: 500,
      availability: "REGIONAL",
      retainedBackups: 7,
      pitrDays: 7,
      // 20 instances x 5 = 100 connections from Cloud Run, plus headroom for migrations and humans.
      maxConnections: 200,
      maintenanceDay: 7,
      maintenanceHour: 3,
      backupStartTime: "02:00",
    },
    model: modelDefaults,
    tasks: tasksDefaults,
    polling: { schedule: "* * * * *", interval: "60s", paused: false },
    retention: { schedule: "17 3 * * *", paused: false },
    alerting: {
      notify: true,
      uptimePeriod: "60s",
      model: { dailyCostUsd: 25, tokensPerRequest: 12_000, cacheHitRateMin: 0.4, minCallsPerHour: 100 },
    },
    budget: { monthlyUsd: 1000 },
    edge: { enabled: true, armor: armorDefaults },
    imagesKept: 30,
    tenantSecrets: tenantSecretsDefaults,
    auditLogs: { dataAccess: PROD_DATA_ACCESS_AUDITED },
    email: emailDefaults,
  },
};

/** Site values and environment data joined: what a platform stack is built from. */
export interface Deployment {
  readonly env: EnvironmentSpec;
  readonly site: Site;
  readonly projectId: string;
  /** The project's number, from the site (Cloud Run URLs, budget filter). */
  readonly projectNumber: string;
  readonly region: string;
  readonly image: string;
  readonly intercomAdminId: string;
  readonly intercomRegion: "us" | "eu" | "au";
  readonly corsOrigins: readonly string[];
  /** Ids of the secrets that have a version: the only ones the service gets. */
  readonly readySecrets: readonly string[];
  /** Pinned previous versions during a rotation, by secret id (the session signing key's). */
  readonly previousSecretVersions: Readonly<Record<string, number>>;
  readonly alertEmails: readonly string[];
  readonly publicUrl?: string;
  /** NOTIFY_FROM: the sender of team notifications (site `environments.<env>.notifyFrom`). */
  readonly notifyFrom?: string;
  /** Custom domain the edge load balancer serves (site `environments.<env>.domain`). */
  readonly domain?: string;
  /** Labels every labelable resource carries (required by guardrail SB_LABELS). */
  readonly labels: Readonly<Record<string, string>>;
}

export function deploymentFor(
  name: EnvironmentName,
  site: Site,
  spec: EnvironmentSpec = environments[name],
): Deployment {
  const s = site.environments[name];
  return {
    env: spec,
    site,
    projectId: s.projectId,
    projectNumber: s.projectNumber,
    region: site.region,
    image: s.image,
    intercomAdminId: s.intercomAdminId,
    intercomRegion: s.intercomRegion,
    corsOrigins: s.corsOrigins,
    readySecrets: readySecretIds(name, s.secretsReady),
    previousSecretVersions: s.previousSessionKeyVersion
      ? { [SECRETS.sessionSigningKey.id]: s.previousSessionKeyVersion }
      : {},
    alertEmails: s.alertEmails ?? site.alertEmails,
    ...(s.publicUrl ? { publicUrl: s.publicUrl } : {}),
    ...(s.notifyFrom ? { notifyFrom: s.notifyFrom } : {}),
    ...(s.domain ? { domain: s.domain } : {}),
    labels: { app: "switchboard", env: name, managed_by: "cdktf" },
  };
}

/**
 * The site's `secretsReady` as secret ids. Names may be ids or env vars of any known secret (one the
 * environment does not use is ignored, so switching a model on later needs no edit here); anything else is
 * a typo and stops synth.
 */
function readySecretIds(name: EnvironmentName, listed: false | readonly string[]): string[] {
  const known = Object.values(SECRETS) as SecretSpec[];
  return (listed || []).map((entry) => {
    const spec = known.find((k) => k.id === entry || k.envVar === entry);
    if (!spec) {
      throw new SiteConfigError(
        `environments.${name}.secretsReady: unknown secret "${entry}"; known: ${known.map((k) => k.id).join(", ")}`,
      );
    }
    return spec.id;
  });
}

/** One credential the service reads, stored as one Secret Manager secret and exposed as one env var. */
export interface SecretSpec {
  /** Secret id in Secret Manager (kebab-case). */
  readonly id: string;
  /** Env var the service reads it from. */
  readonly envVar: string;
  readonly description: string;
  /**
   * Who reads the value: Cloud Run (`secret_key_ref`, resolved only when an instance starts), or the
   * service itself from an `sm://<id>` reference, for credentials an upstream can revoke on rotation: after
   * a 401 the service re-reads the latest version without a new revision.
   * @default "cloud-run"
   */
  readonly readBy?: "cloud-run" | "service";
  /**
   * Env var that carries a pinned previous version during a rotation (Deployment.previousSecretVersions),
   * so what the rotated-out value signed keeps verifying until the rotation's grace period ends.
   * @default undefined (no previous version is exposed)
   */
  readonly previousVersionEnvVar?: string;
}

const SECRETS = {
  intercomAccessToken: {
    id: "intercom-access-token",
    envVar: "INTERCOM_ACCESS_TOKEN",
    description: "Intercom access token of the bot's app (Authorization: Bearer)",
    readBy: "service",
  },
  intercomWebhookSecret: {
    id: "intercom-webhook-secret",
    envVar: "INTERCOM_WEBHOOK_SECRET",
    description: "Intercom app client secret: HMAC-SHA1 key of X-Hub-Signature",
  },
  sessionSigningKey: {
    id: "session-signing-key",
    envVar: "SESSION_SIGNING_KEY",
    description: "Key that signs web chat session tokens",
    previousVersionEnvVar: "SESSION_SIGNING_KEY_PREVIOUS",
  },
  adminApiKey: { id: "admin-api-key", envVar: "ADMIN_API_KEY", description: "Key of the admin API" },
  jwtSecret: {
    id: "jwt-secret",
    envVar: "JWT_SECRET",
    description: "HS256 secret that verifies users' JWTs (the identity provider signs them)",
  },
  geminiApiKey: {
    id: "gemini-api-key",
    envVar: "GEMINI_API_KEY",
    description: "Gemini Developer API key (only when Gemini is not reached through Vertex AI)",
  },
  gptTrainerApiKey: {
    id: "gpt-trainer-api-key",
    envVar: "GPT_TRAINER_API_KEY",
    description: "GPT-trainer API key",
  },
  chatbotUuid: {
    id: "gpt-trainer-chatbot-uuid",
    envVar: "CHATBOT_UUID",
    description: "GPT-trainer chatbot id",
  },
  smtpUrl: {
    id: "smtp-url",
    envVar: "SMTP_URL",
    description: "SMTP relay URL of team notifications, its credentials included (smtps scheme, port 465)",
  },
  // The e-mail channel's Google OAuth client (issue 15): tenants connect their mailboxes through it.
  gmailOAuthClientId: {
    id: "gmail-oauth-client-id",
    envVar: "GOOGLE_OAUTH_CLIENT_ID",
    description: "Google OAuth client id of the e-mail channel (Gmail mailbox connection)",
  },
  gmailOAuthClientSecret: {
    id: "gmail-oauth-client-secret",
    envVar: "GOOGLE_OAUTH_CLIENT_SECRET",
    description: "Google OAuth client secret of the e-mail channel (code exchange, token refresh)",
  },
  consoleOidcClientSecret: {
    id: "console-oidc-client-secret",
    envVar: "OIDC_CLIENT_SECRET",
    description: "Client secret of the web console at its OpenID Connect issuer (sign-in)",
  },
} as const satisfies Record<string, SecretSpec>;

/** The secrets an environment's service reads: always the Intercom and signing keys, model keys by choice. */
export function secretsFor(env: EnvironmentSpec): SecretSpec[] {
  return [
    SECRETS.intercomAccessToken,
    SECRETS.intercomWebhookSecret,
    SECRETS.sessionSigningKey,
    SECRETS.adminApiKey,
    SECRETS.jwtSecret,
    // Given to the service only once it has a version (secretsReady): until then escalations notify by
    // Slack and webhooks only.
    SECRETS.smtpUrl,
    ...(env.model.gemini === "api-key" ? [SECRETS.geminiApiKey] : []),
    ...(env.model.gptTrainer ? [SECRETS.gptTrainerApiKey, SECRETS.chatbotUuid] : []),
    ...(env.email.enabled ? [SECRETS.gmailOAuthClientId, SECRETS.gmailOAuthClientSecret] : []),
    ...(env.console?.oidc ? [SECRETS.consoleOidcClientSecret] : []),
  ];
}

/** APIs a platform stack calls; Vertex AI and billing budgets only when used. */
export function apisFor(env: EnvironmentSpec, withBudget: boolean): string[] {
  return [
    "artifactregistry.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "cloudtrace.googleapis.com",
    "compute.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "serviceusage.googleapis.com",
    "sqladmin.googleapis.com",
    ...(env.network.egress === "connector" ? ["vpcaccess.googleapis.com"] : []),
    ...(env.model.gemini === "vertex" ? ["aiplatform.googleapis.com"] : []),
    ...(withBudget ? ["billingbudgets.googleapis.com"] : []),
    // The Gmail topic and its subscriptions; users.watch and the mail calls bill the OAuth client's project.
    ...(env.email.enabled ? ["pubsub.googleapis.com", "gmail.googleapis.com"] : []),
  ];
}
