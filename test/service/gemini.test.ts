import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { bearer, raw, startTestService, type TestService, testDatabase } from "./helpers";

let gemini: GeminiEmulator;
let db: Database;
let drop: () => Promise<void>;
const services: TestService[] = [];

beforeAll(async () => {
  gemini = await startGeminiEmulator();
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
});
// The emulator forgets its cached contents on reset; the services' registry of them must too: the table
// here, and each service's memory by starting a service per test.
afterEach(async () => {
  gemini.reset();
  await raw(db)`delete from model_caches`;
});
afterAll(async () => {
  for (const s of services) await s.close();
  await drop?.();
  await gemini?.close();
});

async function service(env: Record<string, string> = {}) {
  const svc = await startTestService(db, {
    MODEL_PROVIDER: "auto",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    MODEL_RETRY_BASE_MS: "10",
    CIRCUIT_BREAKER_THRESHOLD: "100",
    ...env,
  });
  services.push(svc);
  return svc;
}

const generateCalls = () =>
  gemini.requests.filter((r) => /:(generateContent|streamGenerateContent)$/.test(r.path));
const body = (r: { body: unknown }) => r.body as Record<string, any>;
const chat = async (
  svc: TestService,
  message: string,
  headers: Record<string, string> = {},
  sessionId?: string,
) => {
  const res = await svc.post("/api/v1/chat", { message, ...(sessionId ? { sessionId } : {}) }, headers);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe("Gemini through the real @google/genai SDK", () => {
  let svc: TestService;
  beforeEach(async () => {
    // These turns are tokenless guests; since issue 10 guests reach Pro only when this says so.
    svc = await service({ ROUTING_ESCALATE_GUESTS: "true" });
  });

  test("a configured key switches the chat endpoint to Gemini, grounded in a cached knowledge base", async () => {
    const first = await chat(svc, "How do refunds work? Mail me at pat@example.com");
    expect(first.status).toBe(200);
    expect(first.body.reply).toContain("Emulated answer to: How do refunds work? Mail me at [EMAIL]");
    expect(first.body.model).toBe("gemini-2.5-flash");

    const [call] = generateCalls();
    expect(call?.headers["x-goog-api-key"]).toBe(gemini.apiKey);
    expect(call?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    // The knowledge base is above Flash's 1,024-token minimum: it travels as a cached content.
    expect(body(call ?? { body: {} }).cachedContent).toMatch(/^cachedContents\//);
    expect(body(call ?? { body: {} }).systemInstruction).toBeUndefined();
    expect(JSON.stringify(call?.body)).not.toContain("pat@example.com");
    expect(body(call ?? { body: {} }).generationConfig).toMatchObject({
      temperature: 0.3,
      maxOutputTokens: 8000,
    });

    // Cached tokens are reported and billed at the cached rate.
    const u = first.body.usage;
    expect(u.cachedTokens).toBeGreaterThan(1000);
    const expected =
      ((u.inputTokens - u.cachedTokens) * 0.3 + u.cachedTokens * 0.03 + u.outputTokens * 2.5) / 1e6;
    expect(u.costUsd).toBeCloseTo(expected, 8);

    // A second conversation reuses the same cache: one cachedContents.create in all.
    await chat(svc, "How do I invite my team?");
    expect(
      gemini.requests.filter((r) => r.method === "POST" && r.path === "/v1beta/cachedContents"),
    ).toHaveLength(1);
    expect(body(generateCalls()[1] ?? { body: {} }).cachedContent).toBe(
      body(generateCalls()[0] ?? { body: {} }).cachedContent,
    );

    const ledger = await raw(
      db,
    )`select model, cached_tokens, cost_usd::float8 as cost from usage_ledger where session_id = ${first.body.sessionId}`;
    expect(ledger).toEqual([
      { model: "gemini-2.5-flash", cachedTokens: u.cachedTokens, cost: expect.closeTo(u.costUsd, 8) },
    ]);
  });

  test("an analysis question is routed to Pro, with the knowledge base inline (below Pro's cache minimum)", async () => {
    const res = await chat(svc, "Can you compare the Team and Business plans for me?");
    expect(res.body.model).toBe("gemini-2.5-pro");
    const call = generateCalls()[0];
    expect(call?.path).toBe("/v1beta/models/gemini-2.5-pro:generateContent");
    expect(JSON.stringify(body(call ?? { body: {} }).systemInstruction)).toContain("Knowledge base");
  });

  test("streaming relays Gemini's SSE chunks in order and ends with the usage", async () => {
    gemini.enqueue({ kind: "text", text: "First part. Second part. Third part.", chunks: 3 });
    const res = await svc.post(
      "/api/v1/chat",
      { message: "Tell me about invoices" },
      { accept: "text/event-stream" },
    );
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((b) => ({
        event: /^event: (.+)$/m.exec(b)?.[1],
        data: JSON.parse(/^data: (.+)$/m.exec(b)?.[1] ?? "null"),
      }));
    expect(events.filter((e) => e.event === "delta").map((e) => e.data.text)).toHaveLength(3);
    const done = events.at(-1);
    expect(done?.event).toBe("done");
    expect(done?.data.reply).toBe("First part. Second part. Third part.");
    expect(done?.data.usage.outputTokens).toBeGreaterThan(0);
    expect(generateCalls()[0]?.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  });

  test("a 429 with RetryInfo is retried after the delay Gemini asked for", async () => {
    gemini.enqueue({ kind: "error", status: 429, retryDelaySeconds: 1 });
    const started = Date.now();
    const res = await chat(svc, "How do I change my e-mail address?");
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("answered");
    const [first, second] = generateCalls();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(svc.logs.events("upstream.error").at(-1)).toMatchObject({ upstream: "gemini", status: 429 });
  });

  test("a cached content that vanished early is dropped and the call is made inline instead", async () => {
    await chat(svc, "How do I invite my team?");
    gemini.cachedContents.clear();
    gemini.requests.length = 0;
    const res = await chat(svc, "How do I export my data?");
    expect(res.body.outcome).toBe("answered");
    const [withCache, inline] = generateCalls();
    expect(body(withCache ?? { body: {} }).cachedContent).toMatch(/^cachedContents\//);
    expect(body(inline ?? { body: {} }).cachedContent).toBeUndefined();
    expect(JSON.stringify(body(inline ?? { body: {} }).systemInstruction)).toContain("Knowledge base");
    // The next call creates a fresh cache.
    await chat(svc, "How do I import data?");
    expect(gemini.cachedContents.size).toBe(1);
  });

  test("a mid-stream failure keeps what was shown and says the answer was interrupted", async () => {
    gemini.enqueue({ kind: "stream-error", afterChunks: 1, text: "Partial answer that breaks off" });
    const res = await svc.post("/api/v1/chat", { message: "Explain roles" }, { accept: "text/event-stream" });
    const text = await res.text();
    expect(text).toContain("event: done");
    const done = JSON.parse(/event: done\ndata: (.+)/.exec(text)?.[1] ?? "{}");
    expect(done.outcome).toBe("fallback");
    expect(done.reply).toMatch(/interrupted/);
    // No retry after deltas reached the user: one call only.
    expect(generateCalls()).toHaveLength(1);
  });
});

describe("when Gemini keeps failing", () => {
  test("503 bursts beyond the retries: a knowledge-base fallback, never a 5xx", async () => {
    const svc = await service({ MODEL_MAX_RETRIES: "2" });
    gemini.enqueue(
      { kind: "error", status: 503 },
      { kind: "error", status: 503 },
      { kind: "error", status: 503 },
    );
    const res = await chat(svc, "How do I reset my password?");
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("fallback");
    expect(res.body.reply).toContain("Forgot password");
    expect(generateCalls()).toHaveLength(3);
    const row = await raw(db)`select outcome from usage_ledger where session_id = ${res.body.sessionId}`;
    expect(row[0]?.outcome).toBe("fallback");
  });

  test("a hang beyond the timeout falls back to 'a person will follow up' when the knowledge base has nothing", async () => {
    const svc = await service({ MODEL_TIMEOUT_MS: "300", MODEL_MAX_RETRIES: "0" });
    gemini.enqueue({ kind: "hang", ms: 3000 });
    const res = await chat(svc, "Qwertyuiop zxcvbnm?");
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe("fallback");
    expect(res.body.reply).toMatch(/person from our support team will follow up/);
  });

  test("the circuit opens: no more calls to Gemini, the fallback at once, health degraded; it recovers", async () => {
    const svc = await service({
      MODEL_MAX_RETRIES: "0",
      CIRCUIT_BREAKER_THRESHOLD: "2",
      CIRCUIT_BREAKER_COOLDOWN_MS: "500",
      ADMIN_API_KEY: "gemini-test-admin-key-0123456789",
    });
    gemini.setResponder(() => ({ kind: "error", status: 500 }));
    await chat(svc, "How do I invite my team?");
    await chat(svc, "How do I invite my team?");
    const before = generateCalls().length;
    const third = await chat(svc, "How do I invite my team?");
    expect(third.body.outcome).toBe("fallback");
    expect(generateCalls()).toHaveLength(before);
    const health = (await (
      await svc.get("/api/v1/health", { authorization: "Bearer gemini-test-admin-key-0123456789" })
    ).json()) as { status: string; reasons: string[] };
    expect(health.status).toBe("degraded");
    expect(health.reasons.join()).toMatch(/circuit open/);

    gemini.setResponder(undefined);
    await new Promise((r) => setTimeout(r, 600));
    expect((await chat(svc, "How do I invite my team?")).body.outcome).toBe("answered");
  });
});

describe("history limits", () => {
  test("only the window is sent; older turns are folded into a summary by the cheap model", async () => {
    const svc = await service({ HISTORY_MAX_MESSAGES: "4" });
    // Cross a digit boundary of the message ids (99 → 100): the window must stay in order.
    await raw(db)`select setval(pg_get_serial_sequence('messages', 'id'), 95)`;
    const first = await chat(svc, "Question number 1 about billing");
    const auth = bearer(first.body.sessionToken);
    for (let i = 2; i <= 4; i++)
      await chat(svc, `Question number ${i} about billing`, auth, first.body.sessionId);
    const summaries = gemini.requests.filter(
      (r) => r.path === "/v1beta/models/gemini-2.5-flash-lite:generateContent",
    );
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(summaries[0]?.body)).toContain("Question number 1");
    expect(body(summaries[0] ?? { body: {} }).generationConfig.temperature).toBe(0.1);

    const last = body(
      generateCalls()
        .filter((r) => r.path.includes("gemini-2.5-flash:"))
        .at(-1) ?? { body: {} },
    );
    const texts = (last.contents as { parts: { text: string }[] }[]).map((c) => c.parts[0]?.text ?? "");
    // Summary pair + at most 4 window messages + the new question.
    expect(texts.length).toBeLessThanOrEqual(7);
    expect(texts[0]).toMatch(/^Summary of our conversation so far/);
    expect(texts.at(-1)).toBe("Question number 4 about billing");
    expect(texts.filter((t) => t === "Question number 1 about billing")).toHaveLength(0);

    const [session] = await raw(
      db,
    )`select summary, summarized_through from sessions where id = ${first.body.sessionId}`;
    expect(session?.summary).toEqual(expect.any(String));
    const ledger = await raw(
      db,
    )`select purpose, model from usage_ledger where session_id = ${first.body.sessionId} and purpose = 'summary'`;
    expect(ledger[0]).toEqual({ purpose: "summary", model: "gemini-2.5-flash-lite" });
  });
});
