/**
 * Soak (`npm run soak`, never part of `npm test`): SOAK_SECONDS (default 600) of mixed traffic against the
 * service in its own process on the PostgreSQL server: chat turns (JSON and SSE) and Intercom webhooks,
 * with 5 % of Gemini and Intercom calls failing (429 with RetryInfo / X-RateLimit-Reset, 500, 503).
 * Reports throughput, status counts, 5xx (must be 0), the outbox left pending, and the service's RSS
 * sampled every 10 s (no growth trend: the last third's average within 10 % of the second third's).
 */
import { readFileSync } from "node:fs";
import { type GeminiScript, startGeminiEmulator } from "../test/emulators/gemini";
import { postNewConversation, startIntercomEmulator } from "../test/emulators/intercom";
import { benchSchema, SERVER_DB, startServiceProcess, writeResult } from "./lib";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const FAULT_RATE = 0.05;
const SECRET = "soak-client-secret";

const gemini = await startGeminiEmulator();
gemini.setResponder((req): GeminiScript => {
  const r = Math.random();
  if (r < FAULT_RATE / 3) return { kind: "error", status: 429, retryDelaySeconds: 1 };
  if (r < (2 * FAULT_RATE) / 3) return { kind: "error", status: 503 };
  if (r < FAULT_RATE) return { kind: "error", status: 500 };
  const last = (req.body.contents as { parts: { text?: string }[] }[]).at(-1)?.parts[0]?.text ?? "";
  return { kind: "text", text: `Soak answer to ${last.slice(0, 60)}`, chunks: 3 };
});
const intercom = await startIntercomEmulator({ rateLimitPerWindow: 1_000_000 });
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  GEMINI_API_KEY: gemini.apiKey,
  GOOGLE_GEMINI_BASE_URL: gemini.url,
  SESSION_SIGNING_KEY: "soak-session-signing-key-0123456789abcdef",
  INTERCOM_ACCESS_TOKEN: intercom.token,
  INTERCOM_API_BASE: intercom.url,
  INTERCOM_WEBHOOK_SECRET: SECRET,
  POLLING_INTERVAL: "5",
  MODEL_RETRY_BASE_MS: "50",
  RATE_LIMIT_USER_PER_MINUTE: "1000000",
  // Guests from one address, far beyond the per-client limits: this measures the service, not the limits.
  RATE_LIMIT_CLIENT_PER_MINUTE: "1000000",
  RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000000",
  GUEST_BUDGET_DAILY_TOKENS: "1000000000",
  MODEL_REQUESTS_PER_MINUTE: "1000000",
});

const rssMb = () =>
  Math.round(
    Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${svc.child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
  );
const statuses = new Map<string, number>();
const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
const rss: number[] = [rssMb()];
const end = Date.now() + SECONDS * 1000;
const sampler = setInterval(() => rss.push(rssMb()), 10_000);
let intercomFaults = 0;

async function chatWorker(stream: boolean) {
  while (Date.now() < end) {
    const res = await fetch(`${svc.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(stream ? { accept: "text/event-stream" } : {}) },
      body: JSON.stringify({ message: "How do I reset my password?" }),
    }).catch(() => undefined);
    await res?.text();
    count(res ? `chat ${res.status}` : "chat network-error");
  }
}
async function webhookWorker() {
  while (Date.now() < end) {
    if (Math.random() < FAULT_RATE) {
      intercomFaults++;
      intercom.failNext(Math.random() < 0.5 ? { status: 429, resetInSeconds: 1 } : { status: 500 });
    }
    const conv = intercom.createConversation({ body: "How do I invite my team?" });
    const res = await postNewConversation(svc.url, SECRET, intercom, conv.id).catch(() => undefined);
    await res?.text();
    count(res ? `webhook ${res.status}` : "webhook network-error");
    // About ten notifications a second in all: a busy support inbox, sustainable for the in-process queue.
    await new Promise((r) => setTimeout(r, 200));
  }
}

await Promise.all([chatWorker(false), chatWorker(false), chatWorker(true), webhookWorker(), webhookWorker()]);
clearInterval(sampler);
rss.push(rssMb());
// Let the outbox drain (retries wait for the injected resets), at most a minute.
const pendingNow = async () =>
  (
    await db.sql.unsafe<{ n: number }[]>(
      `select count(*)::int as n from ${db.schema}.outbox where status = 'pending'`,
    )
  )[0]?.n ?? 0;
for (let waited = 0; waited < 60_000 && (await pendingNow()) > 0; waited += 1000)
  await new Promise((r) => setTimeout(r, 1000));
const [outbox] = await db.sql.unsafe<{ pending: number; done: number }[]>(
  `select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status <> 'pending')::int as done from ${db.schema}.outbox`,
);
const third = Math.max(1, Math.floor(rss.length / 3));
const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
const middle = avg(rss.slice(third, 2 * third));
const last = avg(rss.slice(2 * third));
const total = [...statuses.values()].reduce((a, b) => a + b, 0);
const fiveXX = [...statuses].filter(([k]) => / 5\d\d$/.test(k)).reduce((a, [, v]) => a + v, 0);
const result = writeResult("soak", {
  seconds: SECONDS,
  faultRate: FAULT_RATE,
  requests: total,
  requestsPerSecond: Math.round(total / SECONDS),
  statuses: Object.fromEntries(statuses),
  fiveXX,
  intercomFaultsInjected: intercomFaults,
  outbox,
  rssMb: { start: rss[0], end: rss.at(-1), max: Math.max(...rss), samples: rss },
  noGrowth: last <= middle * 1.1,
});
console.table(
  Object.entries(result.statuses as Record<string, number>).map(([status, n]) => ({ status, n })),
);
console.log(
  `${total} requests in ${SECONDS} s (${result.requestsPerSecond}/s), 5xx: ${fiveXX}, outbox pending after drain: ${outbox?.pending}, RSS ${rss[0]} → ${rss.at(-1)} MB (max ${Math.max(...rss)}), no growth trend: ${result.noGrowth}`,
);
await svc.stop();
await db.drop();
await gemini.close();
await intercom.close();
process.exit(fiveXX === 0 && outbox?.pending === 0 ? 0 : 1);
