import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { DomainError } from "../../service/src/domain/errors";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
import { CircuitBreaker, CircuitOpenError, withRetry } from "../../service/src/engine/resilience";
import { httpErrorOf } from "../../service/src/http/error-handler";
import { AppError } from "../../service/src/http/errors";
import { ModelError } from "../../service/src/ports/model-provider";
import { bearer, raw, startTestService, type TestService, testDatabase } from "./helpers";

const JWT_SECRET = "limits-test-jwt-secret-0123456789abcdef";

describe("limits shared through the database", () => {
  let a: TestService;
  let b: TestService;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const t = await testDatabase();
    drop = t.drop;
    const env = {
      RATE_LIMIT_USER_PER_MINUTE: "3",
      JWT_SECRET,
      // Small enough that one answer spends the daily guest budget.
      BUDGETS: JSON.stringify({
        guest: { daily: 150, monthly: null },
        free: { daily: 50_000, monthly: 500_000 },
        premium: { daily: 200_000, monthly: 3_000_000 },
        enterprise: { daily: null, monthly: null },
      }),
    };
    // Two instances of the service on one database, as Cloud Run runs them.
    a = await startTestService(t.db, env);
    b = await startTestService(t.db, env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  test("the per-user rate limit holds across two instances", async () => {
    // An unlimited tier, so only the rate limit can refuse.
    const token = await new SignJWT({ tier: "enterprise" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("rate-limited-user")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(JWT_SECRET));
    const auth = bearer(token);
    expect((await b.post("/api/v1/chat", { message: "How do I invite my team?" }, auth)).status).toBe(200);
    expect((await a.post("/api/v1/chat", { message: "What roles exist?" }, auth)).status).toBe(200);
    expect((await b.post("/api/v1/chat", { message: "What about guests?" }, auth)).status).toBe(200);
    const limited = await a.post("/api/v1/chat", { message: "And admins?" }, auth);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await limited.json()) as {
      error: { code: string; details: { retryAfterSeconds: number } };
    };
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.details.retryAfterSeconds).toBe(retryAfter);
  });

  test("over budget: 429 budget_exceeded with the reset time, and the model is not called", async () => {
    const first = await a.post("/api/v1/chat", { message: "How do I reset my password?" });
    expect(first.status).toBe(200);
    const { sessionToken, usage } = (await first.json()) as {
      sessionToken: string;
      usage: { inputTokens: number };
    };
    expect(usage.inputTokens).toBeGreaterThan(0);
    const ledgerBefore = await raw(a.db)`select count(*)::int as n from usage_ledger`;

    const refused = await a.post("/api/v1/chat", { message: "And two-factor?" }, bearer(sessionToken));
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as {
      error: { code: string; details: { resetAt: string; period: string } };
    };
    expect(body.error.code).toBe("budget_exceeded");
    expect(body.error.details.period).toBe("day");
    const reset = new Date(body.error.details.resetAt);
    expect(reset.getUTCHours()).toBe(0);
    expect(reset.getTime()).toBeGreaterThan(Date.now());
    const ledgerAfter = await raw(a.db)`select count(*)::int as n from usage_ledger`;
    expect(ledgerAfter[0]?.n).toBe(ledgerBefore[0]?.n);
  });
});

/** The limiter speaks domain errors; these tests read its refusals as the HTTP edge answers them. */
const atHttpEdge = (error: unknown) => (error instanceof DomainError ? httpErrorOf(error) : error);

describe("model call limiter (per instance)", () => {
  test("queues briefly, then answers 503 with Retry-After", async () => {
    const limiter = new ModelCallLimiter({
      requestsPerMinute: 60,
      tokensPerMinute: 1_000_000,
      queueTimeoutMs: 1500,
    });
    await limiter.acquire(10); // the bucket holds 60 requests: drain it
    for (let i = 0; i < 59; i++) await limiter.acquire(10);
    // One request per second refills: the next waits about a second, within the queue timeout.
    await expect(limiter.acquire(10)).resolves.toBeUndefined();
    // Two more would need about two seconds: refused at once.
    const queued = limiter.acquire(10);
    const refused = limiter.acquire(10).catch((e: unknown) => atHttpEdge(e));
    const error = await refused;
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(503);
    expect((error as AppError).extra.headers?.["Retry-After"]).toMatch(/^\d+$/);
    await queued;
  });

  test("a call larger than the token bucket is refused, not queued forever", async () => {
    const limiter = new ModelCallLimiter({
      requestsPerMinute: 100,
      tokensPerMinute: 1000,
      queueTimeoutMs: 100,
    });
    await limiter.acquire(1000);
    await expect(
      limiter.acquire(500).catch((e: unknown) => Promise.reject(atHttpEdge(e))),
    ).rejects.toMatchObject({ status: 503, code: "model_capacity" });
  });
});

describe("retries and the circuit breaker", () => {
  const busy = (retryAfterMs?: number) =>
    new ModelError("busy", { status: 429, retryable: true, retryAfterMs, upstream: "gemini" });

  test("exponential backoff with jitter, never sooner than the upstream's RetryInfo", async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw busy();
        if (calls === 2) throw busy(2000);
        return "ok";
      },
      {
        maxRetries: 3,
        baseDelayMs: 100,
        maxDelayMs: 5000,
        random: () => 1,
        sleep: async (ms) => void delays.push(ms),
      },
    );
    expect(result).toBe("ok");
    expect(delays).toEqual([100, 2000]);
  });

  test("a wait longer than the limit, a non-retryable error, or spent retries end at once", async () => {
    const sleep = vi.fn(async () => {});
    const opts = { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 10_000, sleep };
    await expect(withRetry(() => Promise.reject(busy(58_000)), opts)).rejects.toMatchObject({ status: 429 });
    await expect(
      withRetry(
        () => Promise.reject(new ModelError("bad", { status: 400, retryable: false, upstream: "gemini" })),
        opts,
      ),
    ).rejects.toMatchObject({ status: 400 });
    expect(sleep).not.toHaveBeenCalled();
    let calls = 0;
    await expect(
      withRetry(() => {
        calls++;
        return Promise.reject(busy());
      }, opts),
    ).rejects.toBeInstanceOf(ModelError);
    expect(calls).toBe(3);
  });

  test("opens after consecutive upstream failures, fails fast, and closes after a good trial", async () => {
    let now = 0;
    const breaker = new CircuitBreaker("gemini", 3, 30_000, () => now);
    const fail = () => breaker.exec(() => Promise.reject(busy()));
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toBeInstanceOf(ModelError);
    expect(breaker.state).toBe("open");
    const upstream = vi.fn(async () => "ok");
    await expect(breaker.exec(upstream)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(upstream).not.toHaveBeenCalled();
    now += 30_000;
    expect(breaker.state).toBe("half-open");
    await expect(breaker.exec(upstream)).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
  });

  test("a client error (400) does not count against the upstream", async () => {
    const breaker = new CircuitBreaker("gemini", 1, 30_000);
    await expect(
      breaker.exec(() =>
        Promise.reject(new ModelError("bad", { status: 400, retryable: false, upstream: "gemini" })),
      ),
    ).rejects.toBeInstanceOf(ModelError);
    expect(breaker.state).toBe("closed");
  });
});
