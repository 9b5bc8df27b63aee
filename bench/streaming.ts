/**
 * Streaming (not a test; `npm run bench`): time to the first SSE byte of `POST /api/v1/chat` with
 * `Accept: text/event-stream`, against the time to the first byte of the same stream straight from the
 * Gemini emulator, in the same run. The difference is what Switchboard adds before the first delta (rate
 * limit, budget, session, history, grounding, the SDK call). Target: ≤ 5 ms added (median).
 */
import { startGeminiEmulator } from "../test/emulators/gemini";
import { benchSchema, median, percentile, SERVER_DB, startServiceProcess, writeResult } from "./lib";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100);
const gemini = await startGeminiEmulator();
gemini.setResponder(() => ({ kind: "text", text: "one two three four five six seven eight", chunks: 4 }));
gemini.chunkDelayMs = 20;
const db = await benchSchema(SERVER_DB);
const svc = await startServiceProcess({
  DATABASE_URL: db.url,
  GEMINI_API_KEY: gemini.apiKey,
  GOOGLE_GEMINI_BASE_URL: gemini.url,
  SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
  RATE_LIMIT_USER_PER_MINUTE: "1000000",
  // Guests from one address, far beyond the per-client limits: this measures the service, not the limits.
  RATE_LIMIT_CLIENT_PER_MINUTE: "1000000",
  RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000000",
  GUEST_BUDGET_DAILY_TOKENS: "1000000000",
});

async function firstByte(url: string, init: RequestInit): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  const reader = res.body?.getReader();
  await reader?.read();
  const ms = performance.now() - started;
  await reader?.cancel();
  return ms;
}

const direct: number[] = [];
const through: number[] = [];
const payload = JSON.stringify({
  contents: [{ role: "user", parts: [{ text: "How do I reset my password?" }] }],
});
for (let i = -10; i < SAMPLES; i++) {
  const d = await firstByte(`${gemini.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-goog-api-key": gemini.apiKey },
    body: payload,
  });
  const t = await firstByte(`${svc.url}/api/v1/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ message: "How do I reset my password?" }),
  });
  // The first ten of each warm up connections and the JIT.
  if (i >= 0) {
    direct.push(d);
    through.push(t);
  }
}
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const round = (n: number) => Math.round(n * 10) / 10;
const figures = {
  samples: SAMPLES,
  firstByteMs: {
    emulatorDirect: { p50: round(median(direct)), p99: round(percentile(sorted(direct), 99)) },
    throughSwitchboard: { p50: round(median(through)), p99: round(percentile(sorted(through), 99)) },
  },
  addedMs: { p50: round(median(through) - median(direct)) },
  target: { addedMs: 5, met: median(through) - median(direct) <= 5 },
};
writeResult("streaming", figures);
console.table([
  { path: "Gemini emulator, direct", ...figures.firstByteMs.emulatorDirect },
  { path: "POST /api/v1/chat (SSE)", ...figures.firstByteMs.throughSwitchboard },
]);
console.log(`added before the first byte: ${figures.addedMs.p50} ms median (target ≤ 5)`);
await svc.stop();
await db.drop();
await gemini.close();
