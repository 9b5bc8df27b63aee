/**
 * Intercom webhook acknowledgement latency at a fixed arrival rate (not a test; `npm run bench`).
 *
 * The service runs in its own process on the PostgreSQL server, as in production: it verifies each
 * signature, records the notification and an outbox row in one statement and acknowledges; answering
 * happens afterwards through the in-process queue (offline model, Intercom emulator), so the
 * acknowledgement is measured with that work going on beside it. Every request is a distinct signed
 * `conversation.user.created`, sent at evenly spaced instants (an open loop over 20 connections, see
 * load.ts: autocannon's `overallRate` would send each second's requests as one burst). Target (issue 11):
 * p99 ≤ 15 ms at 200 requests/s (Intercom wants answers in 500 ms).
 */
import { Agent } from "node:http";
import { signedNotification, startIntercomEmulator } from "../test/emulators/intercom";
import { benchSchema, SERVER_DB, startServiceProcess, writeResult } from "./lib";
import { openLoop, post, summarize } from "./load";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SECRET = "bench-client-secret";
const CONNECTIONS = 20;
const TARGET_P99_MS = 15;

const intercom = await startIntercomEmulator({ rateLimitPerWindow: 1_000_000 });
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  MODEL_PROVIDER: "local",
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  INTERCOM_ACCESS_TOKEN: intercom.token,
  INTERCOM_API_BASE: intercom.url,
  INTERCOM_WEBHOOK_SECRET: SECRET,
  POLLING_INTERVAL: "0",
});

const bodies = Array.from({ length: RATE * (SECONDS + 1) }, (_, i) => {
  const conv = intercom.createConversation({ body: `Benchmark question ${i}: how do refunds work?` });
  return signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(conv.id, { parts: "none" }),
  );
});
let next = 0;

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const run = summarize(RATE, [
  await openLoop(RATE, SECONDS, CONNECTIONS, () => {
    const n = bodies[next++ % bodies.length];
    return post(`${svc.url}/webhooks/intercom`, n?.body ?? "", n?.headers ?? {}, agent);
  }),
]);
agent.destroy();

const [rows] = await db.sql.unsafe<{ outbox: number; answered: number }[]>(
  `select count(*)::int as outbox, count(*) filter (where status = 'done')::int as answered from ${db.schema}.outbox`,
);
const { latencyMs } = run;
writeResult("webhook-ack", {
  database: "server",
  targetRatePerSecond: RATE,
  durationSeconds: SECONDS,
  connections: CONNECTIONS,
  requests: run.requests,
  non2xx: run.non2xx,
  errors: run.errors,
  latencyMs,
  outboxRows: rows?.outbox,
  answeredDuringRun: rows?.answered,
  target: { p99Ms: TARGET_P99_MS, met: latencyMs.p99 <= TARGET_P99_MS },
});
console.table([
  {
    rate: RATE,
    requests: run.requests,
    ...latencyMs,
    non2xx: run.non2xx,
    errors: run.errors,
    answered: rows?.answered,
    [`p99 ≤ ${TARGET_P99_MS} ms`]: latencyMs.p99 <= TARGET_P99_MS,
  },
]);

await svc.stop();
await db.drop();
await intercom.close();
