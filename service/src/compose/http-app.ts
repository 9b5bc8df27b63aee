import { createApp } from "../app";
import { AgentReplies } from "../channels/pipeline/agent-reply";
import { type Config, internalAudience, VERSION } from "../config";
import { consoleSessions } from "../console/session";
import type { Database } from "../db/client";
import type { OutboundEvents } from "../engine/follow-up";
import type { KnowledgeBase } from "../engine/knowledge";
import type { Authenticator } from "../http/auth";
import type { Logger } from "../logger";
import type { InternalAuthOptions } from "../middleware/internal-auth";
import type { SecretStore } from "../ports/secret-store";
import type { Channels } from "./channels";
import { consoleSignIn } from "./console-sign-in";
import type { EmailParts } from "./email";
import type { EmailInbound } from "./email-inbound";
import type { EscalationParts } from "./escalations";
import type { ModelStack } from "./model-stack";
import { engineSettings } from "./settings";
import type { Tasks } from "./tasks";
import type { WebhooksOut } from "./webhooks-out";

export interface HttpAppParts {
  db: Database;
  log: Logger;
  auth: Authenticator;
  models: ModelStack;
  knowledge: KnowledgeBase;
  channels: Channels;
  /** The task kinds' handlers and the periodic sweeps (the internal routes run them). */
  tasks: Tasks;
  /** Signed webhooks out (the admin API's endpoint routes); absent: those routes are not served. */
  webhooks?: WebhooksOut | undefined;
  /** Where tenant credentials go (the admin API's channel connections). */
  secretStore: SecretStore;
  /** Keys the erasure records' subject references. */
  erasureKey: Buffer;
  /** Signed events out (issue 14): the admin API records lead and erasure events. */
  events: OutboundEvents;
  /** Some variable is a Secret Manager reference (shown to operators on the readiness endpoint). */
  secretManager: boolean;
  /** The tokens of tenants' dynamic-variables URLs (shown with their Telnyx connections). */
  startedAt: number;
  /** Escalations: the web chat's handoffs and the admin API's escalation routes. */
  escalation?: EscalationParts | undefined;
  /** Receiving e-mail: the Gmail push door. */
  emailInbound?: EmailInbound | undefined;
  /** Tenants' mailboxes (the e-mail channel): connect, callback, list, disconnect, watch renewal. */
  email?: EmailParts | undefined;
}

/** Cloud Tasks and Scheduler present Google OIDC tokens; locally a shared secret stands in for them. */
function internalAuthOptions(config: Config): InternalAuthOptions {
  if (config.TASK_QUEUE !== "cloud-tasks") return { mode: "shared", secret: config.INTERNAL_SHARED_SECRET };
  return {
    mode: "oidc",
    audience: internalAudience(config),
    invokerEmail: config.TASKS_INVOKER_SA ?? "",
    jwksUrl: config.GOOGLE_OIDC_JWKS_URL,
  };
}

/** The HTTP surface, wired to the parts built before it. */
export function buildHttpApp(config: Config, parts: HttpAppParts) {
  const { db, auth, models, channels } = parts;
  const intercom = channels.intercom;
  return createApp({
    log: parts.log,
    auth,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS,
    corsOrigins: config.CORS_ORIGINS,
    tenants: models.tenants,
    webhookBodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    // JSON escaping can double a Markdown body; the route itself enforces the document's limit.
    documentBodyLimitBytes: Math.max(config.BODY_LIMIT_BYTES, 2 * config.KNOWLEDGE_DOCUMENT_MAX_BYTES),
    adminApiKey: config.ADMIN_API_KEY,
    internalAuth: internalAuthOptions(config),
    pipeline: channels.pipeline,
    sms: { inbound: channels.sms, publicUrl: config.PUBLIC_URL },
    voice: { greeter: channels.voice?.greeter, inbound: channels.voice?.inbound },
    emailPush: { inbound: parts.emailInbound?.push },
    internal: {
      retention: channels.retention,
      tasks: parts.tasks.handlers,
      sweeps: parts.tasks.sweeps,
      renewWatches: parts.email?.renewWatches,
    },
    emailOAuth: parts.email?.connections,
    intercom: {
      admin: {
        gateway: intercom.gateway,
        sql: db.sql,
        erasureKey: parts.erasureKey,
        events: parts.events,
        configured: {
          accessToken: config.INTERCOM_ACCESS_TOKEN !== undefined,
          webhookSecret: config.INTERCOM_WEBHOOK_SECRET !== undefined,
          adminId: intercom.adminId ?? false,
          region: config.INTERCOM_REGION,
          taskQueue: config.TASK_QUEUE,
          polling: config.TASK_QUEUE === "in-process" && config.POLLING_INTERVAL > 0,
        },
      },
    },
    admin: {
      sql: db.sql,
      tenants: models.tenants,
      engineDefaults: engineSettings(config),
      trials: models.engine,
      secrets: parts.secretStore,
      documentMaxBytes: config.KNOWLEDGE_DOCUMENT_MAX_BYTES,
      publicUrl: config.PUBLIC_URL,
      erasureKey: parts.erasureKey,
      webhooks: parts.webhooks?.admin,
      events: parts.events,
      escalations: parts.escalation?.escalations,
      agentReplies: new AgentReplies({ sql: db.sql, channels: channels.pipeline }),
      slackHosts: config.SLACK_WEBHOOK_HOSTS,
      email: parts.email?.connections,
    },
    console: {
      sessions: consoleSessions({
        sql: db.sql,
        idleSeconds: config.CONSOLE_SESSION_IDLE_MINUTES * 60,
        maxAgeSeconds: config.CONSOLE_SESSION_MAX_HOURS * 3600,
        publicUrl: config.PUBLIC_URL,
      }),
      signIn: consoleSignIn(config),
    },
    googleCloudProject: config.GOOGLE_CLOUD_PROJECT,
    trustedProxyHops: config.TRUSTED_PROXY_HOPS,
    role: config.SERVICE_ROLE,
    publicUrl: config.PUBLIC_URL,
    chat: {
      engine: models.engine,
      sql: db.sql,
      messageMaxChars: config.MESSAGE_MAX_CHARS,
      handoff: parts.escalation?.web,
    },
    health: {
      sql: db.sql,
      databaseKind: db.kind,
      modelProvider: () => ({ name: models.provider.name, circuit: models.breaker.state }),
      knowledgeChunks: parts.knowledge.chunks,
      integrations: {
        gemini: models.provider.name === "gemini",
        intercom: channels.pipeline?.has("intercom") ?? false,
        userJwt: auth.usersConfigured,
        secretManager: parts.secretManager,
      },
      version: VERSION,
      startedAt: parts.startedAt,
    },
  });
}
