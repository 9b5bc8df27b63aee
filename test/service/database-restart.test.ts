import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Sql } from "../../service/src/db/client";
import { openDatabase } from "../../service/src/db/client";
import { eventually, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * The PostgreSQL server restarts under load (every connection of the service terminated, as a restart or
 * a Cloud SQL failover does). Users get 200 or a clear 503 `database_unavailable` with Retry-After, never a
 * 500 (a request whose query the driver lost ends as 503 request_timeout); every turn that was answered 200 is stored; the service recovers by itself. Server mode only.
 */
const server = process.env.TEST_DATABASE_URL;
const app = `sb_restart_${randomBytes(4).toString("hex")}`;

let svc: TestService;
let admin: postgres.Sql;
let drop: () => Promise<void>;
/** The test's own superuser look at the rows (the service's login sees none outside a scope). */
let inspect: Sql;

beforeAll(async () => {
  if (!server) return;
  const t = await testDatabase();
  drop = t.drop;
  inspect = t.inspect;
  // The same schema, with an application_name that lets the test find exactly this service's connections.
  const db = await openDatabase({ url: `${t.url}&application_name=${app}`, poolMax: 5 });
  // A short request timeout: a query lost with its connection (a known driver bug) ends the request in time.
  // Hundreds of tokenless turns from one address: far beyond the per-client guest limits, which are not
  // what this test is about.
  svc = await startTestService(db, {
    RATE_LIMIT_USER_PER_MINUTE: "100000",
    RATE_LIMIT_CLIENT_PER_MINUTE: "100000",
    RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "100000",
    REQUEST_TIMEOUT_MS: "3000",
  });
  admin = postgres(server, { max: 1, onnotice: () => {} });
  const close = drop;
  drop = async () => {
    await db.close(1);
    await close();
  };
});
afterAll(async () => {
  await svc?.close();
  await admin?.end();
  await drop?.();
});

test.skipIf(!server)(
  "connections killed mid-run: 200 or 503 database_unavailable, nothing answered is lost, recovery",
  async () => {
    const results: { status: number; code?: string; sessionId?: string }[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const res = await svc.post("/api/v1/chat", { message: "How do I reset my password?" });
        const body = (await res.json()) as { sessionId?: string; error?: { code: string } };
        results.push({ status: res.status, code: body.error?.code, sessionId: body.sessionId });
        if (res.status === 503) expect(res.headers.get("retry-after")).toBe("2");
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 400));
    const killed = await admin`
    select pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = ${app}`;
    expect(killed.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 600));
    stop = true;
    await Promise.all(workers);

    expect(results.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    const codes = new Set(results.filter((r) => r.status === 503).map((r) => r.code));
    expect([...codes].every((c) => c === "database_unavailable" || c === "request_timeout")).toBe(true);
    // Every turn answered 200 was stored: both its messages.
    const answered = results.filter((r) => r.status === 200).map((r) => r.sessionId as string);
    const rows = await inspect<{ sessionId: string; n: number }[]>`
    select session_id, count(*)::int as n from messages where session_id in ${svc.db.sql(answered)} group by session_id`;
    expect(rows).toHaveLength(answered.length);
    expect(rows.every((r) => r.n === 2)).toBe(true);
    // And it works again without a restart of the service, and then for every request, so no pooled
    // connection stayed broken. A query the driver lost with its killed connection ends its request only at
    // REQUEST_TIMEOUT_MS (3 s, a 503 request_timeout); two such in a row were seen in CI (about one run in
    // ten), so the first 200 may take up to three of them.
    const chat = () => svc.post("/api/v1/chat", { message: "How do I invite my team?" });
    expect((await eventually(chat, (r) => r.status === 200, 10_000)).status).toBe(200);
    const after = await Promise.all(Array.from({ length: 10 }, chat));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await svc.get("/api/v1/health")).status).toBe(200);
    console.log(
      `turns: ${results.length}, answered: ${answered.length}, 503: ${results.length - answered.length}`,
    );
  },
);
