/**
 * Cost per turn, side by side (not a test; `npm run bench`). In one run, on the same PostgreSQL server and
 * the same zero-latency Gemini emulator, each in its own process started the same way (`node <bundle>`):
 *
 * - **Switchboard**: the built bundle, `MODEL_PROVIDER=gemini`, signed-in users (JWT, enterprise tier), the
 *   limits raised so nothing refuses; everything else as in production (limits and budgets checked, PII
 *   redaction, knowledge grounding through a context cache, summaries, ledger, log lines).
 * - **the naive peer** (`bench/naive-peer.ts`): the endpoint a developer would write instead.
 * - **the bare Hono route** (`bench/bare-server.ts`): HTTP and JSON only, the floor.
 *
 * Every virtual user holds a 10-turn conversation, continuing its session: past Switchboard's 10-message
 * history window, so its summary runs (once, at turn 7), and under its 10-turn routing threshold, so every
 * turn stays on the default model as the peer's do. Then it starts a new conversation as another user.
 *
 * Per target: CPU milliseconds per turn at saturation (the process's own user + system time from
 * /proc/<pid>/stat, divided by the turns served: the load generator and the emulator do not count),
 * throughput at saturation (50 users), p50/p99 at a fixed 100 turns/s (open loop, see load.ts), and the
 * process's peak RSS. The machine is a noisy 2-core one: in a round the three processes run side by side
 * and the fixed rate goes to them in alternating 2-second slices (a burst of other work lands on any of
 * them alike), then each is saturated in turn; the order rotates between rounds. The figures are medians
 * over rounds, with their range, and the ratios are medians of each round's ratio.
 * Targets (issue 11): CPU per turn ≤ 1.3× the peer's, p99 at 100 turns/s ≤ 1.3× the peer's, peak RSS ≤ 200 MB.
 *
 * `BENCH_BASELINE_BUNDLE=<path to an earlier release's dist/server.mjs>` adds that release as a fourth
 * target, side by side in the same rounds, and reports Switchboard's ratios over it: how a change (tenant
 * scoping, issue 12) moved the cost of a turn. Build it from a worktree of the earlier commit.
 */
import { loadavg } from "node:os";
import { startGeminiEmulator } from "../test/emulators/gemini";
import {
  benchSchema,
  bundleBenchServer,
  median,
  peakRssMb,
  processCpuMs,
  SERVER_DB,
  SERVICE_ENTRY,
  startServiceProcess,
  writeResult,
} from "./lib";
import {
  type ChatLoad,
  PacedChatUsers,
  type PacedResult,
  type PacedSamples,
  type SaturationResult,
  saturateChat,
  summarize,
} from "./load";
import { POOL, peerEnv, switchboardEnv, TURNS_PER_SESSION, userTokens } from "./turn-targets";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
// p99 is the 1 % tail: twice the saturation window, for 2,000 turns per target and round.
const FIXED_RATE_SECONDS = 2 * SECONDS;
const WARM_SECONDS = 3;
const SLICE_SECONDS = 2;
const CONNECTIONS = 50;
const RATE = 100;
const PACED_USERS = 20;
const TARGETS = { cpuRatio: 1.3, p99Ratio: 1.3, peakRssMb: 200 };

const gemini = await startGeminiEmulator();
const tokens = await userTokens(2000);

interface Target {
  name: "switchboard" | "peer" | "bareRoute" | "baseline";
  entry: string[];
  path: string;
  env(databaseUrl: string): Record<string, string>;
  database: boolean;
}

const TARGET_LIST: Target[] = [
  {
    name: "switchboard",
    entry: SERVICE_ENTRY,
    path: "/api/v1/chat",
    database: true,
    env: (databaseUrl) => switchboardEnv(gemini, databaseUrl, POOL),
  },
  {
    name: "peer",
    entry: await bundleBenchServer("bench/naive-peer.ts"),
    path: "/api/v1/chat",
    database: true,
    env: (databaseUrl) => peerEnv(gemini, databaseUrl),
  },
  {
    name: "bareRoute",
    entry: await bundleBenchServer("bench/bare-server.ts"),
    path: "/echo",
    database: false,
    env: () => ({}),
  },
];
const BASELINE = process.env.BENCH_BASELINE_BUNDLE;
if (BASELINE) {
  TARGET_LIST.push({
    name: "baseline",
    entry: [BASELINE],
    path: "/api/v1/chat",
    database: true,
    env: (databaseUrl) => switchboardEnv(gemini, databaseUrl, POOL),
  });
}

interface Figures {
  cpuMsPerTurn: number;
  /** At 100 turns/s (includes whatever the process does between turns). */
  cpuMsPerTurnAtFixedRate: number;
  saturation: SaturationResult;
  fixedRate: PacedResult;
  /** Over the process's whole life, saturation included. */
  peakRssMb: number;
  /** Before the saturation: start-up, warm-up and the fixed rate. */
  peakRssAtFixedRateMb: number;
  /** Gemini generateContent calls per turn at saturation (Switchboard adds its summaries); the turns cut
   * off when the window closes count too, so about 0.01 above the true figure. */
  modelCallsPerTurn: number;
}

const generateCalls = () => gemini.requests.filter((r) => r.path.endsWith(":generateContent")).length;
const perTurn = (ms: number, turns: number) => Math.round((ms / Math.max(1, turns)) * 1000) / 1000;

interface Running {
  target: Target;
  pid: number;
  load: ChatLoad;
  users: PacedChatUsers;
  stop(): Promise<void>;
}

async function start(target: Target): Promise<Running> {
  const db = target.database ? await benchSchema(SERVER_DB) : undefined;
  const svc = await startServiceProcess(target.env(db?.url ?? ""), target.entry);
  const load: ChatLoad = { url: `${svc.url}${target.path}`, tokens, turnsPerSession: TURNS_PER_SESSION };
  const users = new PacedChatUsers(load, PACED_USERS);
  return {
    target,
    pid: svc.child.pid ?? 0,
    load,
    users,
    async stop() {
      users.close();
      await svc.stop();
      await db?.drop();
    },
  };
}

/**
 * One round: all three processes up at once; the fixed rate in slices that alternate between them, so a
 * burst of the machine's other work lands on any of them alike; then each saturated in turn.
 */
async function measureRound(order: Target[]): Promise<Record<Target["name"], Figures>> {
  const running: Running[] = [];
  try {
    for (const target of order) running.push(await start(target));
    // JIT, pools, prepared statements, the context cache; at the fixed rate, so that the first peak of
    // memory read is the one at that rate, not the one the saturation leaves behind.
    for (const r of running) await r.users.run(RATE, WARM_SECONDS);
    const slices = new Map(running.map((r) => [r.target.name, [] as PacedSamples[]]));
    const cpuAtRate = new Map(running.map((r) => [r.target.name, 0]));
    for (let slice = 0; slice < FIXED_RATE_SECONDS / SLICE_SECONDS; slice++) {
      for (const r of running) {
        const before = processCpuMs(r.pid);
        slices.get(r.target.name)?.push(await r.users.run(RATE, SLICE_SECONDS));
        cpuAtRate.set(r.target.name, (cpuAtRate.get(r.target.name) ?? 0) + processCpuMs(r.pid) - before);
      }
    }
    const figures: Partial<Record<Target["name"], Figures>> = {};
    for (const r of running) {
      const fixedRate = summarize(RATE, slices.get(r.target.name) ?? []);
      const peakRssAtFixedRateMb = peakRssMb(r.pid);
      gemini.requests.length = 0;
      const before = processCpuMs(r.pid);
      const saturation = await saturateChat(r.load, CONNECTIONS, SECONDS);
      const cpu = processCpuMs(r.pid) - before;
      // Turns cut off at the end still reach the emulator: let them, so they are not the next target's.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const modelCalls = generateCalls();
      gemini.requests.length = 0;
      figures[r.target.name] = {
        cpuMsPerTurn: perTurn(cpu, saturation.turns),
        cpuMsPerTurnAtFixedRate: perTurn(cpuAtRate.get(r.target.name) ?? 0, fixedRate.requests),
        saturation,
        fixedRate,
        peakRssMb: peakRssMb(r.pid),
        peakRssAtFixedRateMb,
        modelCallsPerTurn: Math.round((modelCalls / Math.max(1, saturation.turns)) * 1000) / 1000,
      };
    }
    return figures as Record<Target["name"], Figures>;
  } finally {
    for (const r of running) await r.stop();
  }
}

type Round = Record<Target["name"], Figures>;
const rounds: Round[] = [];
const load = [loadavg()[0]];
for (let round = 0; round < ROUNDS; round++) {
  const order = TARGET_LIST.map((_, i) => TARGET_LIST[(i + round) % TARGET_LIST.length] as Target);
  const figures = await measureRound(order);
  for (const target of order) {
    const f = figures[target.name];
    console.log(
      `round ${round + 1}/${ROUNDS} ${target.name}: ${f.cpuMsPerTurn} ms CPU/turn, ${f.saturation.turnsPerSecond} turns/s, ` +
        `p50/p99 at ${RATE}/s ${f.fixedRate.latencyMs.p50}/${f.fixedRate.latencyMs.p99} ms`,
    );
  }
  rounds.push(figures);
  load.push(loadavg()[0]);
}

const round2 = (n: number) => Math.round(n * 1000) / 1000;
const spread = (values: number[]) => ({
  median: round2(median(values)),
  min: round2(Math.min(...values)),
  max: round2(Math.max(...values)),
});
function summary(name: Target["name"]) {
  const of = (pick: (f: Figures) => number) => spread(rounds.map((r) => pick(r[name])));
  return {
    cpuMsPerTurn: of((f) => f.cpuMsPerTurn),
    cpuMsPerTurnAtFixedRate: of((f) => f.cpuMsPerTurnAtFixedRate),
    turnsPerSecond: of((f) => f.saturation.turnsPerSecond),
    p50MsAtFixedRate: of((f) => f.fixedRate.latencyMs.p50),
    p99MsAtFixedRate: of((f) => f.fixedRate.latencyMs.p99),
    peakRssMb: of((f) => f.peakRssMb),
    peakRssAtFixedRateMb: of((f) => f.peakRssAtFixedRateMb),
    modelCallsPerTurn: of((f) => f.modelCallsPerTurn),
    failures: rounds.reduce(
      (n, r) =>
        n +
        r[name].saturation.non2xx +
        r[name].saturation.errors +
        r[name].fixedRate.non2xx +
        r[name].fixedRate.errors,
      0,
    ),
  };
}
const ratio = (pick: (f: Figures) => number, over: Target["name"] = "peer") =>
  spread(rounds.map((r) => pick(r.switchboard) / pick(r[over])));
const ratios = {
  cpuPerTurn: ratio((f) => f.cpuMsPerTurn),
  p99AtFixedRate: ratio((f) => f.fixedRate.latencyMs.p99),
  p50AtFixedRate: ratio((f) => f.fixedRate.latencyMs.p50),
  throughput: ratio((f) => f.saturation.turnsPerSecond),
  peakRss: ratio((f) => f.peakRssMb),
};
const switchboard = summary("switchboard");
const result = writeResult("turn-cost", {
  database: "server",
  rounds: ROUNDS,
  saturationSeconds: SECONDS,
  fixedRateSeconds: FIXED_RATE_SECONDS,
  saturationUsers: CONNECTIONS,
  fixedRatePerSecond: RATE,
  fixedRateUsers: PACED_USERS,
  turnsPerSession: TURNS_PER_SESSION,
  databasePool: POOL,
  loadAverage: load.map((l) => Math.round((l ?? 0) * 100) / 100),
  switchboard,
  peer: summary("peer"),
  bareRoute: summary("bareRoute"),
  switchboardOverPeer: ratios,
  ...(BASELINE
    ? {
        baseline: { bundle: BASELINE, ...summary("baseline") },
        switchboardOverBaseline: {
          cpuPerTurn: ratio((f) => f.cpuMsPerTurn, "baseline"),
          p50AtFixedRate: ratio((f) => f.fixedRate.latencyMs.p50, "baseline"),
          p99AtFixedRate: ratio((f) => f.fixedRate.latencyMs.p99, "baseline"),
          throughput: ratio((f) => f.saturation.turnsPerSecond, "baseline"),
          peakRss: ratio((f) => f.peakRssMb, "baseline"),
        },
      }
    : {}),
  targets: {
    cpuPerTurn: { max: TARGETS.cpuRatio, met: ratios.cpuPerTurn.median <= TARGETS.cpuRatio },
    p99AtFixedRate: { max: TARGETS.p99Ratio, met: ratios.p99AtFixedRate.median <= TARGETS.p99Ratio },
    peakRssMb: { max: TARGETS.peakRssMb, met: switchboard.peakRssMb.median <= TARGETS.peakRssMb },
  },
  samples: rounds,
});

const row = (name: Target["name"]) => {
  const s = name === "baseline" ? summary("baseline") : result[name];
  const r = (x: { median: number; min: number; max: number }) => `${x.median} (${x.min}–${x.max})`;
  return {
    target: name,
    "CPU ms/turn": r(s.cpuMsPerTurn),
    "turns/s": r(s.turnsPerSecond),
    [`p50 @${RATE}/s`]: r(s.p50MsAtFixedRate),
    [`p99 @${RATE}/s`]: r(s.p99MsAtFixedRate),
    "peak RSS MB": r(s.peakRssMb),
    [`peak RSS MB @${RATE}/s`]: r(s.peakRssAtFixedRateMb),
    "model calls/turn": s.modelCallsPerTurn.median,
    failures: s.failures,
  };
};
console.log(`medians of ${ROUNDS} rounds (range); load average ${result.loadAverage.join(" → ")}`);
console.table([row("switchboard"), row("peer"), row("bareRoute"), ...(BASELINE ? [row("baseline")] : [])]);
if (result.switchboardOverBaseline) {
  const b = result.switchboardOverBaseline;
  console.log(
    `Switchboard / baseline: CPU per turn ${b.cpuPerTurn.median}× (${b.cpuPerTurn.min}–${b.cpuPerTurn.max}), ` +
      `p50 ${b.p50AtFixedRate.median}×, p99 ${b.p99AtFixedRate.median}×, throughput ${b.throughput.median}×`,
  );
}
const met = (ok: boolean) => (ok ? "met" : "NOT met");
console.log(
  [
    `Switchboard / peer: CPU per turn ${ratios.cpuPerTurn.median}× (target ≤ ${TARGETS.cpuRatio}: ${met(result.targets.cpuPerTurn.met)}),`,
    `p99 at ${RATE} turns/s ${ratios.p99AtFixedRate.median}× (target ≤ ${TARGETS.p99Ratio}: ${met(result.targets.p99AtFixedRate.met)}),`,
    `p50 ${ratios.p50AtFixedRate.median}×, throughput ${ratios.throughput.median}×; peak RSS ${switchboard.peakRssMb.median} MB (target ≤ ${TARGETS.peakRssMb}: ${met(result.targets.peakRssMb.met)})`,
  ].join(" "),
);
await gemini.close();
