/**
 * Chat turn overhead (not a test; `npm run bench`): POST /api/v1/chat against a zero-latency Gemini
 * emulator and the PostgreSQL server, versus a bare Hono JSON route on the same machine, both in their own
 * process, 50 concurrent connections. Every turn is a signed-in user's (a JWT) so the rate limit and
 * budgets run as for real users; the turn does everything a production turn does (rate limit, budget,
 * session, history, knowledge grounding, model call through the real SDK, persistence, ledger, log line).
 * Target: throughput ≥ 40 % of the bare route. Latency here is reported, not judged: at saturation it
 * measures the queue (issue 11 dropped its "p99 ≤ 15 ms at 50 connections"); bench/turn-cost.ts measures
 * latency at a fixed rate, against the naive peer.
 */
import autocannon from "autocannon";
import { SignJWT } from "jose";
import { startGeminiEmulator } from "../test/emulators/gemini";
import { benchSchema, peakRssMb, SERVER_DB, startServiceProcess, writeResult } from "./lib";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789";

const gemini = await startGeminiEmulator();
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  GEMINI_API_KEY: gemini.apiKey,
  GOOGLE_GEMINI_BASE_URL: gemini.url,
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  JWT_SECRET,
  // The brief's quota (500 model calls a minute) would cap this at ~8 turns/s: this measures overhead.
  RATE_LIMIT_USER_PER_MINUTE: "1000000",
  MODEL_REQUESTS_PER_MINUTE: "10000000",
  MODEL_TOKENS_PER_MINUTE: "10000000000",
  // The brief's pool (5 per instance); BENCH_POOL shows what a larger one buys.
  DATABASE_POOL_MAX: process.env.BENCH_POOL ?? "5",
});
const bare = await startServiceProcess({}, ["--import", "tsx", "bench/bare-server.ts"]);

// 500 users, so rate-limit and budget rows are spread like real traffic.
const tokens = await Promise.all(
  Array.from({ length: 500 }, (_, i) =>
    new SignJWT({ tier: "enterprise" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`bench-user-${i}`)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(JWT_SECRET)),
  ),
);
let n = 0;
const body = JSON.stringify({ message: "How do I reset my password?" });

async function load(url: string, withAuth: boolean) {
  return autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body,
          headers: {
            ...req.headers,
            ...(withAuth ? { authorization: `Bearer ${tokens[n++ % tokens.length]}` } : {}),
          },
        }),
      },
    ],
  });
}

// Warm both (JIT, pools, the knowledge cache) before measuring.
await load(`${svc.url}/api/v1/chat`, true);
const chat = await load(`${svc.url}/api/v1/chat`, true);
const baseline = await load(`${bare.url}/echo`, false);
const turns = chat.requests.total;
const peakRss = peakRssMb(svc.child.pid ?? 0);
const ratio = chat.requests.average / baseline.requests.average;
const figures = {
  connections: CONNECTIONS,
  databasePool: Number(process.env.BENCH_POOL ?? 5),
  durationSeconds: SECONDS,
  chat: {
    requestsPerSecond: Math.round(chat.requests.average),
    latencyMs: { p50: chat.latency.p50, p99: chat.latency.p99, max: chat.latency.max },
    non2xx: chat.non2xx,
    turns,
  },
  bareRoute: {
    requestsPerSecond: Math.round(baseline.requests.average),
    latencyMs: { p50: baseline.latency.p50, p99: baseline.latency.p99 },
  },
  throughputRatio: Math.round(ratio * 1000) / 1000,
  servicePeakRssMb: peakRss,
  targets: {
    ratio: 0.4,
    ratioMet: ratio >= 0.4,
    peakRssMb: 200,
    rssMet: peakRss <= 200,
  },
};
writeResult("chat-overhead", figures);
console.table([
  {
    route: "POST /api/v1/chat",
    rps: figures.chat.requestsPerSecond,
    ...figures.chat.latencyMs,
    non2xx: chat.non2xx,
  },
  {
    route: "bare Hono JSON",
    rps: figures.bareRoute.requestsPerSecond,
    ...figures.bareRoute.latencyMs,
    non2xx: baseline.non2xx,
  },
]);
console.log(`throughput ratio ${figures.throughputRatio} (target ≥ 0.4)`);

await svc.stop();
await bare.stop();
await db.drop();
await gemini.close();
