import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type pino from "pino";
import { InProcessTaskQueue } from "./adapters/in-process-queue";
import { LocalKnowledgeProvider } from "./adapters/local-model";
import { createApp } from "./app";
import { Authenticator } from "./auth";
import { parseBusinessHours } from "./channels/business-hours";
import { IntercomBridge } from "./channels/intercom";
import {
  type Config,
  ConfigError,
  configWarnings,
  databaseTarget,
  type Env,
  internalAudience,
  isSecretReference,
  loadConfig,
  readProcessEnv,
  secretResourceName,
  taskTargetUrl,
} from "./config";
import { type Database, openDatabase } from "./db/client";
import { migrate } from "./db/migrate";
import { ConversationEngine, type EngineSettings } from "./engine/conversation-engine";
import { erasureKey } from "./engine/erasure";
import { loadKnowledgeBase } from "./engine/knowledge";
import { ModelCallLimiter } from "./engine/model-limiter";
import { CircuitBreaker } from "./engine/resilience";
import { purgeExpired, retentionPolicy } from "./engine/retention";
import { onClientError, serverOptions } from "./http-server";
import { createLogger, type Logger } from "./logger";
import type { IntercomGateway } from "./ports/intercom";
import type { ModelProvider } from "./ports/model-provider";
import type { SecretSource } from "./ports/secret-source";
import type { TaskQueue } from "./ports/task-queue";

export const VERSION = process.env.npm_package_version ?? "0.1.0";

export const DEFAULT_SYSTEM_PROMPT = [
  "You are the support assistant of this company, answering customers in a chat.",
  "Answer briefly and concretely from the knowledge base articles when they cover the question.",
  "When they do not, say so plainly and offer to connect the customer with a person; never invent policies, prices or account details.",
  "Placeholders like [EMAIL] or [CARD] stand for details removed for privacy; do not ask the customer to repeat them.",
].join(" ");

export interface StartOptions {
  /** Log destination (tests read the lines); stdout by default. */
  logDestination?: pino.DestinationStream;
  /** Keep the embedded database in memory instead of DATA_DIR (tests). */
  inMemoryDatabase?: boolean;
  /** Secret Manager client options (tests point it at the emulator). */
  secretSource?: SecretSource;
  /** Use this database instead of opening one (tests: two instances sharing one database). Not closed. */
  database?: Database;
  /** Cloud Tasks client options (tests point the real client at the emulator). */
  cloudTasksClientOptions?: import("./adapters/cloud-tasks-queue").CloudTasksClientOptions;
  /** Register SIGTERM/SIGINT handlers (the real process only). */
  handleSignals?: boolean;
}

export interface RunningService {
  url: string;
  port: number;
  config: Config;
  log: Logger;
  /** Stop accepting, let in-flight requests and streams finish, close the pool. */
  close(): Promise<void>;
}

async function secretSourceFor(env: Env): Promise<SecretSource | undefined> {
  if (!Object.values(env).some((v) => v !== undefined && isSecretReference(v))) return undefined;
  // Loaded only when a reference exists: the client library costs start-up time.
  const { SecretManagerSource } = await import("./adapters/secret-manager");
  return new SecretManagerSource();
}

/** Outside production a missing signing key is generated once and kept beside the embedded data. */
async function sessionKey(config: Config, persistDir: string | undefined): Promise<string> {
  if (config.SESSION_SIGNING_KEY) return config.SESSION_SIGNING_KEY;
  if (!persistDir) return randomBytes(32).toString("base64url");
  const file = join(persistDir, "session-signing-key");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const key = randomBytes(32).toString("base64url");
    await writeFile(file, key, { mode: 0o600 });
    await chmod(file, 0o600);
    return key;
  }
}

async function buildProvider(
  config: Config,
  deps: { sql: import("./db/client").Sql; log: Logger; local: LocalKnowledgeProvider },
): Promise<ModelProvider> {
  const wanted =
    config.MODEL_PROVIDER === "auto"
      ? config.GEMINI_API_KEY || config.GOOGLE_GENAI_USE_VERTEXAI
        ? "gemini"
        : "local"
      : config.MODEL_PROVIDER;
  if (wanted === "gemini") {
    const { GeminiProvider } = await import("./adapters/gemini");
    return new GeminiProvider({
      apiKey: config.GEMINI_API_KEY,
      vertex: config.GOOGLE_GENAI_USE_VERTEXAI
        ? { project: config.GOOGLE_CLOUD_PROJECT ?? "", location: config.GOOGLE_CLOUD_LOCATION }
        : undefined,
      baseUrl: config.GOOGLE_GEMINI_BASE_URL,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      cache: config.CONTEXT_CACHE
        ? { sql: deps.sql, ttlSeconds: config.CONTEXT_CACHE_TTL_SECONDS }
        : undefined,
      log: deps.log,
    });
  }
  if (wanted === "gpt-trainer") {
    const { GptTrainerProvider } = await import("./adapters/gpt-trainer");
    return new GptTrainerProvider({
      apiKey: config.GPT_TRAINER_API_KEY ?? "",
      chatbotUuid: config.CHATBOT_UUID ?? "",
      baseUrl: config.GPT_TRAINER_API_BASE,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      sql: deps.sql,
    });
  }
  return deps.local;
}

export function engineSettings(config: Config): EngineSettings {
  return {
    systemPrompt: config.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
    temperature: config.CHAT_TEMPERATURE,
    maxOutputTokens: config.CHAT_MAX_OUTPUT_TOKENS,
    summaryModel: config.MODEL_SUMMARY,
    summaryTemperature: config.SUMMARY_TEMPERATURE,
    history: { maxMessages: config.HISTORY_MAX_MESSAGES, maxTokens: config.HISTORY_MAX_TOKENS },
    routing: {
      defaultModel: config.MODEL_DEFAULT,
      escalationModel: config.MODEL_ESCALATION,
      escalatePatterns: config.ROUTING_ESCALATE_PATTERNS,
      turnThreshold: config.ROUTING_TURN_THRESHOLD,
      maxComparedItems: config.ROUTING_MAX_COMPARED_ITEMS,
      escalateGuests: config.ROUTING_ESCALATE_GUESTS,
    },
    budgets: config.BUDGETS,
    budgetWarnRatio: config.BUDGET_WARN_RATIO,
    prices: config.MODEL_PRICES,
    redactPii: config.PII_REDACTION,
    userRequestsPerMinute: config.RATE_LIMIT_USER_PER_MINUTE,
    guests: {
      clientRequestsPerMinute: config.RATE_LIMIT_CLIENT_PER_MINUTE,
      newSessionsPerHour: config.RATE_LIMIT_GUEST_SESSIONS_PER_HOUR,
      dailyTokenBudget: config.GUEST_BUDGET_DAILY_TOKENS,
      warnRatio: config.BUDGET_WARN_RATIO,
    },
    retry: {
      maxRetries: config.MODEL_MAX_RETRIES,
      baseDelayMs: config.MODEL_RETRY_BASE_MS,
      maxDelayMs: config.MODEL_RETRY_MAX_DELAY_MS,
    },
    knowledgeFullContextTokens: 32_000,
  };
}

interface IntercomParts {
  gateway?: IntercomGateway;
  bridge?: IntercomBridge;
  queue?: TaskQueue;
  adminId?: string;
  poller?: NodeJS.Timeout;
}

/** The Intercom bridge when a token is configured; the rest of the service works without it. */
async function buildIntercom(
  config: Config,
  deps: {
    sql: import("./db/client").Sql;
    engine: ConversationEngine;
    log: Logger;
    cloudTasksClientOptions?: StartOptions["cloudTasksClientOptions"];
    /** The latest value of a variable given as a Secret Manager reference (after a 401: rotated). */
    refreshSecret?: ((variable: string) => Promise<string | undefined>) | undefined;
  },
): Promise<IntercomParts> {
  if (!config.INTERCOM_ACCESS_TOKEN) return {};
  let token = config.INTERCOM_ACCESS_TOKEN;
  const { IntercomSdkGateway } = await import("./adapters/intercom");
  const gateway = new IntercomSdkGateway({
    token: () => token,
    region: config.INTERCOM_REGION,
    baseUrl: config.INTERCOM_API_BASE,
    onUnauthorized: deps.refreshSecret
      ? async () => {
          const fresh = await deps.refreshSecret?.("INTERCOM_ACCESS_TOKEN");
          if (!fresh || fresh === token) return false;
          token = fresh;
          deps.log.info(
            { event: "secret.refreshed", variable: "INTERCOM_ACCESS_TOKEN" },
            "re-read a rotated secret",
          );
          return true;
        }
      : undefined,
  });
  let adminId = config.INTERCOM_ADMIN_ID;
  if (!adminId) {
    try {
      adminId = (await gateway.me()).id;
    } catch (error) {
      deps.log.error(
        { event: "intercom.unavailable", error },
        "could not read the bot admin from Intercom (GET /me); set INTERCOM_ADMIN_ID. Replies are off.",
      );
      return { gateway };
    }
  }
  const bridge = new IntercomBridge({
    sql: deps.sql,
    gateway,
    engine: deps.engine,
    log: deps.log,
    settings: {
      adminId,
      customerTier: config.INTERCOM_CUSTOMER_TIER,
      leaseSeconds: config.OUTBOX_LEASE_SECONDS,
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
      pollLookbackSeconds: 3600,
      pollLimit: 200,
      handoff: {
        assignee: config.HANDOFF_ASSIGNEE
          ? {
              type: config.HANDOFF_ASSIGNEE.startsWith("team:") ? "team" : "admin",
              id: config.HANDOFF_ASSIGNEE.slice(config.HANDOFF_ASSIGNEE.indexOf(":") + 1),
            }
          : undefined,
        tag: config.HANDOFF_TAG,
        message: config.HANDOFF_MESSAGE,
        afterHoursMessage: config.HANDOFF_MESSAGE_AFTER_HOURS,
        businessHours: parseBusinessHours(config.BUSINESS_HOURS, config.BUSINESS_TIMEZONE),
        requestPattern: new RegExp(config.HANDOFF_REQUEST_PATTERN, "i"),
        topicPattern: config.HANDOFF_TOPICS ? new RegExp(config.HANDOFF_TOPICS, "i") : undefined,
        lowConfidenceLimit: config.HANDOFF_LOW_CONFIDENCE_LIMIT,
      },
    },
  });
  let queue: TaskQueue;
  let poller: NodeJS.Timeout | undefined;
  if (config.TASK_QUEUE === "cloud-tasks") {
    const { CloudTasksQueue } = await import("./adapters/cloud-tasks-queue");
    queue = new CloudTasksQueue({
      queue: config.CLOUD_TASKS_QUEUE ?? "",
      targetUrl: taskTargetUrl(config),
      invokerServiceAccount: config.TASKS_INVOKER_SA ?? "",
      audience: internalAudience(config),
      clientOptions: deps.cloudTasksClientOptions,
    });
  } else {
    queue = new InProcessTaskQueue(async (id) => void (await bridge.process(id)), deps.log);
    if (config.POLLING_INTERVAL > 0) {
      // Locally there is no Cloud Scheduler: the same poll (and stale-work sweep) runs on a timer.
      poller = setInterval(() => {
        bridge
          .poll()
          .catch((error: unknown) => deps.log.warn({ event: "intercom.poll_failed", error }, "poll failed"));
      }, config.POLLING_INTERVAL * 1000);
      poller.unref();
    }
  }
  bridge.attachQueue(queue);
  return { gateway, bridge, queue, adminId, ...(poller ? { poller } : {}) };
}

/**
 * A credential given as a Secret Manager reference is re-read (its latest version) when an upstream
 * rejects it, at most once a minute per variable, so a rotated token is picked up without a restart.
 */
function secretRefresher(env: Env, source: SecretSource | undefined, log: Logger, intervalMs = 60_000) {
  if (!source) return undefined;
  const lastRead = new Map<string, number>();
  return async (variable: string): Promise<string | undefined> => {
    const ref = env[variable];
    if (!ref || !isSecretReference(ref)) return undefined;
    const now = Date.now();
    if (now - (lastRead.get(variable) ?? 0) < intervalMs) return undefined;
    lastRead.set(variable, now);
    // A pinned version (`@3`, `/versions/3`) is what the operator chose: only `latest` moves.
    const name = secretResourceName(ref, env.GOOGLE_CLOUD_PROJECT);
    if (!name.endsWith("/versions/latest")) return undefined;
    try {
      return await source.access(name);
    } catch (error) {
      log.warn({ event: "secret.refresh_failed", variable, error }, "could not re-read a secret");
      return undefined;
    }
  };
}

export async function startService(env: Env, opts: StartOptions = {}): Promise<RunningService> {
  const secretSource = opts.secretSource ?? (await secretSourceFor(env));
  const config = await loadConfig(env, secretSource);
  const log = createLogger({
    level: config.LOG_LEVEL,
    destination: opts.logDestination,
    // Google's own client libraries take these from Cloud Run's variables the same way.
    serviceContext: { service: config.K_SERVICE ?? "switchboard", version: config.K_REVISION ?? VERSION },
    identityHashKey: config.SESSION_SIGNING_KEY,
  });
  for (const warning of configWarnings(config)) log.warn({ event: "config.warning" }, warning);
  const startedAt = Date.now();

  const target = databaseTarget(config);
  const embeddedDir =
    target.url || target.cloudSql || opts.inMemoryDatabase ? undefined : join(config.DATA_DIR, "pglite");
  const db: Database = opts.database
    ? { ...opts.database, close: async () => {} }
    : await openDatabase({ ...target, poolMax: config.DATABASE_POOL_MAX, dataDir: embeddedDir });
  try {
    const { applied } = await migrate(db.sql);
    if (applied.length) log.info({ event: "db.migrated", applied }, `applied ${applied.length} migration(s)`);
    const knowledge = await loadKnowledgeBase(db.sql, config.KNOWLEDGE_DIR);
    const local = new LocalKnowledgeProvider(db.sql);
    const provider = await buildProvider(config, { sql: db.sql, log, local });
    const breaker = new CircuitBreaker(
      provider.name,
      config.CIRCUIT_BREAKER_THRESHOLD,
      config.CIRCUIT_BREAKER_COOLDOWN_MS,
    );
    const engine = new ConversationEngine({
      sql: db.sql,
      provider,
      local,
      knowledge,
      breaker,
      limiter: new ModelCallLimiter({
        requestsPerMinute: config.MODEL_REQUESTS_PER_MINUTE,
        tokensPerMinute: config.MODEL_TOKENS_PER_MINUTE,
        queueTimeoutMs: config.MODEL_QUEUE_TIMEOUT_MS,
      }),
      settings: engineSettings(config),
      log,
    });
    const auth = new Authenticator({
      sessionKey: await sessionKey(config, embeddedDir ? config.DATA_DIR : undefined),
      previousSessionKey: config.SESSION_SIGNING_KEY_PREVIOUS,
      jwtSecret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    });
    const intercom = await buildIntercom(config, {
      sql: db.sql,
      engine,
      log,
      cloudTasksClientOptions: opts.cloudTasksClientOptions,
      refreshSecret: secretRefresher(env, secretSource, log),
    });
    // The same key the Authenticator got (configured, or kept beside the embedded data).
    const erasureRefKey = erasureKey(await sessionKey(config, embeddedDir ? config.DATA_DIR : undefined));
    const policy = retentionPolicy(config);
    const retention = () => purgeExpired(db.sql, policy, log);
    // Locally there is no Cloud Scheduler: the same purge runs on a timer.
    const retentionTimer =
      config.TASK_QUEUE === "in-process" && config.RETENTION_INTERVAL > 0
        ? setInterval(() => {
            retention().catch((error: unknown) =>
              log.warn({ event: "retention.failed", error }, "retention purge failed"),
            );
          }, config.RETENTION_INTERVAL * 1000).unref()
        : undefined;
    const app = createApp({
      log,
      auth,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS,
      corsOrigins: config.CORS_ORIGINS,
      webhookBodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
      intercom: {
        webhook: { bridge: intercom.bridge, webhookSecret: config.INTERCOM_WEBHOOK_SECRET },
        internal: {
          bridge: intercom.bridge,
          retention,
          auth:
            config.TASK_QUEUE === "cloud-tasks"
              ? {
                  mode: "oidc",
                  audience: internalAudience(config),
                  invokerEmail: config.TASKS_INVOKER_SA ?? "",
                  jwksUrl: config.GOOGLE_OIDC_JWKS_URL,
                }
              : { mode: "shared", secret: config.INTERNAL_SHARED_SECRET },
        },
        admin: {
          gateway: intercom.gateway,
          sql: db.sql,
          adminApiKey: config.ADMIN_API_KEY,
          erasureKey: erasureRefKey,
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
      googleCloudProject: config.GOOGLE_CLOUD_PROJECT,
      trustedProxyHops: config.TRUSTED_PROXY_HOPS,
      role: config.SERVICE_ROLE,
      publicUrl: config.PUBLIC_URL,
      chat: { engine, sql: db.sql, messageMaxChars: config.MESSAGE_MAX_CHARS },
      health: {
        sql: db.sql,
        databaseKind: db.kind,
        modelProvider: () => ({ name: provider.name, circuit: breaker.state }),
        knowledgeChunks: knowledge.chunks,
        integrations: {
          gemini: provider.name === "gemini",
          intercom: intercom.bridge !== undefined,
          userJwt: auth.usersConfigured,
          secretManager: Object.values(env).some((v) => v !== undefined && isSecretReference(v)),
        },
        version: VERSION,
        startedAt,
      },
    });

    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        {
          fetch: app.fetch,
          port: config.PORT,
          hostname: config.HOST,
          serverOptions: serverOptions({
            headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
            bodyMs: config.HTTP_BODY_TIMEOUT_MS,
            keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
          }),
        },
        () => resolve(s),
      );
    });
    server.on("clientError", onClientError(log));
    const port = (server.address() as AddressInfo).port;
    log.info(
      {
        event: "service.started",
        port,
        role: config.SERVICE_ROLE,
        database: db.kind,
        modelProvider: provider.name,
        knowledgeChunks: knowledge.chunks,
        startupMs: Date.now() - startedAt,
      },
      `Switchboard listening on http://localhost:${port}`,
    );

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        log.info({ event: "service.stopping" }, "shutting down: finishing in-flight requests");
        // Stop accepting; in-flight requests and SSE streams run to completion.
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        // Kept-alive sockets would carry new requests into a draining process: close each one as soon
        // as its in-flight response is done.
        const idleSweep = setInterval(() => {
          if ("closeIdleConnections" in server) server.closeIdleConnections();
        }, 50);
        if ("closeIdleConnections" in server) server.closeIdleConnections();
        const deadline = new Promise<"timeout">((resolve) =>
          setTimeout(resolve, config.SHUTDOWN_TIMEOUT_MS, "timeout").unref(),
        );
        if ((await Promise.race([drained, deadline])) === "timeout") {
          log.warn({ event: "service.shutdown_timeout" }, "in-flight requests did not finish in time");
          if ("closeAllConnections" in server) server.closeAllConnections();
        }
        clearInterval(idleSweep);
        clearInterval(intercom.poller);
        clearInterval(retentionTimer);
        await intercom.queue?.close();
        await db.close(2);
        log.info({ event: "service.stopped" }, "stopped");
      })();
      return closing;
    };

    if (opts.handleSignals) {
      process.on("uncaughtException", (error) => {
        // postgres.js 3.4 can write to a socket it already dropped when a backend dies (a restart or
        // failover) and throws outside any promise: porsager/postgres#1154, #1208. The connection
        // reconnects by itself and the stuck request ends at REQUEST_TIMEOUT_MS, so keep serving. Anything
        // else is a bug we do not understand: exit, and Cloud Run starts a fresh instance.
        if (error instanceof TypeError && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? "")) {
          log.warn(
            { event: "database.driver_error", error },
            "postgres driver error after a lost connection",
          );
          return;
        }
        log.fatal({ event: "service.crashed", error }, "uncaught exception");
        process.exit(1);
      });
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.once(signal, () => {
          // Cloud Run sends SIGKILL 10 s after SIGTERM.
          close().then(
            () => process.exit(0),
            (error: unknown) => {
              log.error({ error }, "shutdown failed");
              process.exit(1);
            },
          );
        });
      }
    }
    return { url: `http://127.0.0.1:${port}`, port, config, log, close };
  } catch (error) {
    await db.close(1).catch(() => {});
    throw error;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  startService(readProcessEnv(), { handleSignals: true }).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else {
      console.error("Switchboard failed to start:", error instanceof Error ? error.message : error);
    }
    process.exit(1);
  });
}
