/**
 * Load for the benchmarks. Two shapes:
 *
 * - `openLoop` / `pacedChat`: requests start at evenly spaced instants, whatever the service is doing:
 *   latency at a fixed rate. Used instead of autocannon's `overallRate`, whose limiter lets each connection
 *   send its whole per-second quota back to back at the start of every second and then pauses it: measured
 *   against the naive peer at "100 turns/s", every second's turns completed within 300 ms and none in the
 *   other 700 ms, so the latency it reports is that burst's queue (p50 25–34 ms where evenly spaced turns
 *   take 7 ms). With a rate it also applies its coordinated-omission correction with an expected interval
 *   of ceil(1 / rate) = 1 ms, adding synthetic samples 1 ms apart below every real one.
 * - `saturateChat`: closed loop (autocannon): every user sends the next turn as soon as the reply is in;
 *   throughput and CPU per turn at saturation.
 *
 * Chat load comes from virtual users who each hold a conversation of `turnsPerSession` turns (continuing
 * the session the first reply named), then start a new one as another signed-in user.
 */
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import { percentile } from "./lib";

export interface PacedResult {
  ratePerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** From the instant a request was due (or its lane's previous answer, if later) to the end of the answer. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** What an open-loop run observed, before percentiles (runs can be merged). */
export interface PacedSamples {
  latencies: number[];
  non2xx: number;
  errors: number;
}

export function summarize(rate: number, runs: readonly PacedSamples[]): PacedResult {
  const sorted = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const ms = (p: number) => Math.round(percentile(sorted, p) * 100) / 100;
  return {
    ratePerSecond: rate,
    requests: sorted.length,
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: ms(100) },
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * Open loop at `rate` requests a second for `seconds`: `lanes` lanes (connections, users) take turns in a
 * fixed rotation, so a request starts every 1/rate s. A lane whose previous answer is late sends its next
 * request when it arrives, and that request's latency counts from when it was due (no coordinated omission);
 * the load generator's own timer lateness does not count.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  lanes: number,
  send: (lane: number) => Promise<HttpAnswer>,
): Promise<PacedSamples> {
  const samples: PacedSamples = { latencies: [], non2xx: 0, errors: 0 };
  const t0 = performance.now() + 50;
  const total = Math.round(rate * seconds);

  async function lane(lane: number) {
    let previousEnd = 0;
    for (let k = 0; lane + k * lanes < total; k++) {
      const due = t0 + ((lane + k * lanes) * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const start = Math.max(due, previousEnd);
      const answer = await send(lane).catch(() => undefined);
      previousEnd = performance.now();
      if (!answer) samples.errors++;
      else if (answer.status < 200 || answer.status > 299) samples.non2xx++;
      else samples.latencies.push(previousEnd - start);
    }
  }

  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  return samples;
}

/** One GET over a keep-alive agent (a baseline that does no work of its own). */
export function get(url: string, agent: Agent): Promise<HttpAnswer> {
  return send(url, "GET", undefined, {}, agent);
}

/** One POST over a keep-alive agent (one socket per lane). */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  agent: Agent,
): Promise<HttpAnswer> {
  return send(url, "POST", body, headers, agent);
}

function send(
  url: string,
  method: "GET" | "POST",
  body: string | undefined,
  headers: Record<string, string>,
  agent: Agent,
): Promise<HttpAnswer> {
  const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, ...length } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export interface ChatLoad {
  /** The chat endpoint: `POST` with `{ message, sessionId? }`, answering `{ sessionId, reply }`. */
  url: string;
  /** Bearer tokens; every new conversation takes the next one (another user). */
  tokens: readonly string[];
  turnsPerSession: number;
}

/** The n-th message of a conversation; different every turn, no personal data (no redaction work). */
export const question = (turn: number) =>
  `Question ${turn + 1} of this conversation: how do I reset my password, and where are my invoices?`;

function tokenCycle(tokens: readonly string[]) {
  let next = 0;
  return () => tokens[next++ % tokens.length] ?? "";
}

const sessionOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { sessionId?: string }).sessionId;
  } catch {
    return undefined;
  }
};

/**
 * Chat users at a fixed rate, each continuing its conversation on its own kept-alive connection; their
 * conversations and connections carry over from one `run` to the next (slices of one long run).
 */
export class PacedChatUsers {
  private readonly agent: Agent;
  private readonly nextToken: () => string;
  private readonly users: { token: string; sessionId: string | undefined; turn: number }[];

  constructor(
    private readonly load: ChatLoad,
    readonly count: number,
  ) {
    // Idle sockets are dropped before the servers' 5 s keep-alive timeout would close them under a request
    // (slices leave a connection idle for a few seconds).
    this.agent = new Agent({ keepAlive: true, maxSockets: count, timeout: 4000 });
    this.nextToken = tokenCycle(load.tokens);
    this.users = Array.from({ length: count }, () => ({ token: "", sessionId: undefined, turn: 0 }));
  }

  run(rate: number, seconds: number): Promise<PacedSamples> {
    return openLoop(rate, seconds, this.count, async (lane) => {
      const user = this.users[lane] as (typeof this.users)[number];
      const turn = user.turn++ % this.load.turnsPerSession;
      if (turn === 0) {
        user.token = this.nextToken();
        user.sessionId = undefined;
      }
      const body = JSON.stringify({
        message: question(turn),
        ...(user.sessionId ? { sessionId: user.sessionId } : {}),
      });
      const answer = await post(
        this.load.url,
        body,
        { "content-type": "application/json", authorization: `Bearer ${user.token}` },
        this.agent,
      );
      if (answer.status === 200) user.sessionId = sessionOf(answer.body) ?? user.sessionId;
      return answer;
    });
  }

  close() {
    this.agent.destroy();
  }
}

export interface SaturationResult {
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p99: number };
}

/** `connections` users, each sending its next turn as soon as the last reply is in. */
export async function saturateChat(
  load: ChatLoad,
  connections: number,
  seconds: number,
): Promise<SaturationResult> {
  const nextToken = tokenCycle(load.tokens);
  type Context = { token?: string; sessionId?: string };
  // autocannon keeps one context per connection through the list and resets it when it starts the list
  // again: one list is one conversation.
  const requests = Array.from({ length: load.turnsPerSession }, (_, turn) => ({
    setupRequest: (req: autocannon.Request, context: Context) => {
      if (turn === 0 || !context.token) context.token = nextToken();
      return {
        ...req,
        headers: { ...req.headers, authorization: `Bearer ${context.token}` },
        body: JSON.stringify({
          message: question(turn),
          ...(context.sessionId ? { sessionId: context.sessionId } : {}),
        }),
      };
    },
    onResponse: (status: number, body: string, context: Context) => {
      if (status === 200) context.sessionId = sessionOf(body);
    },
  }));
  const started = performance.now();
  const result = await autocannon({
    url: load.url,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json" },
    requests: requests as unknown as autocannon.Request[],
  });
  const elapsed = (performance.now() - started) / 1000;
  const turns = result["2xx"];
  return {
    seconds: Math.round(elapsed * 10) / 10,
    turns,
    turnsPerSecond: Math.round(turns / elapsed),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
  };
}
