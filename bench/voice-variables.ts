/**
 * The Telnyx assistant's dynamic-variables webhook under load (not a test; `npm run bench`): Telnyx waits
 * 1 s for the answer and then goes on with defaults, so the figures to watch are p99 and max against 1000 ms.
 *
 * The service runs in its own process on the PostgreSQL server with one tenant's Telnyx number connected
 * and 2 000 of its callers known (a name, an open escalation, an earlier call's summary). Each request is
 * a distinct call: half from a known caller, half from an unknown one; the tenant's block and route come
 * from memory after the first request, the caller from one bounded statement. An open loop at RATE a
 * second over 20 connections (load.ts).
 */
import { Agent } from "node:http";
import { startTelnyxEmulator } from "../test/emulators/telnyx";
import { initializationBody, newCallIds } from "../test/emulators/telnyx-voice";
import { benchSchema, SERVER_DB, startServiceProcess, writeResult } from "./lib";
import { get, openLoop, post, summarize } from "./load";

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ADMIN_API_KEY = "bench-admin-api-key-0123456789abcdef";
const TENANT = "00000000-0000-4000-8000-000000000001";
const NUMBER = "+15550100002";
const KNOWN = 2000;
const caller = (i: number) => `+1555${String(3000000 + i).padStart(7, "0")}`;

const telnyx = await startTelnyxEmulator();
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  MODEL_PROVIDER: "local",
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  ADMIN_API_KEY,
  PUBLIC_URL: "https://bench.switchboard.test",
  TELNYX_API_BASE: telnyx.apiBase,
  POLLING_INTERVAL: "0",
});
const connected = await fetch(`${svc.url}/api/v1/admin/tenants/${TENANT}/channels`, {
  method: "POST",
  headers: { authorization: `Bearer ${ADMIN_API_KEY}`, "content-type": "application/json" },
  body: JSON.stringify({
    kind: "telnyx",
    phoneNumber: NUMBER,
    apiKey: telnyx.apiKey,
    publicKey: telnyx.publicKey,
  }),
});
if (connected.status !== 201) throw new Error(`connect: ${connected.status} ${await connected.text()}`);
const { voice } = (await connected.json()) as { voice: { dynamicVariablesUrl: string } };
const url = voice.dynamicVariablesUrl.replace("https://bench.switchboard.test", svc.url);

// Known callers, written as the owner of the bench schema (the service's migrations ran in it).
const sql = db.sql;
await sql.unsafe(`set search_path to ${db.schema}`);
await sql.unsafe(
  `insert into contacts (tenant_id, phone, name)
   select '${TENANT}', '+1555' || lpad((3000000 + g)::text, 7, '0'), 'Caller ' || g from generate_series(0, ${KNOWN - 1}) g`,
);
await sql.unsafe(
  `insert into escalations (tenant_id, contact_id, channel, conversation_id, reason)
   select tenant_id, id, 'voice', 'bench-' || id, 'asked_for_person' from contacts`,
);
await sql.unsafe(
  `insert into calls (tenant_id, call_control_id, contact_id, summary, ended_at)
   select tenant_id, 'bench-' || id, id, 'Asked about a repair.', now() from contacts`,
);

const agent = new Agent({ keepAlive: true, maxSockets: 20 });
// The baseline, in the same run on the same service: the liveness route, which does no work of its own
// (the HTTP stack, the middleware and the machine's noise); the ratio is what the webhook adds to it.
const baseline = summarize(RATE, [await openLoop(RATE, SECONDS, 20, () => get(`${svc.url}/healthz`, agent))]);
let i = 0;
const run = summarize(RATE, [
  await openLoop(RATE, SECONDS, 20, () => {
    const n = i++;
    const from = n % 2 ? caller(n % KNOWN) : `+1555${String(5000000 + n).padStart(7, "0")}`;
    const body = initializationBody({ from, to: NUMBER }, newCallIds());
    return post(url, body, { "content-type": "application/json" }, agent);
  }),
]);
agent.destroy();

function ratio(key: "p50" | "p99") {
  return Number((run.latencyMs[key] / baseline.latencyMs[key]).toFixed(2));
}

writeResult("voice-variables", {
  database: "server",
  targetRatePerSecond: RATE,
  durationSeconds: SECONDS,
  knownCallers: KNOWN,
  requests: run.requests,
  non2xx: run.non2xx,
  latencyMs: run.latencyMs,
  baseline: { path: "/healthz", requests: baseline.requests, latencyMs: baseline.latencyMs },
  ratio: { p50: ratio("p50"), p99: ratio("p99") },
  telnyxTimeoutMs: 1000,
});
console.table([
  {
    route: "GET /healthz (baseline)",
    requests: baseline.requests,
    non2xx: baseline.non2xx,
    ...baseline.latencyMs,
  },
  { route: "voice dynamic variables", requests: run.requests, non2xx: run.non2xx, ...run.latencyMs },
]);
console.log(`ratio to the baseline: p50 ×${ratio("p50")}, p99 ×${ratio("p99")}`);

await svc.stop();
await db.drop();
await telnyx.close();
