import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import postgres from "postgres";
import { type ConfigError, parseConfig } from "../../service/src/config";
import { type Database, openDatabase, type Sql } from "../../service/src/db/client";
import { type RunningService, type StartOptions, startService } from "../../service/src/main";

/**
 * A database for one test file: on the PostgreSQL server (TEST_DATABASE_URL) a fresh schema of its own,
 * dropped afterwards, so files running in parallel never see each other's rows; otherwise PGlite in memory.
 *
 * On the server the service logs in as a login made for the file (`t_<hex>_owner`) that owns the schema and
 * is neither a superuser nor BYPASSRLS, as on Cloud SQL: FORCE row-level security then hides every tenant's
 * rows from a statement that runs outside `inTenant`/`asPlatform`, so the suite fails where production
 * would. `inspect` is a superuser connection to the same schema, for tests that read raw rows.
 */
export async function testDatabase(): Promise<{
  db: Database;
  url: string | undefined;
  /** Reads and writes any row, whatever its tenant (the superuser; PGlite: the same session). */
  inspect: Sql;
  drop(): Promise<void>;
}> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) {
    const db = await openDatabase({ poolMax: 5 });
    superusers.set(db, db.sql);
    return { db, url: undefined, inspect: db.sql, drop: () => db.close(1) };
  }
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const owner = `${schema}_owner`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await createRuntimeRoles(admin);
  await admin.unsafe(`create role ${owner} login nosuperuser nobypassrls nocreaterole`);
  await admin.unsafe(`grant switchboard_app, switchboard_platform to ${owner}`);
  await admin.unsafe(`create schema ${schema} authorization ${owner}`);
  const base = new URL(server);
  base.username = owner;
  base.password = "";
  base.searchParams.set("search_path", schema);
  const url = base.toString();
  const db = await openDatabase({ url, poolMax: 5 });
  const inspect = postgres(`${server}${server.includes("?") ? "&" : "?"}search_path=${schema}`, {
    max: 2,
    onnotice: () => {},
    transform: postgres.camel,
  }) as unknown as Sql;
  superusers.set(db, inspect);
  return {
    db,
    url,
    inspect,
    async drop() {
      await db.close(1);
      await (inspect as unknown as postgres.Sql).end();
      await admin.unsafe(`drop schema ${schema} cascade`);
      await admin.unsafe(`drop owned by ${owner}`);
      await admin.unsafe(`drop role ${owner}`);
      await admin.end();
    },
  };
}

const superusers = new WeakMap<Database, Sql>();

/**
 * A test's own look at the rows of `db`, whatever their tenant: the superuser connection of the database
 * `testDatabase` made (the service's connection, as on Cloud SQL, sees no tenant's rows outside a scope).
 * For statements the test itself writes; the service's code always gets `db.sql`.
 */
export function raw(db: Database): Sql {
  return superusers.get(db) ?? db.sql;
}

/**
 * The cluster-wide runtime roles (migration 00007 creates them when its login may; a login without
 * CREATEROLE needs them made beforehand, as Cloud SQL's one-time grant does). Files start in parallel.
 */
async function createRuntimeRoles(admin: postgres.Sql) {
  for (const role of ["switchboard_app", "switchboard_platform"]) {
    await admin.unsafe(`
      do $$ begin
        create role ${role} nologin nobypassrls;
      exception when duplicate_object or unique_violation then null;
      end $$`);
  }
}

/** Captures the service's JSON log lines. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  events(name: string) {
    return this.lines.filter((l) => l.event === name);
  }
}

export interface TestService extends RunningService {
  logs: LogCapture;
  db: Database;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
}

export const baseEnv = {
  NODE_ENV: "test",
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
  MODEL_PROVIDER: "local",
  KNOWLEDGE_DIR: "service/knowledge",
  SESSION_SIGNING_KEY: "test-session-signing-key-0123456789abcdef",
  // Configured, so a test never writes a generated key into the repository's .data.
  SECRET_STORE_KEY: "dGVzdC1zZWNyZXQtc3RvcmUta2V5LTMyLWJ5dGVzISE=",
} as const;

/** The real service on an ephemeral port, on a database of the caller's (shared between instances). */
export async function startTestService(
  db: Database,
  env: Record<string, string | undefined> = {},
  opts: Omit<StartOptions, "database" | "logDestination"> = {},
): Promise<TestService> {
  const logs = new LogCapture();
  const running = await startService({ ...baseEnv, ...env }, { ...opts, database: db, logDestination: logs });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${running.url}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    ...running,
    logs,
    db,
    post: (path, body, headers) => call("POST", path, body, headers),
    get: (path, headers) => call("GET", path, undefined, headers),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Polls `fn` until `ok` holds or `ms` pass; returns the last value (the caller's assertion says what failed). */
export async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What the configuration says is wrong with `env` (empty when it parses). */
export function configIssues(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).issues;
  }
}
