import dotenv from "dotenv";
import { z } from "zod";
import type { ModelPrice, TierBudget } from "./domain/accounting";
import { isTimeZone, parseWeeklyHours } from "./domain/business-hours";
import { TIERS, type Tier } from "./domain/identity";
import type { SecretSource } from "./ports/secret-source";

/** The release: npm's package version under `npm start`, written into the bundle by the build. */
export const VERSION = process.env.npm_package_version ?? "0.1.0";

/**
 * The one place that knows every setting. Names follow the original bridge's variables where they
 * existed (GEMINI_API_KEY, DATABASE_URL, PORT, LOG_LEVEL, …); everything else is prefixed by concern.
 */

const bool = (fallback: boolean) =>
  z
    .stringbool({ truthy: ["true", "1", "yes", "on"], falsy: ["false", "0", "no", "off", ""] })
    .default(fallback);
/** Seconds, written plain (`60`) or as a duration (`60s`, `5m`, `1h`), as Terraform and gcloud write them. */
const seconds = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const m = /^\s*(\d+)\s*(s|m|h)?\s*$/i.exec(raw);
      if (!m?.[1]) {
        ctx.addIssue({ code: "custom", message: 'must be seconds, like "60", "60s", "5m" or "1h"' });
        return z.NEVER;
      }
      return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[(m[2] ?? "s").toLowerCase() as "s" | "m" | "h"] ?? 1);
    });
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const num = (fallback: number, min = 0) => z.coerce.number().min(min).default(fallback);
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();
const json = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** A case-insensitive regular expression, compiled here so a typo stops start-up, not the first message. */
const pattern = () =>
  z.string().transform((source, ctx) => {
    try {
      return new RegExp(source, "i");
    } catch {
      ctx.addIssue({ code: "custom", message: "is not a valid regular expression" });
      return z.NEVER;
    }
  });
/** Comma-separated regular-expression fragments, each (and their alternation) a valid expression. */
const patternList = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const fragments = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        new RegExp(`\\b(?:${fragments.join("|")})`, "i");
      } catch {
        ctx.addIssue({
          code: "custom",
          message: "must be comma-separated valid regular-expression fragments",
        });
        return z.NEVER;
      }
      return fragments;
    });

/** USD per 1M tokens. Prices change: override with MODEL_PRICES rather than editing code. */
const priceSchema = z.object({
  input: z.number().min(0),
  output: z.number().min(0),
  cached: z.number().min(0),
});

export const DEFAULT_MODEL_PRICES: Record<string, ModelPrice> = {
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cached: 0.03 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cached: 0.125 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4, cached: 0.01 },
  local: { input: 0, output: 0, cached: 0 },
};

const tierBudgetSchema = z.object({
  daily: z.number().int().min(0).nullable(),
  monthly: z.number().int().min(0).nullable(),
});

export const DEFAULT_BUDGETS: Record<Tier, TierBudget> = {
  guest: { daily: 10_000, monthly: null },
  free: { daily: 50_000, monthly: 500_000 },
  premium: { daily: 200_000, monthly: 3_000_000 },
  enterprise: { daily: null, monthly: null },
};

export const DEFAULT_ESCALATION_PATTERNS = [
  "compare",
  "comparison",
  "analy[sz]e",
  "analysis",
  "recommend (the )?best",
  "pros and cons",
  "detailed explanation",
  "why should i",
];

export const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** Unset: `0.0.0.0` on Cloud Run (K_SERVICE), `127.0.0.1` elsewhere (see withDerivedDefaults). */
  HOST: optionalString,
  PORT: int(8080, 0).pipe(z.number().max(65535)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GOOGLE_CLOUD_PROJECT: optionalString,
  // Set by Cloud Run: the service's name decides the listen address (withDerivedDefaults); both name the
  // service and its revision in Error Reporting.
  K_SERVICE: optionalString,
  K_REVISION: optionalString,

  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
  ),
  DATABASE_POOL_MAX: int(5, 1),
  CLOUD_SQL_INSTANCE: optionalString.pipe(
    z
      .string()
      .regex(/^([a-z0-9.-]+:)?[a-z][a-z0-9-]*:[a-z0-9-]+:[a-z0-9-]+$/, 'must be "project:region:instance"')
      .optional(),
  ),
  CLOUD_SQL_IP_TYPE: z.enum(["PRIVATE", "PUBLIC", "PSC"]).default("PRIVATE"),
  DATABASE_USER: optionalString,
  DATABASE_NAME: optionalString,
  DATA_DIR: z.string().default(".data"),

  MODEL_PROVIDER: z.enum(["auto", "gemini", "local", "gpt-trainer"]).default("auto"),
  GEMINI_API_KEY: optionalString,
  GOOGLE_GEMINI_BASE_URL: optionalString.pipe(z.url().optional()),
  GOOGLE_GENAI_USE_VERTEXAI: bool(false),
  GOOGLE_CLOUD_LOCATION: z.string().default("us-central1"),
  MODEL_DEFAULT: z.string().default("gemini-2.5-flash"),
  MODEL_ESCALATION: z.string().default("gemini-2.5-pro"),
  MODEL_SUMMARY: z.string().default("gemini-2.5-flash-lite"),
  MODEL_PRICES: json(z.record(z.string(), priceSchema), DEFAULT_MODEL_PRICES),
  ROUTING_ESCALATE_PATTERNS: patternList(DEFAULT_ESCALATION_PATTERNS),
  ROUTING_TURN_THRESHOLD: int(10, 1),
  ROUTING_MAX_COMPARED_ITEMS: int(2, 1),
  ROUTING_ESCALATE_GUESTS: bool(false),
  CHAT_TEMPERATURE: num(0.3).pipe(z.number().max(2)),
  CHAT_MAX_OUTPUT_TOKENS: int(8000, 1),
  SUMMARY_TEMPERATURE: num(0.1).pipe(z.number().max(2)),
  SYSTEM_PROMPT: optionalString,
  HISTORY_MAX_MESSAGES: int(10, 2),
  HISTORY_MAX_TOKENS: int(4000, 100),
  CONTEXT_CACHE: bool(true),
  CONTEXT_CACHE_TTL_SECONDS: int(3600, 60),
  MODEL_TIMEOUT_MS: int(30_000, 100),
  MODEL_MAX_RETRIES: int(2, 0).pipe(z.number().max(6)),
  MODEL_RETRY_BASE_MS: int(250, 1),
  MODEL_RETRY_MAX_DELAY_MS: int(10_000, 1),
  CIRCUIT_BREAKER_THRESHOLD: int(5, 1),
  CIRCUIT_BREAKER_COOLDOWN_MS: int(30_000, 100),

  BUDGETS: json(z.record(z.enum(TIERS), tierBudgetSchema), DEFAULT_BUDGETS),
  BUDGET_WARN_RATIO: num(0.8).pipe(z.number().max(1)),
  RATE_LIMIT_USER_PER_MINUTE: int(100, 1),
  // Callers without a user JWT (no token, or an anonymous session token) are limited per client address.
  TRUSTED_PROXY_HOPS: int(0, 0).pipe(z.number().max(10)),
  RATE_LIMIT_CLIENT_PER_MINUTE: int(30, 1),
  RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: int(30, 1),
  GUEST_BUDGET_DAILY_TOKENS: int(1_000_000, 0),
  MODEL_REQUESTS_PER_MINUTE: int(500, 1),
  MODEL_TOKENS_PER_MINUTE: int(2_000_000, 1),
  MODEL_QUEUE_TIMEOUT_MS: int(2000, 0),
  // The share of the model quota one tenant may take per minute while other tenants ask too (1: no cap).
  MODEL_QUOTA_TENANT_SHARE: num(0.5).pipe(z.number().gt(0).max(1)),

  PII_REDACTION: bool(true),
  SESSION_SIGNING_KEY: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  SESSION_SIGNING_KEY_PREVIOUS: optionalString.pipe(
    z.string().min(32, "must be at least 32 characters").optional(),
  ),
  JWT_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  /** The user JWT claim that names the user's tenant (its id). */
  JWT_TENANT_CLAIM: z.string().trim().min(1).default("tenant_id"),
  JWT_CLOCK_TOLERANCE_SECONDS: int(30, 0).pipe(z.number().max(300)),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((o) => o.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ message: "must be a comma-separated list of origins like https://example.com" }))),
  REQUEST_TIMEOUT_MS: int(120_000, 100),
  HTTP_HEADERS_TIMEOUT_MS: int(10_000, 100),
  HTTP_BODY_TIMEOUT_MS: int(10_000, 100),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(5_000, 100),
  BODY_LIMIT_BYTES: int(64 * 1024, 1024),
  MESSAGE_MAX_CHARS: int(4000, 1),
  KNOWLEDGE_DIR: z.string().default("service/knowledge"),
  SHUTDOWN_TIMEOUT_MS: int(9000, 100),

  INTERCOM_ACCESS_TOKEN: optionalString,
  INTERCOM_WEBHOOK_SECRET: optionalString,
  INTERCOM_ADMIN_ID: optionalString,
  INTERCOM_REGION: z.enum(["us", "eu", "au"]).default("us"),
  INTERCOM_API_BASE: optionalString.pipe(z.url().optional()),
  INTERCOM_CUSTOMER_TIER: z.enum(TIERS).default("premium"),
  // The SMS providers' API origins, for emulators (test/emulators/); unset, their real APIs.
  TWILIO_API_BASE: optionalString.pipe(z.url().optional()),
  TELNYX_API_BASE: optionalString.pipe(z.url().optional()),
  VOXIE_API_BASE: optionalString.pipe(z.url().optional()),
  WEBHOOK_BODY_LIMIT_BYTES: int(1024 * 1024, 1024),
  POLLING_INTERVAL: seconds(60),
  // ---- Signed webhooks out (docs/webhooks.md) ----
  /**
   * Tenants' webhook endpoints may be http://localhost and loopback or private addresses (the emulators).
   * Never in production, whatever this says: there an endpoint is https to a public address.
   */
  WEBHOOK_ALLOW_LOCAL_TARGETS: bool(true),
  /** A receiver that has not answered within this has failed the attempt. */
  WEBHOOK_TIMEOUT_MS: int(15_000, 1000),
  // ---- end of signed webhooks out ----
  // ---- The e-mail channel: tenants' Gmail mailboxes (docs/email.md) ----
  /** The deployment's Google OAuth client (a Web application client); both unset: mailboxes cannot be connected. */
  GOOGLE_OAUTH_CLIENT_ID: optionalString,
  GOOGLE_OAUTH_CLIENT_SECRET: optionalString,
  /** Google's OAuth and Gmail API origins, for emulators (test/emulators/gmail.ts); unset, Google's own. */
  GOOGLE_OAUTH_BASE: optionalString.pipe(z.url().optional()),
  GMAIL_API_BASE: optionalString.pipe(z.url().optional()),
  /** Where Google sends the browser back; default PUBLIC_URL (else http://localhost:PORT) + /api/v1/email/oauth/callback. */
  EMAIL_OAUTH_REDIRECT_URL: optionalString.pipe(z.url().optional()),
  /** The Pub/Sub topic Gmail publishes mailbox changes to (infra output gmail_push.topic). */
  GMAIL_PUBSUB_TOPIC: optionalString.pipe(
    z
      .string()
      .regex(/^projects\/[^/]+\/topics\/[^/]+$/, "must be projects/P/topics/T")
      .optional(),
  ),
  /** The `aud` of the push subscription's OIDC tokens; default the push URL (PUBLIC_URL + /webhooks/email/gmail-push). */
  GMAIL_PUSH_AUDIENCE: optionalString,
  /** The push subscription's service account: only its tokens are accepted. Unset: pushes are refused. */
  GMAIL_PUSH_SERVICE_ACCOUNT: optionalString.pipe(z.email().optional()),
  /** Who signs push tokens and where their keys are: Google's; an emulator's in tests only. */
  GMAIL_PUSH_ISSUER: z.string().default("https://accounts.google.com"),
  GMAIL_PUSH_JWKS_URL: z.url().default("https://www.googleapis.com/oauth2/v3/certs"),
  /** Inbound mail larger than this (Gmail's size estimate, attachments included) is not answered. */
  EMAIL_MAX_BYTES: int(10 * 1024 * 1024, 1024),
  // ---- end of the e-mail channel ----
  // ---- the web console (issue 16, docs/console.md) ----
  /** A console session unused this long ends (minutes). */
  CONSOLE_SESSION_IDLE_MINUTES: int(60, 1),
  /** A console session ends this long after sign-in, used or not (hours). */
  CONSOLE_SESSION_MAX_HOURS: int(12, 1),
  /** The OpenID Connect issuer people sign in with (its discovery document is at /.well-known/openid-configuration). Unset: the local one-time link (never in production). */
  OIDC_ISSUER: optionalString.pipe(z.url().optional()),
  OIDC_CLIENT_ID: optionalString,
  /** The client's secret: may be an `sm://` reference. */
  OIDC_CLIENT_SECRET: optionalString,
  /** Where the issuer sends the browser back; default PUBLIC_URL (else http://localhost:PORT) + /console/auth/callback. */
  OIDC_REDIRECT_URL: optionalString.pipe(z.url().optional()),
  /** The scopes asked for (space-separated); `openid` and `email` are needed to match people. */
  OIDC_SCOPES: z.string().trim().min(1).default("openid email profile"),
  // ---- end of the web console ----
  TASK_QUEUE: z.enum(["in-process", "cloud-tasks"]).default("in-process"),
  CLOUD_TASKS_QUEUE: optionalString.pipe(
    z
      .string()
      .regex(/^projects\/[^/]+\/locations\/[^/]+\/queues\/[^/]+$/, "must be projects/P/locations/L/queues/Q")
      .optional(),
  ),
  TASKS_INVOKER_SA: optionalString.pipe(z.email().optional()),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  SERVICE_ROLE: z.enum(["all", "public", "worker"]).default("all"),
  WORKER_URL: optionalString.pipe(z.url().optional()),
  INTERNAL_AUDIENCE: optionalString,
  INTERNAL_SHARED_SECRET: optionalString.pipe(
    z.string().min(16, "must be at least 16 characters").optional(),
  ),
  GOOGLE_OIDC_JWKS_URL: z.url().default("https://www.googleapis.com/oauth2/v3/certs"),
  OUTBOX_LEASE_SECONDS: int(120, 5),
  OUTBOX_MAX_ATTEMPTS: int(8, 1),
  /** `team:<id>` or `admin:<id>`; unset leaves a handed-off conversation unassigned in the inbox. */
  HANDOFF_ASSIGNEE: optionalString.pipe(
    z
      .string()
      .regex(/^(team|admin):\S+$/, 'must be "team:<id>" or "admin:<id>"')
      .transform((v) => ({
        type: v.startsWith("team:") ? ("team" as const) : ("admin" as const),
        id: v.slice(v.indexOf(":") + 1),
      }))
      .optional(),
  ),
  HANDOFF_TAG: z.string().default("switchboard-handoff"),
  HANDOFF_MESSAGE: z
    .string()
    .default("I'm connecting you with a member of our support team. They'll reply here shortly."),
  HANDOFF_MESSAGE_AFTER_HOURS: z
    .string()
    .default(
      "I'm passing this to our support team. They're offline right now and will reply here as soon as they're back.",
    ),
  BUSINESS_HOURS: z
    .string()
    .default("Mon-Fri 09:00-17:00")
    .transform((spec, ctx) => {
      const hours = parseWeeklyHours(spec);
      if ("error" in hours) {
        ctx.addIssue({ code: "custom", message: hours.error });
        return z.NEVER;
      }
      return hours;
    }),
  BUSINESS_TIMEZONE: z
    .string()
    .trim()
    .default("UTC")
    .refine(isTimeZone, 'must be an IANA time zone like "Europe/Berlin" or "UTC"'),
  HANDOFF_REQUEST_PATTERN: z
    .string()
    .default(
      "\\b(talk|speak|chat|connect me)\\b.{0,24}\\b(human|person|agent|someone|representative|support team)\\b|\\breal (person|human)\\b",
    )
    .pipe(pattern()),
  HANDOFF_TOPICS: optionalString.pipe(pattern().optional()),
  HANDOFF_LOW_CONFIDENCE_LIMIT: int(2, 1),

  // Retention, purged by POST /internal/retention (Cloud Scheduler) or a local timer. Each limit is the
  // age past which rows go; none is "forever".
  /** Days a session may stay idle before it goes with its messages (and messages already summarized). */
  RETENTION_SESSIONS_DAYS: int(90, 1),
  /** Days of usage ledger and of past budget counters: a year of monthly cost comparisons plus a month. */
  RETENTION_USAGE_LEDGER_DAYS: int(395, 1),
  /**
   * Days a notification id is remembered, to drop Intercom's redeliveries. Intercom resends a notification
   * not acknowledged within 5 s, holds throttled ones up to 2 hours, and keeps delivering to an endpoint
   * that answers errors for up to seven days before suspending it; notifications queued during an Intercom
   * outage arrive late. So at least 8 days, and 30 by default.
   * https://developers.intercom.com/docs/webhooks/webhook-notifications
   */
  RETENTION_WEBHOOK_DELIVERIES_DAYS: int(30, 8),
  /** Days an answered or skipped outbox row is kept (for tracing what happened); pending rows always stay. */
  RETENTION_OUTBOX_DAYS: int(30, 1),
  /** Days a finished handoff, and the bridge state of an idle conversation, is kept. */
  RETENTION_HANDOFFS_DAYS: int(90, 1),
  /** Days an audit log row is kept (its own retention; rows leave only by age, through purge_audit_log). */
  RETENTION_AUDIT_LOG_DAYS: int(400, 1),
  /** Hours, not days: windows only count while current; this must outlast the longest window a limit uses. */
  RETENTION_RATE_LIMIT_HOURS: int(48, 1),
  /** Rows deleted per statement, so a purge never holds locks for long. */
  RETENTION_BATCH_SIZE: int(1000, 1),
  /** A purge call stops after this (plus one round of batches); the next call continues. */
  RETENTION_TIME_BUDGET_MS: int(20_000, 0),
  /** Seconds between local purges (in-process queue only; `0` turns it off). In Cloud, Cloud Scheduler calls. */
  RETENTION_INTERVAL: seconds(3600),
  GPT_TRAINER_API_KEY: optionalString,
  CHATBOT_UUID: optionalString,
  GPT_TRAINER_API_BASE: optionalString.pipe(z.url().optional()),
  ADMIN_API_KEY: optionalString.pipe(z.string().min(24, "must be at least 24 characters").optional()),
  /** The largest knowledge document the admin API accepts (its Markdown body, in bytes). */
  KNOWLEDGE_DOCUMENT_MAX_BYTES: int(256 * 1024, 1024),

  // Escalations: the team's notifications (docs/escalations.md).
  /**
   * The SMTP relay escalation e-mails go through, e.g. `smtps://user:pass@smtp.example.com:465`: holds a
   * password, so a secret (may be an `sm://` reference). Unset: no escalation e-mail.
   */
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .refine((v) => /^smtps?:\/\//.test(v), "must be an smtp:// or smtps:// URL")
      .optional(),
  ),
  /** The sender of escalation e-mails, e.g. `Switchboard <escalations@example.com>` (SPF/DKIM for its domain). */
  NOTIFY_FROM: z.string().trim().min(3).default("Switchboard <switchboard@localhost>"),
  /** Hosts a tenant's Slack webhook URL may name (comma-separated); https unless 127.0.0.1 (an emulator). */
  SLACK_WEBHOOK_HOSTS: z
    .string()
    .default("hooks.slack.com")
    .transform((v) =>
      v
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
  /** A notification is given up on (`failed`) after this many attempts. */
  NOTIFY_MAX_ATTEMPTS: int(8, 1),

  // Per-tenant credentials (service/src/ports/secret-store.ts).
  // Contacts and leads (issue 14): a chat or SMS conversation quiet this long is read for its contact and
  // lead (a tenant's `extraction.idleMinutes` overrides it); at most EXTRACTION_BATCH of them per poll.
  EXTRACTION_IDLE_MINUTES: int(30, 1),
  EXTRACTION_BATCH: int(20, 1),
  SECRET_STORE: z.enum(["database", "secret-manager"]).default("database"),
  /** 32 random bytes, base64: the AES-256-GCM key of the database store. Unset outside production: generated. */
  SECRET_STORE_KEY: optionalString.pipe(
    z
      .string()
      .refine(
        (v) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && Buffer.from(v, "base64").length === 32,
        "must be 32 random bytes in base64 (openssl rand -base64 32)",
      )
      .optional(),
  ),
  /** Every tenant secret's id starts with it; the runtime's IAM grant is conditioned on it (infra). */
  SECRET_STORE_PREFIX: z
    .string()
    .default("switchboard-tenant-")
    .pipe(
      z
        .string()
        .regex(
          /^[A-Za-z][A-Za-z0-9_-]{0,98}[-_]$/,
          'must be letters, digits, "-" and "_", start with a letter and end with "-" or "_"',
        ),
    ),
});

const truthy = (v: string | undefined) =>
  v !== undefined && ["true", "1", "yes", "on"].includes(v.trim().toLowerCase());
const present = (v: string | undefined) => v !== undefined && v.trim() !== "";

/**
 * Rules between variables, checked on the raw values so they are reported together with every other
 * problem (a schema refinement would stay silent while any single field is invalid).
 */
function crossFieldIssues(env: Env): string[] {
  const issues: string[] = [];
  const provider = env.MODEL_PROVIDER?.trim() || "auto";
  if (provider === "gemini" && !present(env.GEMINI_API_KEY) && !truthy(env.GOOGLE_GENAI_USE_VERTEXAI)) {
    issues.push(
      "GEMINI_API_KEY: is required when MODEL_PROVIDER=gemini (or set GOOGLE_GENAI_USE_VERTEXAI=true)",
    );
  }
  if (provider === "gpt-trainer") {
    for (const key of ["GPT_TRAINER_API_KEY", "CHATBOT_UUID"]) {
      if (!present(env[key])) issues.push(`${key}: is required when MODEL_PROVIDER=gpt-trainer`);
    }
  }
  if (truthy(env.GOOGLE_GENAI_USE_VERTEXAI) && !present(env.GOOGLE_CLOUD_PROJECT)) {
    issues.push("GOOGLE_CLOUD_PROJECT: is required when GOOGLE_GENAI_USE_VERTEXAI=true");
  }
  if (env.NODE_ENV?.trim() === "production" && !present(env.SESSION_SIGNING_KEY)) {
    issues.push(
      "SESSION_SIGNING_KEY: is required in production (anonymous session tokens must survive restarts and instances)",
    );
  }
  if (env.TASK_QUEUE?.trim() === "cloud-tasks") {
    for (const key of ["CLOUD_TASKS_QUEUE", "TASKS_INVOKER_SA"]) {
      if (!present(env[key])) issues.push(`${key}: is required when TASK_QUEUE=cloud-tasks`);
    }
    if (!present(env.PUBLIC_URL) && !present(env.WORKER_URL)) {
      issues.push(
        "PUBLIC_URL: is required when TASK_QUEUE=cloud-tasks (or WORKER_URL, where tasks are sent)",
      );
    }
  }
  issues.push(...databaseIssues(env));
  issues.push(...jwksIssues(env));
  issues.push(...secretStoreIssues(env));
  issues.push(...oidcIssues(env));
  return issues;
}

/**
 * Secret Manager needs the project its secrets live in. The database store needs a key that every
 * instance shares and that outlives them: in production only a configured one (a key generated on a Cloud
 * Run instance's disk would die with it, and the credentials with it).
 */
function secretStoreIssues(env: Env): string[] {
  const store = env.SECRET_STORE?.trim() || "database";
  if (store === "secret-manager") {
    return present(env.GOOGLE_CLOUD_PROJECT)
      ? []
      : ["GOOGLE_CLOUD_PROJECT: is required when SECRET_STORE=secret-manager"];
  }
  if (store === "database" && env.NODE_ENV?.trim() === "production" && !present(env.SECRET_STORE_KEY)) {
    return [
      "SECRET_STORE_KEY: is required in production with SECRET_STORE=database (or set SECRET_STORE=secret-manager, as the Cloud deployment does)",
    ];
  }
  return [];
}

/** An issuer needs the client registered with it; in production it must be reached over https. */
function oidcIssues(env: Env): string[] {
  const issuer = env.OIDC_ISSUER?.trim();
  if (!issuer) return [];
  const issues: string[] = [];
  if (!present(env.OIDC_CLIENT_ID)) issues.push("OIDC_CLIENT_ID: is required when OIDC_ISSUER is set");
  if (env.NODE_ENV?.trim() === "production" && !/^https:\/\//i.test(issuer)) {
    issues.push("OIDC_ISSUER: must be an https:// URL in production");
  }
  return issues;
}

function databaseIssues(env: Env): string[] {
  const issues: string[] = [];
  if (truthy(env.DATABASE_IAM_AUTH)) {
    // Removed: it sent the IAM token as a password over TLS that checked no certificate.
    issues.push(
      "DATABASE_IAM_AUTH: is no longer supported; set CLOUD_SQL_INSTANCE, DATABASE_USER and DATABASE_NAME to connect to Cloud SQL through the Cloud SQL connector (IAM authentication, verified server) instead of DATABASE_URL",
    );
  }
  if (!present(env.CLOUD_SQL_INSTANCE)) return issues;
  for (const key of ["DATABASE_USER", "DATABASE_NAME"]) {
    if (!present(env[key])) issues.push(`${key}: is required when CLOUD_SQL_INSTANCE is set`);
  }
  if (present(env.DATABASE_URL)) {
    issues.push("DATABASE_URL: set either DATABASE_URL or CLOUD_SQL_INSTANCE, not both");
  }
  return issues;
}

/**
 * Keys fetched over plain http can be swapped by anyone on the path, and tokens of an identity provider
 * without a pinned issuer and audience include every other application's tokens of that provider.
 */
function jwksIssues(env: Env): string[] {
  const url = env.JWT_JWKS_URL?.trim();
  if (!url) return [];
  const nodeEnv = env.NODE_ENV?.trim() || "development";
  const issues: string[] = [];
  if (nodeEnv !== "development" && !/^https:\/\//i.test(url)) {
    issues.push("JWT_JWKS_URL: must be an https:// URL (http is accepted only with NODE_ENV=development)");
  }
  if (nodeEnv === "production") {
    for (const key of ["JWT_ISSUER", "JWT_AUDIENCE"]) {
      if (!present(env[key])) issues.push(`${key}: is required in production when JWT_JWKS_URL is set`);
    }
  }
  return issues;
}

/** Settings that work but should not reach production; logged at start-up. */
export function configWarnings(config: Config): string[] {
  if (!config.JWT_JWKS_URL) return [];
  return ["JWT_ISSUER", "JWT_AUDIENCE"]
    .filter((key) => config[key as "JWT_ISSUER" | "JWT_AUDIENCE"] === undefined)
    .map(
      (key) =>
        `${key} is not set: tokens from JWT_JWKS_URL are accepted without checking it (refused in production)`,
    );
}

export type Config = Omit<z.infer<typeof configSchema>, "HOST"> & { HOST: string };

/**
 * Defaults that depend on where the service runs. It listens on every interface only where it must: on
 * Cloud Run the front end reaches the container from outside it; anywhere else a laptop or VM would
 * otherwise serve the network it is on.
 */
function withDerivedDefaults(parsed: z.infer<typeof configSchema>): Config {
  return { ...parsed, HOST: parsed.HOST ?? (parsed.K_SERVICE ? "0.0.0.0" : "127.0.0.1") };
}
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `sm://NAME`, `sm://NAME@VERSION`, or a full `projects/P/secrets/NAME/versions/V` resource name. */
const SECRET_REF =
  /^(sm:\/\/[A-Za-z0-9_-]+(@[A-Za-z0-9]+)?|projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+)$/;

export function isSecretReference(value: string): boolean {
  return SECRET_REF.test(value.trim());
}

export function secretResourceName(ref: string, project: string | undefined): string {
  const value = ref.trim();
  if (value.startsWith("projects/")) return value;
  const [name, version = "latest"] = value.slice("sm://".length).split("@");
  if (!project) {
    throw new ConfigError([`${ref}: GOOGLE_CLOUD_PROJECT is required to resolve sm:// secret references`]);
  }
  return `projects/${project}/secrets/${name}/versions/${version}`;
}

/**
 * Replaces every Secret Manager reference in `env` by the secret's value. Values are fetched once, at
 * start-up, so a request never waits on Secret Manager.
 */
export async function resolveSecretReferences(env: Env, source: SecretSource | undefined): Promise<Env> {
  const refs = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && isSecretReference(entry[1]),
  );
  if (refs.length === 0) return env;
  if (!source) {
    throw new ConfigError(
      refs.map(([key]) => `${key}: is a Secret Manager reference but no secret source is set`),
    );
  }
  const resolved: Env = { ...env };
  const problems: string[] = [];
  await Promise.all(
    refs.map(async ([key, ref]) => {
      try {
        resolved[key] = await source.access(secretResourceName(ref, env.GOOGLE_CLOUD_PROJECT));
      } catch (error) {
        // Only the reference and the reason: never the value.
        problems.push(
          `${key}: could not read ${ref} (${error instanceof Error ? error.message : String(error)})`,
        );
      }
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems.sort());
  return resolved;
}

export function parseConfig(env: Env): Config {
  const result = configSchema.safeParse(env);
  const cross = crossFieldIssues(env);
  if (result.success && cross.length === 0) return withDerivedDefaults(result.data);
  const fieldIssues = (result.error?.issues ?? []).map((issue) => {
    const key = issue.path.join(".") || "(config)";
    const raw = typeof issue.path[0] === "string" ? env[issue.path[0]] : undefined;
    // Echo the offending value only when it cannot be a credential.
    const shown =
      raw !== undefined && !/KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL|SMTP_URL/.test(key)
        ? ` (got "${raw}")`
        : "";
    return `${key}: ${issue.message}${shown}`;
  });
  throw new ConfigError([...fieldIssues, ...cross]);
}

/** Where Cloud Tasks deliver: the worker service when there is one, else this service. */
export const taskTargetUrl = (config: Config) => config.WORKER_URL ?? config.PUBLIC_URL ?? "";

/** The `aud` of the OIDC tokens Cloud Tasks and Scheduler send to /internal/*: the URL they call. */
export const internalAudience = (config: Config) => config.INTERNAL_AUDIENCE ?? taskTargetUrl(config);

/** Where the database is: Cloud SQL through the connector, a PostgreSQL URL, or neither (embedded PGlite). */
export function databaseTarget(config: Config) {
  if (!config.CLOUD_SQL_INSTANCE) return { url: config.DATABASE_URL, cloudSql: undefined };
  return {
    url: undefined,
    cloudSql: {
      instance: config.CLOUD_SQL_INSTANCE,
      ipType: config.CLOUD_SQL_IP_TYPE,
      user: config.DATABASE_USER ?? "",
      database: config.DATABASE_NAME ?? "",
    },
  };
}

export async function loadConfig(env: Env, secrets?: SecretSource): Promise<Config> {
  return parseConfig(await resolveSecretReferences(env, secrets));
}

/** This process's environment, with a local `.env` file filled in underneath (never over) real variables. */
export function readProcessEnv(): Env {
  dotenv.config({ quiet: true });
  return { ...process.env };
}
