/**
 * Where a turn's CPU goes (`npm run bench:profile`; not part of `npm run bench`: the profiler slows the
 * service): Switchboard's bundle and the naive peer (BENCH_PROFILE_TARGET=switchboard|peer for one) under
 * `node --cpu-prof`, on the PostgreSQL server and the Gemini emulator, warmed at 100 turns/s, then
 * saturated by 50 users in 10-turn conversations as in turn-cost.ts. Only the saturated window's samples
 * count. Prints self time per group side by side (and what Switchboard spends beyond the peer), writes
 * `bench/results/turn-profile.json` and keeps each .cpuprofile (open it in Chrome DevTools).
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGeminiEmulator } from "../test/emulators/gemini";
import { analyseProfile, type CpuProfile, type Probe } from "./cpu-profile";
import {
  benchSchema,
  bundleBenchServer,
  SERVER_DB,
  SERVICE_ENTRY,
  startServiceProcess,
  writeResult,
} from "./lib";
import { type ChatLoad, PacedChatUsers, saturateChat } from "./load";
import { POOL, peerEnv, switchboardEnv, TURNS_PER_SESSION, userTokens } from "./turn-targets";

const TARGET = (process.env.BENCH_PROFILE_TARGET ?? "both") as "switchboard" | "peer" | "both";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

const PROBES: Probe[] = [
  {
    label: "Gemini adapter: cacheKey (sha256 of prompt + knowledge + tools)",
    fn: "cacheKey",
    source: "adapters/gemini",
  },
  {
    label: "Gemini adapter: cachedContext (cacheKey + model_caches read)",
    fn: "cachedContext",
    source: "adapters/gemini",
  },
  { label: "@google/genai (SDK frames on the stack)", source: "node_modules/@google/genai/" },
  { label: "undici (fetch frames on the stack)", source: "node:internal/deps/undici" },
  { label: "postgres.js (frames on the stack)", source: "node_modules/postgres/" },
  { label: "pino (frames on the stack)", source: "node_modules/pino/" },
  {
    label: "ConversationEngine.prepare (refusal phase, JS only)",
    fn: "prepare",
    source: "engine/conversation-engine",
  },
  { label: "ConversationEngine.run", fn: "run", source: "engine/conversation-engine" },
  { label: "ConversationEngine.persist", fn: "persist", source: "engine/conversation-engine" },
  { label: "ConversationEngine.fold (summary)", fn: "fold", source: "engine/conversation-engine" },
  { label: "PII redaction (service/src/redaction)", source: "service/src/redaction/" },
  { label: "Authenticator.identify (JWT verify)", fn: "identify", source: "service/src/auth" },
  { label: "jose (frames on the stack)", source: "node_modules/jose/" },
  { label: "WebCrypto (jose: HMAC key import + verify)", source: "node:internal/crypto/webcrypto" },
  { label: "access log line (middleware/request-context)", source: "service/src/middleware/request-context" },
  { label: "Switchboard's logger (logger.ts, log-privacy.ts)", source: "service/src/log" },
  { label: "zod (frames on the stack)", source: "node_modules/zod/" },
  { label: "Hono (frames on the stack)", source: "node_modules/hono/" },
];

const hrtimeUs = () => Number(process.hrtime.bigint() / 1000n);

const gemini = await startGeminiEmulator();
const tokens = await userTokens(2000);

async function profileOf(target: "switchboard" | "peer") {
  const db = await benchSchema(SERVER_DB);
  const dir = mkdtempSync(join(tmpdir(), `turn-profile-${target}-`));
  const entry = target === "peer" ? await bundleBenchServer("bench/naive-peer.ts") : SERVICE_ENTRY;
  const env = target === "peer" ? peerEnv(gemini, db.url) : switchboardEnv(gemini, db.url, POOL);
  const svc = await startServiceProcess(env, ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...entry]);
  const load: ChatLoad = { url: `${svc.url}/api/v1/chat`, tokens, turnsPerSession: TURNS_PER_SESSION };
  const warm = new PacedChatUsers(load, 20);
  await warm.run(100, 3);
  warm.close();
  // V8's profile timestamps and process.hrtime are both CLOCK_MONOTONIC, in every process on the machine.
  const fromUs = hrtimeUs();
  const run = await saturateChat(load, 50, SECONDS);
  const toUs = hrtimeUs();
  await svc.stop();
  await db.drop();
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
  return {
    profile: join(dir, file),
    saturation: run,
    ...analyseProfile(profile, { fromUs, toUs }, run.turns, PROBES),
  };
}

const targets = TARGET === "both" ? (["switchboard", "peer"] as const) : ([TARGET] as const);
const results: Partial<Record<"switchboard" | "peer", Awaited<ReturnType<typeof profileOf>>>> = {};
for (const target of targets) results[target] = await profileOf(target);
await gemini.close();
writeResult("turn-profile", { secondsSaturated: SECONDS, ...results });

for (const [target, r] of Object.entries(results)) {
  console.log(
    `\n${target}: ${r.saturation.turns} turns in ${r.saturation.seconds} s (${r.saturation.turnsPerSecond}/s) under the profiler; ${r.busyMsPerTurn} ms busy per turn; ${r.profile}`,
  );
  console.log("Self time by package or module:");
  console.table(r.packages.slice(0, 20));
  console.log("Inclusive time of probes:");
  console.table(r.probes.filter((p) => p.msPerTurn > 0));
  console.log("Top functions by self time:");
  console.table(r.topFunctions.slice(0, 15));
}
// Side by side: what each group costs per turn, and what Switchboard spends beyond the peer.
const names = [...new Set(Object.values(results).flatMap((r) => r.groups.map((g) => g.name)))];
const perTurn = (target: "switchboard" | "peer", group: string) =>
  results[target]?.groups.find((g) => g.name === group)?.msPerTurn ?? 0;
const groupRows = names.map((name) => ({
  group: name,
  ...Object.fromEntries(targets.map((t) => [`${t} ms/turn`, perTurn(t, name)])),
  ...Object.fromEntries(
    targets.map((t) => [`${t} %`, results[t]?.groups.find((g) => g.name === name)?.share ?? 0]),
  ),
  ...(targets.length === 2
    ? {
        "switchboard − peer":
          Math.round((perTurn("switchboard", name) - perTurn("peer", name)) * 1000) / 1000,
      }
    : {}),
}));
console.log("\nSelf time by group, per turn:");
console.table(groupRows);
const writerRows = [...new Set(Object.values(results).flatMap((r) => r.writesBy.map((w) => w.name)))].map(
  (name) => ({
    "writes and stream plumbing for": name,
    ...Object.fromEntries(
      targets.map((t) => [`${t} ms/turn`, results[t]?.writesBy.find((w) => w.name === name)?.msPerTurn ?? 0]),
    ),
  }),
);
console.table(writerRows);
