import { join } from "node:path";
import type pino from "pino";
import type { CloudTasksClientOptions } from "../adapters/cloud-tasks-queue";
import type { SecretManagerClientOptions } from "../adapters/secret-manager";
import { type Config, configWarnings, databaseTarget, type Env, loadConfig, VERSION } from "../config";
import { type Database, openDatabase } from "../db/client";
import { migrate } from "../db/migrate";
import { DEFAULT_TENANT_ID, inTenant } from "../db/tenant-scope";
import { erasureKey } from "../engine/erasure";
import { loadKnowledgeBase, syncKnowledgeFiles } from "../engine/knowledge";
import { Authenticator } from "../http/auth";
import { createLogger, type Logger } from "../logger";
import type { SecretSource } from "../ports/secret-source";
import type { SecretStore } from "../ports/secret-store";
import { drain, exitOnSignals, listen, type Server } from "../server";
import { buildChannels, type Channels } from "./channels";
import { announceConsoleSignIn } from "./console-sign-in";
import { buildEmail } from "./email";
import { buildEmailInbound } from "./email-inbound";
import { buildFollowUp } from "./follow-up";
import { buildHttpApp } from "./http-app";
import { buildModelStack, type ModelStack } from "./model-stack";
import { type BuiltSecretStore, buildSecretStore } from "./secret-store";
import {
  hasSecretReferences,
  type SecretRefresher,
  secretRefresher,
  secretSourceFor,
  sessionKey,
} from "./secrets";
import { buildTasks, type Tasks } from "./tasks";

export interface StartOptions {
  /** Log destination (tests read the lines); stdout by default. */
  logDestination?: pino.DestinationStream;
  /** Keep the embedded database in memory instead of DATA_DIR (tests). */
  inMemoryDatabase?: boolean;
  /** Secret Manager client options (tests point it at the emulator). */
  secretSource?: SecretSource;
  /** Use this database instead of opening one (tests: two instances sharing one database). Not closed. */
  database?: Database;
  /** Secret Manager client options of the tenant secret store (tests point it at the emulator). */
  secretManagerClientOptions?: SecretManagerClientOptions;
  /** Cloud Tasks client options (tests point the real client at the emulator). */
  cloudTasksClientOptions?: CloudTasksClientOptions;
  /**
   * Where the console's one-time sign-in link is printed (no OIDC_ISSUER, not production). Default: stderr
   * under NODE_ENV=development (`npm start`); none otherwise, so tests of other parts make no link.
   */
  consoleLink?: (line: string) => void;
  /** Register SIGTERM/SIGINT handlers (the real process only). */
  handleSignals?: boolean;
}

export interface RunningService {
  url: string;
  port: number;
  config: Config;
  log: Logger;
  /** Where tenant credentials go (the admin API's channel connections). */
  secretStore: SecretStore;
  /** Stop accepting, let in-flight requests and streams finish, close the pool. */
  close(): Promise<void>;
}

function serviceLogger(config: Config, opts: StartOptions): Logger {
  const log = createLogger({
    level: config.LOG_LEVEL,
    destination: opts.logDestination,
    // Google's own client libraries take these from Cloud Run's variables the same way.
    serviceContext: { service: config.K_SERVICE ?? "switchboard", version: config.K_REVISION ?? VERSION },
    identityHashKey: config.SESSION_SIGNING_KEY,
  });
  for (const warning of configWarnings(config)) log.warn({ event: "config.warning" }, warning);
  return log;
}

/** The test's database (never closed here), or the configured one; embedded ones keep their files here. */
async function database(config: Config, opts: StartOptions) {
  const target = databaseTarget(config);
  const embedded = !(target.url || target.cloudSql || opts.inMemoryDatabase);
  const db: Database = opts.database
    ? { ...opts.database, close: async () => {} }
    : await openDatabase({
        ...target,
        poolMax: config.DATABASE_POOL_MAX,
        dataDir: embedded ? join(config.DATA_DIR, "pglite") : undefined,
      });
  // Outside production a generated session key is kept beside the embedded data (compose/secrets.ts).
  return { db, keyDir: embedded ? config.DATA_DIR : undefined };
}

/** A generated store key is kept beside the data, except for a database that lives in memory. */
function tenantSecretStore(config: Config, db: Database, log: Logger, opts: StartOptions) {
  return buildSecretStore(config, {
    sql: db.sql,
    log,
    keyDir: opts.inMemoryDatabase ? undefined : config.DATA_DIR,
    databaseKind: db.kind,
    secretManagerClientOptions: opts.secretManagerClientOptions,
  });
}

function authenticator(config: Config, signingKey: string): Authenticator {
  return new Authenticator({
    sessionKey: signingKey,
    previousSessionKey: config.SESSION_SIGNING_KEY_PREVIOUS,
    jwtSecret: config.JWT_SECRET,
    jwksUrl: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    tenantClaim: config.JWT_TENANT_CLAIM,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
  });
}

/**
 * The composition root: configuration (every variable validated before anything else), logger,
 * database and migrations, the model stack, the channels, the HTTP app, and the server.
 */
export async function startService(env: Env, opts: StartOptions = {}): Promise<RunningService> {
  const secretSource = opts.secretSource ?? (await secretSourceFor(env));
  const config = await loadConfig(env, secretSource);
  const log = serviceLogger(config, opts);
  const startedAt = Date.now();
  const { db, keyDir } = await database(config, opts);
  let secrets: BuiltSecretStore | undefined;
  try {
    const { applied } = await migrate(db.sql);
    if (applied.length) log.info({ event: "db.migrated", applied }, `applied ${applied.length} migration(s)`);
    secrets = await tenantSecretStore(config, db, log, opts);
    // KNOWLEDGE_DIR is the default tenant's knowledge; other tenants get theirs through the admin API.
    const knowledge = await inTenant(DEFAULT_TENANT_ID, async () => {
      await syncKnowledgeFiles(db.sql, config.KNOWLEDGE_DIR);
      return loadKnowledgeBase(db.sql);
    });
    const models = await buildModelStack(config, { sql: db.sql, log });
    const signingKey = await sessionKey(config, keyDir);
    const auth = authenticator(config, signingKey);
    const tasks = await buildTasks(config, { log, cloudTasksClientOptions: opts.cloudTasksClientOptions });
    const work = await buildWork(config, {
      sql: db.sql,
      log,
      secretStore: secrets.store,
      models,
      tasks,
      refreshSecret: secretRefresher(env, secretSource, log),
    });
    const { email, webhooks, events, escalation, channels, emailInbound } = work;
    const app = buildHttpApp(config, {
      db,
      log,
      auth,
      models,
      knowledge,
      channels,
      tasks,
      webhooks,
      secretStore: secrets.store,
      // The same key the Authenticator got (configured, or kept beside the embedded data).
      erasureKey: erasureKey(signingKey),
      events,
      secretManager: hasSecretReferences(env),
      startedAt,
      escalation,
      email,
      emailInbound,
    });
    const { server, port } = await listen(app.fetch, config, log);
    log.info(
      {
        event: "service.started",
        port,
        role: config.SERVICE_ROLE,
        database: db.kind,
        modelProvider: models.provider.name,
        knowledgeChunks: knowledge.chunks,
        startupMs: Date.now() - startedAt,
      },
      `Switchboard listening on http://localhost:${port}`,
    );
    const close = closer({ server, channels, secrets, db, log, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
    const closeAll = async () => {
      await close();
      escalation.mailer?.close();
    };
    // Before anything else awaits: from the moment it listens, a SIGTERM must drain, not kill the process.
    if (opts.handleSignals) exitOnSignals(closeAll, log);
    await announceConsoleSignIn(config, { sql: db.sql, log, port, print: consoleLinkPrinter(config, opts) });
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      config,
      log,
      secretStore: secrets.store,
      close: closeAll,
    };
  } catch (error) {
    await secrets?.close().catch(() => {});
    await db.close(1).catch(() => {});
    throw error;
  }
}

function consoleLinkPrinter(config: Config, opts: StartOptions) {
  if (opts.consoleLink) return opts.consoleLink;
  if (config.NODE_ENV !== "development") return undefined;
  return (line: string) => process.stderr.write(`${line}\n`);
}

interface WorkDeps {
  sql: Database["sql"];
  log: Logger;
  secretStore: SecretStore;
  models: ModelStack;
  tasks: Tasks;
  refreshSecret: SecretRefresher | undefined;
}

/**
 * What does the work behind the HTTP surface, in the order each needs the others: tenants' mailboxes
 * (before the follow-up, whose team mail can go through them), the follow-up (escalations, contacts,
 * webhooks out), the channels' inbound pipeline, and the Gmail push door into it.
 */
async function buildWork(config: Config, deps: WorkDeps) {
  const { sql, log, secretStore, models, tasks } = deps;
  const email = buildEmail(config, { sql, log, secretStore, tasks });
  const followUp = buildFollowUp(config, {
    sql,
    log,
    tasks,
    secretStore,
    models,
    tenantMailers: email.tenantMailers,
  });
  const { events, contacts, escalation } = followUp;
  email.attachTeam(escalation.escalations);
  const channels = await buildChannels(config, {
    sql,
    log,
    secretStore,
    engine: models.engine,
    tenants: models.tenants,
    queue: tasks.queue,
    tasks: tasks.handlers,
    sweeps: tasks.sweeps,
    refreshSecret: deps.refreshSecret,
    escalations: escalation.escalations,
    voice: { followUp: { insights: contacts.insights, escalations: escalation.escalations, events } },
    mailboxes: email.access,
  });
  const emailInbound = buildEmailInbound(config, {
    sql,
    log,
    tasks,
    tenants: models.tenants,
    pipeline: channels.pipeline,
    access: email.access,
  });
  return { ...followUp, email, channels, emailInbound };
}

/** Shutdown, once however often it is asked for: drain the server, stop the channels, close the pool. */
function closer(parts: {
  server: Server;
  channels: Channels;
  secrets: BuiltSecretStore;
  db: Database;
  log: Logger;
  timeoutMs: number;
}) {
  const { server, channels, secrets, db, log } = parts;
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      log.info({ event: "service.stopping" }, "shutting down: finishing in-flight requests");
      await drain(server, parts.timeoutMs, log);
      await channels.stop();
      await secrets.close();
      await db.close(2);
      log.info({ event: "service.stopped" }, "stopped");
    })();
    return closing;
  };
}
