/**
 * Round trips to the database per chat turn (not a test; `npm run bench`): Switchboard and the naive peer,
 * each behind a PostgreSQL wire tap (`pg-wire-tap.ts`), play conversations of 10 turns one turn at a time,
 * after a warm-up, and every turn's statements are listed in order with their round trip (flight), the
 * Gemini calls between them, and the log lines the turn wrote. The counts are exact (no timing involved);
 * the listing is the input of the work to make a turn cheaper, and proves it afterwards.
 */
import { startGeminiEmulator } from "../test/emulators/gemini";
import {
  benchSchema,
  bundleBenchServer,
  SERVER_DB,
  SERVICE_ENTRY,
  startServiceProcess,
  writeResult,
} from "./lib";
import { question } from "./load";
import { startWireTap, type WireTap } from "./pg-wire-tap";
import { POOL, peerEnv, switchboardEnv, TURNS_PER_SESSION, userTokens } from "./turn-targets";

const WARM_SESSIONS = 3;
const SESSIONS = 2;

type Step = string;
interface TurnTrace {
  turn: number;
  roundTrips: number;
  statements: number;
  /** The client's socket writes to the database (a floor: TCP may merge two). */
  databaseWrites: number;
  /** Statements as executed, each prefixed with its round trip number, with the Gemini calls between them. */
  steps: Step[];
  modelCalls: number;
  otherUpstreamCalls: string[];
  logLines: string[];
}

/** A JSON log line by its event (or message); any other line as written. */
function logLineName(line: string): string {
  try {
    const parsed = JSON.parse(line) as { event?: string; message?: string; msg?: string };
    return parsed.event ?? parsed.message ?? parsed.msg ?? line.slice(0, 60);
  } catch {
    return line.slice(0, 60);
  }
}

const gemini = await startGeminiEmulator();
const tokens = await userTokens(WARM_SESSIONS + SESSIONS, "trips-user");

/**
 * Watches one service: the statements and round trips its database connection carries (the tap), the
 * Gemini calls between them, the log lines it writes. `start` begins a turn; `end` returns what it did.
 */
function turnRecorder(tap: WireTap, stdout: NodeJS.ReadableStream | null) {
  let turn = { steps: [] as Step[], logLines: [] as string[], statements: 0, writes: 0, upstreamFrom: 0 };
  const roundTrips = new Set<string>();
  let lastContents = "";
  tap.onEvent = (event) => {
    if (event.kind === "write") turn.writes++;
    if (event.kind === "statement" && event.statement) {
      turn.statements++;
      roundTrips.add(`${event.connection}.${event.statement.flight}`);
      turn.steps.push(`[${roundTrips.size}] ${event.statement.sql}`);
    }
  };
  gemini.setResponder((req) => {
    turn.steps.push(`→ Gemini ${req.model} generateContent`);
    lastContents = JSON.stringify(req.body.contents);
    const contents = req.body.contents as { parts: { text?: string }[] }[];
    return {
      kind: "text",
      text: `Emulated answer to: ${(contents.at(-1)?.parts[0]?.text ?? "").slice(0, 200)}`,
    };
  });
  stdout?.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n").filter(Boolean)) turn.logLines.push(logLineName(line));
  });
  return {
    start() {
      turn = { steps: [], logLines: [], statements: 0, writes: 0, upstreamFrom: gemini.requests.length };
      roundTrips.clear();
    },
    /** The conversation the last Gemini call carried. */
    lastContents: () => lastContents,
    async end(number: number): Promise<TurnTrace> {
      // Log lines travel through a pipe, the reply through a socket: let the pipe catch up.
      await new Promise((r) => setTimeout(r, 30));
      const upstream = gemini.requests.slice(turn.upstreamFrom);
      const isGenerate = (r: { path: string }) => r.path.endsWith(":generateContent");
      return {
        turn: number,
        roundTrips: roundTrips.size,
        statements: turn.statements,
        databaseWrites: turn.writes,
        steps: [...turn.steps],
        modelCalls: upstream.filter(isGenerate).length,
        otherUpstreamCalls: upstream.filter((r) => !isGenerate(r)).map((r) => `${r.method} ${r.path}`),
        logLines: [...turn.logLines],
      };
    },
  };
}

async function trace(name: string, entry: string[], env: (url: string) => Record<string, string>) {
  const db = await benchSchema(SERVER_DB);
  const tap = await startWireTap(db.url);
  const svc = await startServiceProcess(env(tap.url), entry);
  const recorder = turnRecorder(tap, svc.child.stdout);
  const traces: TurnTrace[] = [];
  try {
    for (let session = 0; session < WARM_SESSIONS + SESSIONS; session++) {
      const authorization = `Bearer ${tokens[session]}`;
      let sessionId: string | undefined;
      for (let turn = 0; turn < TURNS_PER_SESSION; turn++) {
        recorder.start();
        const res = await fetch(`${svc.url}/api/v1/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization },
          body: JSON.stringify({ message: question(turn), ...(sessionId ? { sessionId } : {}) }),
        });
        const body = (await res.json()) as { sessionId: string };
        if (res.status !== 200)
          throw new Error(`${name}: turn answered ${res.status}: ${JSON.stringify(body)}`);
        sessionId = body.sessionId;
        // The load must be what it claims: every turn continues its conversation.
        if (turn > 0 && !recorder.lastContents().includes(question(turn - 1)))
          throw new Error(`${name}: turn ${turn + 1} was generated without the previous turn in its history`);
        const traced = await recorder.end(turn + 1);
        if (session >= WARM_SESSIONS) traces.push(traced);
      }
    }
  } finally {
    gemini.setResponder(undefined);
    await svc.stop();
    await tap.close();
    await db.drop();
  }
  return traces;
}

/** Per turn of a conversation: the counts of every measured session, and one session's listing. */
function byTurn(traces: TurnTrace[]) {
  return Array.from({ length: TURNS_PER_SESSION }, (_, i) => {
    const same = traces.filter((t) => t.turn === i + 1);
    const counts = (pick: (t: TurnTrace) => number) => [...new Set(same.map(pick))].join("/");
    const first = same[0] as TurnTrace;
    return {
      turn: i + 1,
      roundTrips: counts((t) => t.roundTrips),
      statements: counts((t) => t.statements),
      databaseWrites: counts((t) => t.databaseWrites),
      modelCalls: counts((t) => t.modelCalls),
      logLines: counts((t) => t.logLines.length),
      steps: first.steps,
      logLineMessages: first.logLines,
      otherUpstreamCalls: first.otherUpstreamCalls,
    };
  });
}

const mean = (traces: TurnTrace[], pick: (t: TurnTrace) => number) =>
  Math.round((traces.reduce((n, t) => n + pick(t), 0) / traces.length) * 100) / 100;
const totals = (traces: TurnTrace[]) => ({
  roundTripsPerTurn: mean(traces, (t) => t.roundTrips),
  statementsPerTurn: mean(traces, (t) => t.statements),
  databaseWritesPerTurn: mean(traces, (t) => t.databaseWrites),
  modelCallsPerTurn: mean(traces, (t) => t.modelCalls),
  logLinesPerTurn: mean(traces, (t) => t.logLines.length),
});

const switchboard = await trace("switchboard", SERVICE_ENTRY, (url) => switchboardEnv(gemini, url, POOL));
const peer = await trace("peer", await bundleBenchServer("bench/naive-peer.ts"), (url) =>
  peerEnv(gemini, url),
);
await gemini.close();

const result = writeResult("turn-round-trips", {
  database: "server",
  turnsPerSession: TURNS_PER_SESSION,
  measuredSessions: SESSIONS,
  afterWarmSessions: WARM_SESSIONS,
  switchboard: { ...totals(switchboard), turns: byTurn(switchboard) },
  peer: { ...totals(peer), turns: byTurn(peer) },
});

for (const name of ["switchboard", "peer"] as const) {
  const r = result[name];
  console.log(
    `\n${name}: ${r.roundTripsPerTurn} round trips, ${r.statementsPerTurn} statements, ${r.databaseWritesPerTurn} database writes, ${r.modelCallsPerTurn} model calls and ${r.logLinesPerTurn} log lines per turn (mean over ${SESSIONS} conversations of ${TURNS_PER_SESSION} turns)`,
  );
  console.table(
    r.turns.map(({ steps: _s, logLineMessages: _l, otherUpstreamCalls: _o, ...counts }) => counts),
  );
  // The distinct shapes of a turn, each listed once.
  const shown = new Set<string>();
  for (const t of r.turns) {
    const shape = t.steps.map((s) => s.replace(/^\[\d+\] /, "")).join("\n");
    if (shown.has(shape)) continue;
    shown.add(shape);
    console.log(`  turn ${t.turn} (log: ${t.logLineMessages.join(" | ")}):`);
    for (const step of t.steps) console.log(`    ${step.length > 150 ? `${step.slice(0, 150)}…` : step}`);
  }
}
