import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../service/src/app";
import { engineSettings } from "../../service/src/compose/settings";
import { parseConfig } from "../../service/src/config";
import type { Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import {
  BudgetExceeded,
  type DomainError,
  GuestBudgetExceeded,
  ModelCapacity,
  RateLimited,
  SessionNotFound,
  TooManySessions,
} from "../../service/src/domain/errors";
import {
  ConversationEngine,
  type EngineSettings,
  type TurnEngine,
} from "../../service/src/engine/conversation-engine";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
import { CircuitBreaker } from "../../service/src/engine/resilience";
import { Authenticator } from "../../service/src/http/auth";
import { createLogger } from "../../service/src/logger";
import type { GenerateRequest, GenerateResult, ModelProvider } from "../../service/src/ports/model-provider";
import { bearer, testDatabase } from "./helpers";
import { minimalAppDeps } from "./minimal-app";

/**
 * createApp and the engine with fakes, through app.request(): no server, no emulator. A fake model
 * provider, the real engine and a PGlite (or server) database.
 */

const REPLY = "Open Settings, then Security, and choose Reset password.";

/** A model that answers the same words, streamed word by word, and remembers what it was asked. */
class FakeModel implements ModelProvider {
  readonly name = "fake";
  readonly requests: GenerateRequest[] = [];

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    for (const piece of REPLY.match(/\S+\s*/g) ?? []) await request.onDelta?.(piece);
    return {
      text: REPLY,
      model: "fake-model",
      finishReason: "STOP",
      usage: { inputTokens: 100, outputTokens: 20, cachedTokens: 0, thoughtsTokens: 0 },
      functionCalls: [],
    };
  }
}

const log = createLogger({ level: "silent" });
const auth = new Authenticator({ sessionKey: "app-test-session-signing-key-0123456789" });

function settings(over: Partial<EngineSettings> = {}): EngineSettings {
  const defaults = engineSettings(parseConfig({}));
  return { ...defaults, prices: { "fake-model": { input: 1, output: 2, cached: 0 } }, ...over };
}

function engineWith(
  sql: Sql,
  model: ModelProvider,
  over: Partial<EngineSettings> = {},
  limiter = new ModelCallLimiter({
    requestsPerMinute: 500,
    tokensPerMinute: 2_000_000,
    queueTimeoutMs: 2000,
  }),
) {
  return new ConversationEngine({
    sql,
    provider: model,
    fallback: { answer: async () => undefined },
    knowledge: { fullText: "", tokens: 0, chunks: 0, search: async () => "" },
    limiter,
    breaker: new CircuitBreaker(model.name, 5, 30_000),
    settings: settings(over),
    log,
  });
}

function appWith(engine: TurnEngine, sql: Sql) {
  return createApp(minimalAppDeps({ log, auth, sql, engine }));
}

type App = ReturnType<typeof appWith>;
const chat = (app: App, body: unknown, headers: Record<string, string> = {}) =>
  app.request("/api/v1/chat", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** SSE events as written on the wire: `event: <name>\ndata: <json>\n\n`. */
function sseEvents(text: string): { event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? "";
      const data = /^data: (.+)$/m.exec(block)?.[1] ?? "null";
      return { event, data: JSON.parse(data) as unknown };
    });
}

let sql: Sql;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await testDatabase();
  sql = t.db.sql;
  drop = t.drop;
  await migrate(sql);
});
afterAll(async () => {
  await drop?.();
});

describe("a chat turn through createApp and the engine", () => {
  test("the reply, its usage and cost, a session token; the model saw the message redacted", async () => {
    const model = new FakeModel();
    const app = appWith(engineWith(sql, model), sql);
    const res = await chat(app, { message: "I am jane@example.com, how do I reset my password?" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      reply: REPLY,
      model: "fake-model",
      outcome: "answered",
      usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.00014 },
      budget: { status: "ok" },
    });
    expect(body.sessionToken).toEqual(expect.any(String));
    const asked = model.requests[0]?.turns.at(-1)?.text;
    expect(asked).toContain("[EMAIL]");
    expect(asked).not.toContain("jane@example.com");
  });

  test("the next turn continues the session: the model gets the earlier exchange, history lists both turns", async () => {
    const model = new FakeModel();
    const app = appWith(engineWith(sql, model), sql);
    const first = (await (await chat(app, { message: "How do I reset my password?" })).json()) as {
      sessionId: string;
      sessionToken: string;
    };
    const token = bearer(first.sessionToken);
    const second = await chat(app, { message: "And my username?", sessionId: first.sessionId }, token);
    expect(second.status).toBe(200);
    expect(model.requests[1]?.turns.map((t) => t.text)).toEqual([
      "How do I reset my password?",
      REPLY,
      "And my username?",
    ]);
    const history = await app.request(`/api/v1/sessions/${first.sessionId}/messages`, { headers: token });
    const messages = ((await history.json()) as { messages: { role: string }[] }).messages;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });
});

describe("refusals: each domain error as the HTTP edge answers it", () => {
  /** An engine that refuses every turn with `error`. */
  const refusing = (error: DomainError): TurnEngine => ({
    prepare: () => Promise.reject(error),
    run: () => Promise.reject(new Error("never runs")),
    respond: () => Promise.reject(error),
  });
  const details = { retryAfterSeconds: 7 };

  test.each([
    [new RateLimited("Too many messages; please slow down.", 7, details), 429, "rate_limited"],
    [new TooManySessions("Too many new conversations.", 7, details), 429, "too_many_sessions"],
    [
      new BudgetExceeded("The daily token budget of this account is used up.", 7, details),
      429,
      "budget_exceeded",
    ],
    [
      new GuestBudgetExceeded("Chat without signing in is used up.", 7, details),
      429,
      "guest_budget_exceeded",
    ],
    [new ModelCapacity("The assistant is at capacity right now.", 7, details), 503, "model_capacity"],
  ])("%s → %i %s with Retry-After and details", async (error, status, code) => {
    const res = await chat(appWith(refusing(error), sql), { message: "hello" });
    expect(res.status).toBe(status);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({
      error: { code, message: error.message, requestId: res.headers.get("x-request-id"), details },
    });
  });

  test("SessionNotFound → 404 not_found, nothing to wait for", async () => {
    const res = await chat(appWith(refusing(new SessionNotFound()), sql), { message: "hello" });
    expect(res.status).toBe(404);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(await res.json()).toEqual({
      error: { code: "not_found", message: "session not found", requestId: res.headers.get("x-request-id") },
    });
  });

  test("the real engine's refusals: a used-up budget before the model, a full limiter", async () => {
    const model = new FakeModel();
    const tiny = { ...settings().budgets, guest: { daily: 50, monthly: null } };
    const app = appWith(engineWith(sql, model, { budgets: tiny }), sql);
    const first = (await (await chat(app, { message: "hello" })).json()) as { sessionToken: string };
    const refused = await chat(app, { message: "hello again" }, bearer(first.sessionToken));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string; details: unknown } }).error).toMatchObject({
      code: "budget_exceeded",
      details: { period: "day", tier: "guest" },
    });
    expect(model.requests).toHaveLength(1);

    const limiterFull = new ModelCallLimiter({ requestsPerMinute: 1, tokensPerMinute: 1, queueTimeoutMs: 0 });
    await limiterFull.acquire(1);
    const capped = engineWith(sql, model, {}, limiterFull);
    const atCapacity = await chat(appWith(capped, sql), { message: "hello" });
    expect(atCapacity.status).toBe(503);
    expect(Number(atCapacity.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await atCapacity.json()) as { error: { code: string } }).error.code).toBe("model_capacity");
  });
});

describe("SSE framing", () => {
  const streaming = { accept: "text/event-stream" };

  test("delta events carry the reply as it is written, then one done event with the whole reply", async () => {
    const app = appWith(engineWith(sql, new FakeModel()), sql);
    const res = await chat(app, { message: "How do I reset my password?" }, streaming);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseEvents(await res.text());
    const deltas = events.filter((e) => e.event === "delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((e) => (e.data as { text: string }).text).join("")).toBe(REPLY);
    expect(events.at(-1)).toMatchObject({ event: "done", data: { reply: REPLY, outcome: "answered" } });
    expect(events.filter((e) => e.event === "done")).toHaveLength(1);
  });

  test("a failure after the first delta ends the stream with one error event in the uniform shape", async () => {
    const engine = engineWith(sql, new FakeModel());
    const failing: TurnEngine = {
      prepare: (input) => engine.prepare(input),
      run: async (_turn, onDelta) => {
        await onDelta?.("Open Settings");
        throw new Error("the database went away");
      },
      respond: (input) => engine.respond(input),
    };
    const res = await chat(
      appWith(failing, sql),
      { message: "hello" },
      { ...streaming, "x-request-id": "req-sse-1234" },
    );
    expect(sseEvents(await res.text())).toEqual([
      { event: "delta", data: { text: "Open Settings" } },
      {
        event: "error",
        data: {
          error: {
            code: "stream_failed",
            message: "The reply could not be completed.",
            requestId: "req-sse-1234",
          },
        },
      },
    ]);
  });
});
