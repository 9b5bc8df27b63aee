import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { GoogleAuth } from "google-auth-library";
import postgres from "postgres";

export type Sql = postgres.Sql<Record<string, unknown>>;
export type TransactionSql = postgres.TransactionSql<Record<string, unknown>>;

export interface Database {
  readonly sql: Sql;
  /** `server` for a PostgreSQL/Cloud SQL server, `embedded` for PGlite in this process. */
  readonly kind: "server" | "embedded";
  /** For the embedded database: the loopback URL of its socket server (other processes can connect). */
  readonly url?: string;
  close(timeoutSeconds?: number): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL. Unset: an embedded PGlite served on a loopback socket. */
  readonly url?: string | undefined;
  /** @default 5 */
  readonly poolMax?: number;
  /**
   * Cloud SQL IAM database authentication: the password is an OAuth access token of the runtime
   * identity, fetched (and refreshed) per connection, so no database password exists anywhere.
   * https://cloud.google.com/sql/docs/postgres/iam-authentication
   */
  readonly iamAuth?: boolean;
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

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const max = options.poolMax ?? 5;
  if (options.url) {
    const auth = options.iamAuth
      ? new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/sqlservice.login"] })
      : undefined;
    const sql = postgres(options.url, {
      ...clientDefaults,
      max,
      ...(auth ? { password: async () => (await auth.getAccessToken()) ?? "" } : {}),
    }) as Sql;
    return { sql, kind: "server", close: (timeout = 5) => sql.end({ timeout }) };
  }

  // PGlite is one backend session behind a socket server, so the exact same `postgres` client code runs
  // here, in tests and against Cloud SQL. The server multiplexes connections message by message, which
  // lets concurrent connections clobber each other's statements and transactions; one pooled connection
  // serializes them in the client instead, as a real server's isolation would.
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ?? "memory://");
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
  await server.start();
  const [host, port] = server.getServerConn().split(":");
  const sql = postgres({
    ...clientDefaults,
    host,
    port: Number(port),
    user: "postgres",
    database: "postgres",
    max: 1,
  }) as Sql;
  return {
    sql,
    kind: "embedded",
    url: `postgres://postgres@${host}:${port}/postgres`,
    async close(timeout = 5) {
      await sql.end({ timeout });
      await server.stop();
      await db.close();
    },
  };
}

// PostgreSQL shutting down or restarting (57P01–57P03), connection failures (08xxx), and postgres.js's own
// connection errors: the database is away, not the request wrong.
const UNAVAILABLE = new Set([
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE.has(code);
}
