/**
 * SMS webhook acknowledgement latency at a fixed arrival rate, against the Intercom webhook measured in
 * the same run on the same service as the baseline (not a test; `npm run bench`).
 *
 * The service runs in its own process on the PostgreSQL server. A Telnyx `message.received` is routed by
 * the number texted (one platform lookup), verified with that number's Ed25519 key (read from the secret
 * store once, then cached), recorded with its outbox row in one statement and acknowledged; the reply is
 * sent afterwards through the in-process queue (offline model, Telnyx emulator). The baseline is the
 * env-configured Intercom webhook, which needs no lookup. Both are open loops of distinct signed
 * notifications at evenly spaced instants over 20 connections (load.ts). Telnyx wants an answer within
 * 2 s; the figure to watch is the ratio to the baseline.
 */
import { Agent } from "node:http";
import { signedNotification, startIntercomEmulator } from "../test/emulators/intercom";
import { startTelnyxEmulator, telnyxInboundEvent } from "../test/emulators/telnyx";
import { benchSchema, SERVER_DB, startServiceProcess, writeResult } from "./lib";
import { openLoop, post, summarize } from "./load";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SECRET = "bench-client-secret";
const ADMIN_API_KEY = "bench-admin-api-key-0123456789abcdef";
const NUMBER = "+15550100001";
const CONNECTIONS = 20;

const intercom = await startIntercomEmulator({ rateLimitPerWindow: 1_000_000 });
const telnyx = await startTelnyxEmulator();
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  MODEL_PROVIDER: "local",
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  ADMIN_API_KEY,
  TELNYX_API_BASE: telnyx.apiBase,
  INTERCOM_ACCESS_TOKEN: intercom.token,
  INTERCOM_API_BASE: intercom.url,
  INTERCOM_WEBHOOK_SECRET: SECRET,
  POLLING_INTERVAL: "0",
});
const connected = await fetch(
  `${svc.url}/api/v1/admin/tenants/00000000-0000-4000-8000-000000000001/channels`,
  {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      kind: "telnyx",
      phoneNumber: NUMBER,
      apiKey: telnyx.apiKey,
      publicKey: telnyx.publicKey,
    }),
  },
);
if (connected.status !== 201) throw new Error(`connect: ${connected.status} ${await connected.text()}`);

const total = RATE * (SECONDS + 1);
const intercomBodies = Array.from({ length: total }, (_, i) => {
  const conv = intercom.createConversation({ body: `Benchmark question ${i}: how do refunds work?` });
  return signedNotification(
    SECRET,
    "conversation.user.created",
    intercom.webhookItem(conv.id, { parts: "none" }),
  );
});
/** Signed when sent (Telnyx's timestamp must be fresh); each from another customer. */
const telnyxText = (i: number) => {
  const from = `+1555${String(2000000 + i).padStart(7, "0")}`;
  const body = JSON.stringify(
    telnyxInboundEvent({ from, to: NUMBER, text: `Benchmark question ${i}: refunds?` }),
  );
  return { body, headers: telnyx.signTelnyxWebhook(body) };
};

async function measure(path: string, next: (i: number) => { body: string; headers: Record<string, string> }) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let i = 0;
  const run = summarize(RATE, [
    await openLoop(RATE, SECONDS, CONNECTIONS, () => {
      const n = next(i++);
      return post(`${svc.url}${path}`, n.body, n.headers, agent);
    }),
  ]);
  agent.destroy();
  return run;
}

const baseline = await measure(
  "/webhooks/intercom",
  (i) => intercomBodies[i % total] as { body: string; headers: Record<string, string> },
);
const sms = await measure("/webhooks/telnyx/sms", telnyxText);
const ratio = (key: "p50" | "p99") => Number((sms.latencyMs[key] / baseline.latencyMs[key]).toFixed(2));

writeResult("sms-ack", {
  database: "server",
  targetRatePerSecond: RATE,
  durationSeconds: SECONDS,
  baseline: {
    path: "/webhooks/intercom",
    requests: baseline.requests,
    non2xx: baseline.non2xx,
    latencyMs: baseline.latencyMs,
  },
  telnyx: {
    path: "/webhooks/telnyx/sms",
    requests: sms.requests,
    non2xx: sms.non2xx,
    latencyMs: sms.latencyMs,
  },
  ratio: { p50: ratio("p50"), p99: ratio("p99") },
});
console.table([
  {
    webhook: "intercom (baseline)",
    requests: baseline.requests,
    non2xx: baseline.non2xx,
    ...baseline.latencyMs,
  },
  { webhook: "telnyx sms", requests: sms.requests, non2xx: sms.non2xx, ...sms.latencyMs },
]);
console.log(`telnyx / intercom: p50 ×${ratio("p50")}, p99 ×${ratio("p99")}`);

await svc.stop();
await db.drop();
await intercom.close();
await telnyx.close();
