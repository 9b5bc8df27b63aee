import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bearer, eventually, raw, startTestService, type TestService, testDatabase } from "./helpers";

let svc: TestService;
let drop: () => Promise<void>;
const ADMIN_API_KEY = "chat-test-admin-key-0123456789";

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, {
    GOOGLE_CLOUD_PROJECT: "demo-project",
    BODY_LIMIT_BYTES: "2048",
    MESSAGE_MAX_CHARS: "500",
    JWT_SECRET: "user-jwt-secret-0123456789abcdef0123456789",
    JWT_ISSUER: "https://auth.example.com",
    ADMIN_API_KEY,
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

async function json(res: Response) {
  return (await res.json()) as Record<string, any>;
}

async function count(table: string) {
  const rows = await raw(svc.db).unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
  return rows[0]?.n ?? 0;
}

describe("chat on the offline knowledge base", () => {
  test("a first message gets a knowledge-base answer, a session id and a session token", async () => {
    const res = await svc.post("/api/v1/chat", { message: "How do I reset my password?" });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.reply).toContain("Forgot password");
    expect(body.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.sessionToken).toEqual(expect.any(String));
    expect(body.model).toBe("local");
    expect(body.usage).toEqual({
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
      cachedTokens: 0,
      thoughtsTokens: 0,
      costUsd: 0,
    });
  });

  test("the session continues with its token, and its history is stored redacted", async () => {
    const first = await json(
      await svc.post("/api/v1/chat", { message: "How can I get a refund? I'm jo@example.com" }),
    );
    const auth = bearer(first.sessionToken);
    const second = await svc.post(
      "/api/v1/chat",
      { message: "And what about failed payments?", sessionId: first.sessionId },
      auth,
    );
    expect(second.status).toBe(200);
    const body2 = await json(second);
    expect(body2.sessionId).toBe(first.sessionId);
    expect(body2.sessionToken).toBeUndefined();
    expect(body2.reply).toContain("retry");

    const history = await json(await svc.get(`/api/v1/sessions/${first.sessionId}/messages`, auth));
    expect(history.messages.map((m: { role: string }) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    expect(history.messages[0].content).toBe("How can I get a refund? I'm [EMAIL]");
    expect(JSON.stringify(history)).not.toContain("jo@example.com");
  });

  test("history stays in order when message ids cross a digit boundary (99 → 100)", async () => {
    await raw(svc.db)`select setval(pg_get_serial_sequence('messages', 'id'), 95)`;
    const first = await json(
      await svc.post("/api/v1/chat", { message: "Turn 1: how do I reset my password?" }),
    );
    const auth = bearer(first.sessionToken);
    for (let turn = 2; turn <= 4; turn++) {
      await svc.post(
        "/api/v1/chat",
        { message: `Turn ${turn}: what about invoices?`, sessionId: first.sessionId },
        auth,
      );
    }
    const history = await json(await svc.get(`/api/v1/sessions/${first.sessionId}/messages`, auth));
    const users = history.messages
      .filter((m: { role: string }) => m.role === "user")
      .map((m: { content: string }) => m.content.slice(0, 6));
    expect(users).toEqual(["Turn 1", "Turn 2", "Turn 3", "Turn 4"]);
    const ids = history.messages.map((m: { id: string }) => Number(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.some((id: number) => id < 100) && ids.some((id: number) => id >= 100)).toBe(true);
    // Paging with `before` walks back in order too.
    const page = await json(await svc.get(`/api/v1/sessions/${first.sessionId}/messages?limit=3`, auth));
    const older = await json(
      await svc.get(`/api/v1/sessions/${first.sessionId}/messages?limit=3&before=${page.nextBefore}`, auth),
    );
    expect([...older.messages, ...page.messages].map((m: { id: string }) => m.id)).toEqual(
      history.messages.slice(-6).map((m: { id: string }) => m.id),
    );
  });

  test("a question the knowledge base does not cover gets a plain 'no answer'", async () => {
    const body = await json(await svc.post("/api/v1/chat", { message: "Qwertyuiop zxcvbnm?" }));
    expect(body.reply).toMatch(/don't have an answer/);
  });

  test("a session belongs to its identity: anyone else gets 404 and nothing is stored", async () => {
    const owner = await json(await svc.post("/api/v1/chat", { message: "How do I invite my team?" }));
    const stranger = await json(
      await svc.post("/api/v1/chat", { message: "Hello there, what plans exist?" }),
    );
    const before = await count("messages");

    const asStranger = bearer(stranger.sessionToken);
    const post = await svc.post("/api/v1/chat", { message: "hi", sessionId: owner.sessionId }, asStranger);
    expect(post.status).toBe(404);
    expect((await json(post)).error.code).toBe("not_found");
    expect((await svc.get(`/api/v1/sessions/${owner.sessionId}/messages`, asStranger)).status).toBe(404);
    expect((await svc.post("/api/v1/chat", { message: "hi", sessionId: owner.sessionId })).status).toBe(404);
    expect((await svc.get(`/api/v1/sessions/${owner.sessionId}/messages`)).status).toBe(404);
    expect(await count("messages")).toBe(before);
  });

  test("a forged session token is refused with 401", async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("switchboard")
      .setAudience("switchboard-session")
      .setSubject("anon:someone-else")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-service-signing-key-0123456789"));
    const res = await svc.post("/api/v1/chat", { message: "hi" }, bearer(forged));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("invalid_token");
    expect((await json(res)).error.code).toBe("invalid_token");
  });

  test("a user JWT identifies the user and their tier", async () => {
    const token = await new SignJWT({ tier: "premium" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://auth.example.com")
      .setSubject("u_42")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("user-jwt-secret-0123456789abcdef0123456789"));
    const res = await svc.post("/api/v1/chat", { message: "How do I export my data?" }, bearer(token));
    const body = await json(res);
    expect(res.status).toBe(200);
    expect(body.sessionToken).toBeUndefined();
    // Premium: 200,000 a day, minus this turn.
    expect(body.budget.remaining).toBeGreaterThan(190_000);
    const [session] = await raw(svc.db)`select identity_id from sessions where id = ${body.sessionId}`;
    // Namespaced by the token's issuer (issue 10): another issuer's "u_42" is someone else.
    expect(session?.identityId).toBe("user:https://auth.example.com#u_42");
  });
});

describe("streaming", () => {
  test("SSE: deltas as they come, then a done event with the same fields as the JSON reply", async () => {
    const res = await svc.post(
      "/api/v1/chat",
      { message: "How do I turn on two-factor authentication?" },
      { accept: "text/event-stream" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter(Boolean)
      .map((block) => ({
        event: /^event: (.+)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? "null"),
      }));
    const deltas = events.filter((e) => e.event === "delta");
    const done = events.at(-1);
    expect(deltas.length).toBeGreaterThan(3);
    expect(done?.event).toBe("done");
    expect(deltas.map((d) => d.data.text).join("")).toBe(done?.data.reply);
    expect(done?.data).toMatchObject({
      sessionId: expect.any(String),
      model: "local",
      sessionToken: expect.any(String),
    });
  });
});

describe("bad input gets a clear 4xx and changes nothing", () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ["missing message", () => svc.post("/api/v1/chat", {}), 400, "validation_failed"],
    ["empty message", () => svc.post("/api/v1/chat", { message: "   " }), 400, "validation_failed"],
    ["message of the wrong type", () => svc.post("/api/v1/chat", { message: 42 }), 400, "validation_failed"],
    [
      "message too long",
      () => svc.post("/api/v1/chat", { message: "x".repeat(501) }),
      400,
      "validation_failed",
    ],
    [
      "session id that is not a uuid",
      () => svc.post("/api/v1/chat", { message: "hi", sessionId: "abc" }),
      400,
      "validation_failed",
    ],
    ["truncated JSON", () => svc.post("/api/v1/chat", '{"message": "hi'), 400, "invalid_json"],
    [
      "wrong content type",
      () =>
        fetch(`${svc.url}/api/v1/chat`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: "hi",
        }),
      415,
      "unsupported_media_type",
    ],
    [
      "body over the limit",
      () => svc.post("/api/v1/chat", { message: "x".repeat(4000) }),
      413,
      "payload_too_large",
    ],
    [
      "malformed authorization",
      () => svc.post("/api/v1/chat", { message: "hi" }, { authorization: "Basic abc" }),
      401,
      "invalid_token",
    ],
    ["unknown route", () => svc.get("/api/v1/nope"), 404, "not_found"],
    [
      "bad history page",
      () => svc.get(`/api/v1/sessions/${crypto.randomUUID()}/messages?limit=0`),
      400,
      "validation_failed",
    ],
  ];

  test.each(cases)("%s", async (_name, send, status, code) => {
    const before = { messages: await count("messages"), sessions: await count("sessions") };
    const res = await send();
    expect(res.status).toBe(status);
    const body = await json(res);
    expect(body.error).toEqual({
      code,
      message: expect.any(String),
      requestId: res.headers.get("x-request-id"),
      ...(body.error.details ? { details: expect.anything() } : {}),
    });
    expect(JSON.stringify(body)).not.toMatch(/at .+\.ts:\d+/);
    expect({ messages: await count("messages"), sessions: await count("sessions") }).toEqual(before);
  });

  test("validation errors name the offending fields", async () => {
    const body = await json(await svc.post("/api/v1/chat", { message: 1, sessionId: "x" }));
    expect(body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      "message",
      "sessionId",
    ]);
  });

  test("NUL and control characters are stripped, not stored or rejected with a 500", async () => {
    const res = await svc.post("/api/v1/chat", { message: "How do I\u0000 reset my password?\u0007" });
    expect(res.status).toBe(200);
  });
});

describe("operations surface", () => {
  test("liveness and readiness", async () => {
    expect(await json(await svc.get("/healthz"))).toEqual({ status: "ok" });
    // The details are for operators (the public sees the status and version only: test/service/health.test.ts).
    const health = await json(await svc.get("/api/v1/health", bearer(ADMIN_API_KEY)));
    expect(health).toMatchObject({
      status: "healthy",
      database: { status: "up" },
      modelProvider: { name: "local", circuit: "closed" },
      integrations: { gemini: false, userJwt: true },
    });
    expect(health.knowledgeBase.chunks).toBeGreaterThan(10);
  });

  test("OpenAPI document generated from the route schemas", async () => {
    const doc = await json(await svc.get("/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/chat",
        "/api/v1/sessions/{id}/messages",
        "/api/v1/health",
        "/healthz",
      ]),
    );
    expect(doc.components.schemas.ChatRequest.required).toContain("message");
  });

  test("one structured request line per request, with the trace, and no PII or token in any line", async () => {
    const trace = "105445aa7843bc8bf206b12000100000";
    const res = await svc.post(
      "/api/v1/chat",
      { message: "My card 4111 1111 1111 1111 and mail zed@example.org, how do refunds work?" },
      { "x-cloud-trace-context": `${trace}/1;o=1`, "x-request-id": "req-test-12345" },
    );
    const { sessionToken } = await json(res);
    const line = svc.logs.lines.find(
      (l) =>
        l.requestId === "req-test-12345" &&
        (l.httpRequest as { requestUrl?: string } | undefined)?.requestUrl === "/api/v1/chat",
    );
    expect(line).toMatchObject({
      severity: "INFO",
      message: "POST /api/v1/chat 200",
      httpRequest: { requestMethod: "POST", status: 200, latency: expect.stringMatching(/^\d+\.\d{3}s$/) },
      "logging.googleapis.com/trace": `projects/demo-project/traces/${trace}`,
    });
    const all = svc.logs.raw.join("\n");
    expect(all).not.toContain("zed@example.org");
    // The card as written (a bare "4111" also turns up inside random session ids now and then).
    expect(all).not.toMatch(/4111[ -]?1111/);
    expect(all).not.toContain(sessionToken);
    expect(all).not.toContain("test-session-signing-key");
  });

  test("a turn writes two lines: model.usage, and the request line carrying conversation.processed (JSON and SSE)", async () => {
    for (const accept of ["application/json", "text/event-stream"]) {
      const before = svc.logs.lines.length;
      const res = await svc.post("/api/v1/chat", { message: "How do refunds work?" }, { accept });
      expect(res.status).toBe(200);
      await res.text();
      // The SSE request line follows the end of the stream, just after the last byte.
      const lines = await eventually(
        () => svc.logs.lines.slice(before),
        (l) => l.some((line) => line.httpRequest),
        2000,
      );
      expect(lines.map((l) => l.event)).toEqual(["model.usage", "conversation.processed"]);
      expect(lines[1]).toMatchObject({
        message: "POST /api/v1/chat 200",
        channel: "web",
        outcome: "answered",
        routing: "default",
        model: "local",
        durationMs: expect.any(Number),
        httpRequest: { requestMethod: "POST", requestUrl: "/api/v1/chat", status: 200 },
      });
    }
  });
});
