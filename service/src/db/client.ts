import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import postgres from "postgres";
import type { Sql } from "./sql";
import { scopedSql } from "./tenant-scope";

export type { Sql, TransactionSql } from "./sql";

export interface Database {
  /** Every statement runs in the scope of the unit of work that awaits it (tenant-scope.ts). */
  readonly sql: Sql;
  /** `server` for a PostgreSQL/Cloud SQL server, `embedded` for PGlite in this process. */
  readonly kind: "server" | "embedded";
  /** For the embedded database: its Unix socket, which only this OS user can reach. */
  readonly socketPath?: string;
  close(timeoutSeconds?: number): Promise<void>;
}

/** The part of `@google-cloud/cloud-sql-connector`'s `Connector` this module uses (tests hand in a fake). */
export interface CloudSqlConnector {
  getOptions(opts: {
    instanceConnectionName: string;
    ipType: CloudSqlIpType;
    authType: "IAM";
  }): Promise<{ stream(): Duplex }>;
  close(): void;
}
export type CloudSqlIpType = "PRIVATE" | "PUBLIC" | "PSC";

export interface CloudSqlOptions {
  /** `project:region:instance` */
  readonly instance: string;
  /** @default "PRIVATE" */
  readonly ipType?: CloudSqlIpType;
  /** The IAM database user: `name@project.iam` for a service account. */
  readonly user: string;
  readonly database: string;
  /** @default Google's connector, imported only when Cloud SQL is configured (it costs start-up time) */
  readonly connector?: () => CloudSqlConnector;
}

export interface DatabaseOptions {
  /** A postgres:// URL. Unset (and no `cloudSql`): an embedded PGlite in this process. */
  readonly url?: string | undefined;
  /** Cloud SQL through the Cloud SQL connector, instead of `url`. */
  readonly cloudSql?: CloudSqlOptions | undefined;
  /** @default 5 */
  readonly poolMax?: number;
  /** Where the embedded database keeps its files; unset keeps it in memory (tests). */
  readonly dataDir?: string | undefined;
}

const clientDefaults = {
  idle_timeout: 30,
  connect_timeout: 10,
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stdout.
  onnotice: () => {},
  transform: postgres.camel,
} as const;

async function googleConnector(): Promise<CloudSqlConnector> {
  const { Connector, IpAddressTypes, AuthTypes } = await import("@google-cloud/cloud-sql-connector");
  const connector = new Connector();
  return {
    getOptions: (o) =>
      connector.getOptions({
        instanceConnectionName: o.instanceConnectionName,
        ipType: IpAddressTypes[o.ipType],
        authType: AuthTypes[o.authType],
      }),
    close: () => connector.close(),
  };
}

/**
 * Cloud SQL through the Cloud SQL connector: every connection is a TLS stream the connector opens with the
 * instance's own CA pinned and the server's identity checked (which `sslmode=require` never does), and an
 * ephemeral client certificate carrying the runtime identity's IAM token, refreshed by the connector. So
 * postgres.js itself must not negotiate TLS again, and no password exists anywhere.
 * https://cloud.google.com/sql/docs/postgres/connect-connectors
 */
async function openCloudSql(options: CloudSqlOptions, max: number): Promise<Database> {
  const connector = options.connector ? options.connector() : await googleConnector();
  let driver: { stream(): Duplex };
  try {
    driver = await connector.getOptions({
      instanceConnectionName: options.instance,
      ipType: options.ipType ?? "PRIVATE",
      authType: "IAM",
    });
  } catch (error) {
    connector.close();
    throw error;
  }
  // `socket` is in postgres.js's README but not its types. It is called for each new connection, so it
  // must open a new stream each time (handing over `driver.stream` unbound, or a stream made once, would not).
  const clientOptions: postgres.Options<Record<string, never>> & { socket: () => Duplex } = {
    ...clientDefaults,
    max,
    username: options.user,
    database: options.database,
    ssl: false,
    socket: () => driver.stream(),
  };
  const sql = postgres(clientOptions) as Sql;
  return {
    sql: scopedSql(sql),
    kind: "server",
    async close(timeout = 5) {
      try {
        await sql.end({ timeout });
      } finally {
        connector.close();
      }
    },
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const max = options.poolMax ?? 5;
  if (options.cloudSql) return openCloudSql(options.cloudSql, max);
  if (options.url) {
    const sql = postgres(options.url, { ...clientDefaults, max }) as Sql;
    return { sql: scopedSql(sql), kind: "server", close: (timeout = 5) => sql.end({ timeout }) };
  }

  // PGlite is one backend session behind a socket server, so the exact same `postgres` client code runs
  // here, in tests and against Cloud SQL. The server multiplexes connections message by message, which
  // lets concurrent connections clobber each other's statements and transactions; one pooled connection
  // serializes them in the client instead, as a real server's isolation would.
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  // Loaded only for the embedded database: a server or Cloud SQL never needs PGlite's WebAssembly glue.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]);
  const db = await PGlite.create(options.dataDir ?? "memory://");
  // PGlite checks no password (pglite-socket hands the startup message straight to it), so a loopback TCP
  // port would let every local user read and write the database. A Unix socket in a fresh directory only
  // this user may enter (mkdtemp creates it 0700) is reachable by this user alone.
  const socketDir = await mkdtemp(join(tmpdir(), "switchboard-db-"));
  await chmod(socketDir, 0o700);
  const socketPath = join(socketDir, ".s.PGSQL.5432");
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 4 });
  try {
    await server.start();
    await chmod(socketPath, 0o600);
  } catch (error) {
    await db.close();
    await rm(socketDir, { recursive: true, force: true });
    throw error;
  }
  const sql = postgres({
    ...clientDefaults,
    path: socketPath,
    user: "postgres",
    database: "postgres",
    max: 1,
  }) as Sql;
  return {
    sql: scopedSql(sql),
    kind: "embedded",
    socketPath,
    async close(timeout = 5) {
      await sql.end({ timeout });
      await server.stop();
      await db.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

export { isDatabaseUnavailable } from "./connection-errors";

/** Whether the database answers a trivial query within `timeoutMs` (readiness). */
export async function databaseResponds(sql: Sql, timeoutMs: number): Promise<boolean> {
  return Promise.race([
    sql`select 1`.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
  ]);
}
