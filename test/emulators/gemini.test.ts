import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "./gemini";

let gemini: GeminiEmulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  gemini = await startGeminiEmulator();
  ai = new GoogleGenAI({ apiKey: gemini.apiKey, httpOptions: { baseUrl: gemini.url } });
});
afterEach(() => gemini.reset());
afterAll(() => gemini.close());

const longText = (tokens: number) => "lorem ipsum dolor sit amet ".repeat(Math.ceil((tokens * 4) / 27));

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("gemini emulator with the real @google/genai client", () => {
  it("generateContent returns the default answer with usage, and records the request", async () => {
    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Where is my order?",
      config: { systemInstruction: "Be brief.", temperature: 0.3, maxOutputTokens: 800 },
    });
    expect(response.text).toBe("Emulated answer to: Where is my order?");
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.modelVersion).toBe("gemini-2.5-flash");
    expect(response.responseId).toBeTruthy();
    const prompt = Math.ceil(("Be brief.".length + "Where is my order?".length) / 4);
    const answer = Math.ceil("Emulated answer to: Where is my order?".length / 4);
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: prompt,
      candidatesTokenCount: answer,
      totalTokenCount: prompt + answer,
    });

    const [request] = gemini.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(request?.headers["x-goog-api-key"]).toBe(gemini.apiKey);
    expect(request?.body).toMatchObject({
      contents: [{ role: "user", parts: [{ text: "Where is my order?" }] }],
      systemInstruction: { parts: [{ text: "Be brief." }] },
      generationConfig: { temperature: 0.3, maxOutputTokens: 800 },
    });
  });

  it("scripted text replaces the answer and usage override replaces the numbers", async () => {
    gemini.enqueue({
      kind: "text",
      text: "Scripted.",
      usage: { promptTokenCount: 100, candidatesTokenCount: 7 },
    });
    const response = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    expect(response.text).toBe("Scripted.");
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: 100,
      candidatesTokenCount: 7,
      totalTokenCount: 107,
    });
    // queue empty again → default answer
    const again = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" });
    expect(again.text).toBe("Emulated answer to: hi");
  });

  it("maxOutputTokens truncates with MAX_TOKENS; a responder is used when the queue is empty", async () => {
    gemini.setResponder(({ model, stream }) => ({
      kind: "text",
      text: `${model} stream=${stream} ${"x".repeat(80)}`,
    }));
    const response = await ai.models.generateContent({
      model: "gemini-2.5-pro",
      contents: "hi",
      config: { maxOutputTokens: 5 },
    });
    expect(response.text).toBe("gemini-2.5-pro strea"); // 5 tokens × 4 chars
    expect(response.candidates?.[0]?.finishReason).toBe("MAX_TOKENS");
  });

  it("JSON mode answers with a value shaped by the response schema", async () => {
    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "extract",
      config: {
        responseMimeType: "application/json",
        responseJsonSchema: {
          type: "object",
          properties: { intent: { type: "string", enum: ["refund", "other"] }, urgent: { type: "boolean" } },
        },
      },
    });
    expect(JSON.parse(response.text ?? "")).toEqual({ intent: "refund", urgent: false });
  });

  it("generateContentStream delivers the chunks in order with the full usage on the last one", async () => {
    gemini.chunkDelayMs = 5;
    gemini.enqueue({ kind: "text", text: "one two three four five six", chunks: 3 });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "count" });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.text)).toEqual(["one two ", "three four ", "five six"]);
    expect(chunks.slice(0, -1).every((c) => c.candidates?.[0]?.finishReason === undefined)).toBe(true);
    const last = chunks.at(-1);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(
      Math.ceil("one two three four five six".length / 4),
    );
    expect(last?.usageMetadata?.totalTokenCount).toBe(
      (last?.usageMetadata?.promptTokenCount ?? 0) + (last?.usageMetadata?.candidatesTokenCount ?? 0),
    );
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    // running usage on every chunk, cumulative candidates, complete on the last
    const candidateCounts = chunks.map((c) => c.usageMetadata?.candidatesTokenCount ?? 0);
    expect(candidateCounts).toEqual([...candidateCounts].sort((a, b) => a - b));
    expect(
      chunks.every((c) => c.usageMetadata?.promptTokenCount === last?.usageMetadata?.promptTokenCount),
    ).toBe(true);
    const request = gemini.requests.at(-1);
    expect(request?.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    expect(request?.query.alt).toBe("sse");
  });

  it("the raw SSE framing is data: <json> events separated by blank lines", async () => {
    gemini.enqueue({ kind: "text", text: "a b", chunks: 2 });
    const res = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "x-goog-api-key": gemini.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const raw = await res.text();
    const events = raw.split("\r\n\r\n").filter((e) => e !== "");
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events[0]).toContain('{"candidates": [{"content": {"parts": [{"text": "a "}],"role": "model"}');
  });

  it("function calls come back as response.functionCalls (unary and streamed)", async () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: "lookup_order",
            description: "Look an order up",
            parametersJsonSchema: { type: "object", properties: { id: { type: "string" } } },
          },
        ],
      },
    ];
    gemini.enqueue({ kind: "functionCall", name: "lookup_order", args: { id: "A-1" } });
    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "where is A-1",
      config: { tools },
    });
    expect(response.functionCalls).toEqual([{ name: "lookup_order", args: { id: "A-1" } }]);
    expect(gemini.requests.at(-1)?.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: "lookup_order" }] }],
    });

    gemini.enqueue({ kind: "functionCall", name: "lookup_order", args: { id: "B-2" }, text: "Checking." });
    const stream = await ai.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "where is B-2",
      config: { tools },
    });
    const calls = [];
    const texts = [];
    for await (const chunk of stream) {
      if (chunk.functionCalls) calls.push(...chunk.functionCalls);
      if (chunk.text) texts.push(chunk.text);
    }
    expect(texts).toEqual(["Checking."]);
    expect(calls).toEqual([{ name: "lookup_order", args: { id: "B-2" } }]);
  });

  it("models.get and models.list describe the known models", async () => {
    const model = await ai.models.get({ model: "gemini-2.5-flash" });
    expect(model.name).toBe("models/gemini-2.5-flash");
    const pager = await ai.models.list();
    const names = [];
    for await (const m of pager) names.push(m.name);
    expect(names).toContain("models/gemini-2.5-pro");
  });

  it("countTokens counts with the chars/4 estimate", async () => {
    const result = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "12345678" });
    expect(result.totalTokens).toBe(2);
    expect(gemini.requests.at(-1)?.path).toBe("/v1beta/models/gemini-2.5-flash:countTokens");
  });

  it("caches: create, get, update, use in generateContent, list, delete", async () => {
    const corpus = longText(1100);
    const cache = await ai.caches.create({
      model: "gemini-2.5-flash",
      config: {
        contents: [{ role: "user", parts: [{ text: corpus }] }],
        systemInstruction: "You answer from the knowledge base.",
        displayName: "kb",
        ttl: "600s",
      },
    });
    expect(cache.name).toMatch(/^cachedContents\/\w+$/);
    expect(cache.model).toBe("models/gemini-2.5-flash");
    expect(cache.displayName).toBe("kb");
    const cachedTokens = Math.ceil((corpus.length + "You answer from the knowledge base.".length) / 4);
    expect(cache.usageMetadata?.totalTokenCount).toBe(cachedTokens);
    const ttlMs = Date.parse(cache.expireTime ?? "") - Date.parse(cache.createTime ?? "");
    expect(ttlMs).toBeGreaterThanOrEqual(599_000);
    expect(ttlMs).toBeLessThanOrEqual(601_000);
    expect(gemini.cachedContents.has(cache.name ?? "")).toBe(true);

    const got = await ai.caches.get({ name: cache.name ?? "" });
    expect(got.name).toBe(cache.name);
    const updated = await ai.caches.update({ name: cache.name ?? "", config: { ttl: "7200s" } });
    expect(Date.parse(updated.expireTime ?? "")).toBeGreaterThan(Date.parse(cache.expireTime ?? ""));
    expect(gemini.requests.at(-1)?.method).toBe("PATCH");

    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "What is the refund policy?",
      config: { cachedContent: cache.name },
    });
    expect(response.usageMetadata?.cachedContentTokenCount).toBe(cachedTokens);
    expect(response.usageMetadata?.promptTokenCount).toBe(
      cachedTokens + Math.ceil("What is the refund policy?".length / 4),
    );
    expect(gemini.requests.at(-1)?.body).toMatchObject({ cachedContent: cache.name });

    const pager = await ai.caches.list();
    const names = [];
    for await (const c of pager) names.push(c.name);
    expect(names).toEqual([cache.name]);

    await ai.caches.delete({ name: cache.name ?? "" });
    expect(gemini.cachedContents.size).toBe(0);
    const gone = await apiError(ai.caches.get({ name: cache.name ?? "" }));
    expect(gone.status).toBe(403);
  });

  it("caches: too small, wrong model, and systemInstruction next to a cache are rejected like the real API", async () => {
    const small = await apiError(
      ai.caches.create({ model: "gemini-2.5-flash", config: { contents: "too short to be cached" } }),
    );
    expect(small.status).toBe(400);
    expect(small.message).toContain("Cached content is too small");
    const pro = await apiError(
      ai.caches.create({ model: "gemini-2.5-pro", config: { contents: longText(2000) } }),
    );
    expect(pro.message).toContain("min_total_token_count=4096");

    const cache = await ai.caches.create({ model: "gemini-2.5-flash", config: { contents: longText(1100) } });
    const wrongModel = await apiError(
      ai.models.generateContent({
        model: "gemini-2.5-pro",
        contents: "q",
        config: { cachedContent: cache.name },
      }),
    );
    expect(wrongModel.status).toBe(400);
    const withSystem = await apiError(
      ai.models.generateContent({
        model: "gemini-2.5-flash",
        contents: "q",
        config: { cachedContent: cache.name, systemInstruction: "nope" },
      }),
    );
    expect(withSystem.status).toBe(400);
    expect(withSystem.message).toContain("CachedContent can not be used");
  });

  it("each injected error surfaces as ApiError with the right status", async () => {
    const expected: Record<number, string> = {
      400: "INVALID_ARGUMENT",
      403: "PERMISSION_DENIED",
      404: "NOT_FOUND",
      429: "RESOURCE_EXHAUSTED",
      500: "INTERNAL",
      503: "UNAVAILABLE",
      504: "DEADLINE_EXCEEDED",
    };
    for (const status of [400, 403, 404, 429, 500, 503, 504] as const) {
      gemini.enqueue({ kind: "error", status });
      const error = await apiError(ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }));
      expect(error.status).toBe(status);
      const body = JSON.parse(error.message) as { error: { code: number; status: string } };
      expect(body.error.code).toBe(status);
      expect(body.error.status).toBe(expected[status]);
    }
  });

  it("a 429 carries RetryInfo in the body the SDK puts in ApiError.message", async () => {
    gemini.enqueue({ kind: "error", status: 429, retryDelaySeconds: 12 });
    const error = await apiError(
      ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "x" }),
    );
    expect(error.status).toBe(429);
    const body = JSON.parse(error.message) as {
      error: { details: { "@type": string; retryDelay?: string }[] };
    };
    const retry = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.RetryInfo");
    expect(retry?.retryDelay).toBe("12s");
  });

  it("the SDK retries a 503 only when httpOptions.retryOptions is set", async () => {
    gemini.enqueue({ kind: "error", status: 503 }, { kind: "text", text: "second try" });
    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "x",
      config: { httpOptions: { retryOptions: { attempts: 2, initialDelay: 0.01, maxDelay: 0.02 } } },
    });
    expect(response.text).toBe("second try");
    expect(gemini.requests).toHaveLength(2);

    gemini.enqueue({ kind: "error", status: 503 }, { kind: "text", text: "never reached" });
    const error = await apiError(ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }));
    expect(error.status).toBe(503);
    expect(gemini.requests).toHaveLength(3);
  });

  it("a wrong API key and an unknown model answer like the real API", async () => {
    const wrong = new GoogleGenAI({ apiKey: "not-the-key", httpOptions: { baseUrl: gemini.url } });
    const keyError = await apiError(
      wrong.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }),
    );
    expect(keyError.status).toBe(400);
    expect(keyError.message).toContain("API_KEY_INVALID");

    const missing = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: "POST",
      body: "{}",
    });
    expect(missing.status).toBe(403);

    const model = await apiError(ai.models.generateContent({ model: "gemini-0-nope", contents: "x" }));
    expect(model.status).toBe(404);
    expect(model.message).toContain("models/gemini-0-nope is not found");
  });

  it("a stream that breaks mid-way yields the first chunks then throws", async () => {
    gemini.enqueue({ kind: "stream-error", afterChunks: 2, text: "partial answer here" });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "x" });
    const texts: string[] = [];
    const error = await apiError(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.text ?? "");
      })(),
    );
    expect(texts.join("")).toBe("partial answer here");
    expect(texts).toHaveLength(2);
    expect(error.status).toBe(500);

    gemini.enqueue({ kind: "stream-error", afterChunks: 1, text: "cut", mode: "disconnect" });
    const cut = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "x" });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of cut) seen.push(chunk.text ?? "");
      })(),
    ).rejects.toThrow("terminated"); // undici's TypeError, not an ApiError
    expect(seen).toEqual(["cut"]);
  });

  it("hang makes a client timeout fire; latencyMs delays the answer", async () => {
    gemini.enqueue({ kind: "hang", ms: 5_000 });
    const started = Date.now();
    await expect(
      ai.models.generateContent({
        model: "gemini-2.5-flash",
        contents: "x",
        config: { httpOptions: { timeout: 200 } },
      }),
    ).rejects.toMatchObject({ name: "AbortError" }); // a DOMException, not an ApiError
    expect(Date.now() - started).toBeLessThan(3_000);

    gemini.latencyMs = 150;
    const t0 = Date.now();
    await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("close() returns even with a hanging request in flight", async () => {
    const local = await startGeminiEmulator();
    local.enqueue({ kind: "hang", ms: 60_000 });
    const client = new GoogleGenAI({ apiKey: local.apiKey, httpOptions: { baseUrl: local.url } });
    const pending = client.models
      .generateContent({ model: "gemini-2.5-flash", contents: "x" })
      .catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await local.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
