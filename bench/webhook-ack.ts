/**
 * Intercom webhook acknowledgement latency at a fixed arrival rate (not a test; `npm run bench`).
 *
 * The service runs in its own process on the PostgreSQL server, as in production: it verifies each
 * signature, records the notification and an outbox row in one statement and acknowledges; answering
 * happens afterwards through the in-process queue (offline model, Intercom emulator), so the
 * acknowledgement is measured with that work going on beside it. Every request is a distinct signed
 * `conversation.user.created`. Target: p99 ≤ 25 ms at 200 requests/s (Intercom wants answers in 500 ms).
 */
import autocannon from "autocannon";
import { signedNotification, startIntercomEmulator } from "../test/emulators/intercom";
import { benchSchema, SERVER_DB, startServiceProcess, writeResult } from "./lib";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SECRET = "bench-client-secret";

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

const run = await autocannon({
  url: `${svc.url}/webhooks/intercom`,
  method: "POST",
  connections: 20,
  overallRate: RATE,
  duration: SECONDS,
  requests: [
    {
      setupRequest: (req) => {
        const n = bodies[next++ % bodies.length];
        return { ...req, body: n?.body, headers: { ...req.headers, ...n?.headers } };
      },
    },
  ],
});

const [rows] = await db.sql.unsafe<{ outbox: number; answered: number }[]>(
  `select count(*)::int as outbox, count(*) filter (where status = 'done')::int as answered from ${db.schema}.outbox`,
);
const latencyMs = { p50: run.latency.p50, p90: run.latency.p90, p99: run.latency.p99, max: run.latency.max };
writeResult("webhook-ack", {
  database: "server",
  targetRatePerSecond: RATE,
  durationSeconds: SECONDS,
  requests: run.requests.total,
  achievedRatePerSecond: Math.round(run.requests.average),
  non2xx: run.non2xx,
  errors: run.errors,
  latencyMs,
  outboxRows: rows?.outbox,
  answeredDuringRun: rows?.answered,
  target: { p99Ms: 25, met: run.latency.p99 <= 25 },
});
console.table([
  {
    rate: RATE,
    requests: run.requests.total,
    ...latencyMs,
    non2xx: run.non2xx,
    answered: rows?.answered,
    p99_target_met: run.latency.p99 <= 25,
  },
]);

await svc.stop();
await db.drop();
await intercom.close();
