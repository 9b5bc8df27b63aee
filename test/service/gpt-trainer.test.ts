import { afterAll, beforeAll, expect, test } from "vitest";
import { type GptTrainerEmulator, startGptTrainerEmulator } from "../emulators/gpt-trainer";
import { bearer, startTestService, type TestService, testDatabase } from "./helpers";

let gpt: GptTrainerEmulator;
let svc: TestService;
let drop: () => Promise<void>;

beforeAll(async () => {
  gpt = await startGptTrainerEmulator();
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, {
    MODEL_PROVIDER: "gpt-trainer",
    GPT_TRAINER_API_KEY: gpt.apiKey,
    CHATBOT_UUID: gpt.chatbotUuid,
    GPT_TRAINER_API_BASE: gpt.url,
    MODEL_RETRY_BASE_MS: "10",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await gpt?.close();
});

test("one GPT-trainer session per conversation, continued across turns; the newest message only", async () => {
  const first = (await (await svc.post("/api/v1/chat", { message: "Hello, I'm jo@example.com" })).json()) as {
    sessionId: string;
    sessionToken: string;
    reply: string;
    model: string;
  };
  expect(first.reply).toBe("GPT-trainer answer #1 to: Hello, I'm [EMAIL]");
  expect(first.model).toBe("gpt-trainer");
  const second = (await (
    await svc.post(
      "/api/v1/chat",
      { message: "And refunds?", sessionId: first.sessionId },
      bearer(first.sessionToken),
    )
  ).json()) as { reply: string };
  expect(second.reply).toBe("GPT-trainer answer #2 to: And refunds?");
  const other = (await (await svc.post("/api/v1/chat", { message: "Another person" })).json()) as {
    reply: string;
  };
  expect(other.reply).toBe("GPT-trainer answer #1 to: Another person");
  expect(gpt.sessions.size).toBe(2);
  expect(gpt.requests.every((r) => r.headers.authorization === `Bearer ${gpt.apiKey}`)).toBe(true);
});

test("streams GPT-trainer's plain-text answer as SSE deltas", async () => {
  gpt.chunkDelayMs = 15;
  const res = await svc.post("/api/v1/chat", { message: "stream it" }, { accept: "text/event-stream" });
  const text = await res.text();
  gpt.chunkDelayMs = 0;
  expect(text.match(/event: delta/g)?.length).toBeGreaterThan(3);
  expect(text).toContain('"reply":"GPT-trainer answer #1 to: stream it"');
});

test("a 503 is retried; when GPT-trainer stays down the user gets the knowledge-base fallback", async () => {
  gpt.failNext(503);
  const retried = (await (await svc.post("/api/v1/chat", { message: "first try fails" })).json()) as {
    outcome: string;
  };
  expect(retried.outcome).toBe("answered");
  gpt.failNext(503, 503, 503);
  const res = await svc.post("/api/v1/chat", { message: "How do I reset my password?" });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { outcome: string; reply: string };
  expect(body.outcome).toBe("fallback");
  expect(body.reply).toContain("Forgot password");
});

test("missing credentials for MODEL_PROVIDER=gpt-trainer are a configuration error", async () => {
  const { parseConfig } = await import("../../service/src/config");
  expect(() => parseConfig({ MODEL_PROVIDER: "gpt-trainer" })).toThrow(
    /GPT_TRAINER_API_KEY.*\n.*CHATBOT_UUID/,
  );
});
