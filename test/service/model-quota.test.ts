import { describe, expect, test } from "vitest";
import type { LeaseQuota, QuotaAsk } from "../../service/src/db/model-quota";
import { ModelCapacity } from "../../service/src/domain/errors";
import { DeploymentModelLimiter } from "../../service/src/engine/model-quota";

/**
 * The lease logic of the deployment's model quota, on a fake clock and a fake lease store that grants as
 * the SQL of db/model-quota.ts does (its statement is exercised by model-quota-service.test.ts).
 */
function fakeDeployment(start = 0) {
  const clock = { now: start };
  const windows = new Map<number, { requests: number; tokens: number }>();
  const asks: QuotaAsk[] = [];
  const grant = (slice: number, limit: number, min: number, used: number) =>
    Math.min(Math.max(slice, min), limit - used, Math.max(min, Math.ceil((limit - used) / 2)));
  const lease: LeaseQuota = async (ask) => {
    asks.push(ask);
    const windowMs = Math.floor(clock.now / 60_000) * 60_000;
    const w = windows.get(windowMs) ?? { requests: 0, tokens: 0 };
    windows.set(windowMs, w);
    const msLeft = windowMs + 60_000 - clock.now;
    const fits = w.requests + 1 <= ask.requestsPerMinute && w.tokens + ask.minTokens <= ask.tokensPerMinute;
    if (!fits) return { requests: 0, tokens: 0, windowMs, msLeft };
    const requests = grant(ask.requests, ask.requestsPerMinute, 1, w.requests);
    const tokens = grant(ask.tokens, ask.tokensPerMinute, ask.minTokens, w.tokens);
    w.requests += requests;
    w.tokens += tokens;
    return { requests, tokens, windowMs, msLeft };
  };
  const instance = (limits: { rpm: number; tpm: number; queueTimeoutMs: number }) =>
    new DeploymentModelLimiter({
      requestsPerMinute: limits.rpm,
      tokensPerMinute: limits.tpm,
      queueTimeoutMs: limits.queueTimeoutMs,
      lease,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
      },
    });
  return { clock, windows, asks, instance };
}

async function outcome(p: Promise<void>): Promise<"ok" | number> {
  try {
    await p;
    return "ok";
  } catch (error) {
    if (error instanceof ModelCapacity) return error.retryAfterSeconds;
    throw error;
  }
}

describe("the deployment's model quota, leased by instances", () => {
  test("two instances together get exactly the deployment's requests per minute", async () => {
    const d = fakeDeployment(12_000);
    const limits = { rpm: 10, tpm: 1_000_000, queueTimeoutMs: 2000 };
    const a = d.instance(limits);
    const b = d.instance(limits);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => [outcome(a.acquire(100)), outcome(b.acquire(100))]).flat(),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    // Refused with the wait until the next window: 48 s (the queue timeout is shorter).
    expect(results.filter((r) => r !== "ok")).toEqual(Array(10).fill(48));
    expect(d.windows.get(0)?.requests).toBe(10);
  });

  test("one statement per slice, not per call; slices double while demand holds, capped", async () => {
    const d = fakeDeployment();
    const limiter = d.instance({ rpm: 1000, tpm: 10_000_000, queueTimeoutMs: 0 });
    for (let i = 0; i < 200; i++) await limiter.acquire(1000);
    // Six statements for 200 calls; 20 unspent requests are lost when the window ends.
    expect(d.asks.map((a) => a.requests)).toEqual([10, 20, 40, 50, 50, 50]);
    expect(d.windows.get(0)?.requests).toBe(220);
  });

  test("a new window starts with half the slice: demand may have gone", async () => {
    const d = fakeDeployment();
    const limiter = d.instance({ rpm: 1000, tpm: 10_000_000, queueTimeoutMs: 0 });
    for (let i = 0; i < 40; i++) await limiter.acquire(1000);
    d.clock.now = 60_000;
    await limiter.acquire(1000);
    expect(d.asks.map((a) => a.requests)).toEqual([10, 20, 40, 20]);
  });

  test("a spent window: wait for the next within the queue timeout, else refuse until it starts", async () => {
    const d = fakeDeployment(58_500);
    const limiter = d.instance({ rpm: 2, tpm: 1_000_000, queueTimeoutMs: 2000 });
    await limiter.acquire(10);
    await limiter.acquire(10);
    // 1.5 s to the next window: within the queue timeout, so the call waits for it.
    await limiter.acquire(10);
    expect(d.clock.now).toBe(60_000);
    expect(d.windows.get(60_000)?.requests).toBe(1);
    await limiter.acquire(10);
    expect(await outcome(limiter.acquire(10))).toBe(60);
  });

  test("tokens: settle refunds within the lease; a call larger than what is left refuses", async () => {
    const d = fakeDeployment();
    const limiter = d.instance({ rpm: 100, tpm: 1000, queueTimeoutMs: 0 });
    await limiter.acquire(400); // the slice is 10 tokens: the call's 400 are leased instead
    limiter.settle(400, 100); // used 100: 300 back in this instance's lease
    await limiter.acquire(300);
    // The second call leased requests (and a doubled slice of 20 tokens); its 300 tokens were local.
    expect(d.asks.map((a) => a.minTokens)).toEqual([400, 0]);
    expect(d.windows.get(0)?.tokens).toBe(400 + 20);
    await limiter.acquire(500); // 20 held: 480 more leased
    // 900 leased of 1000: a call of 200 no longer fits this window.
    expect(await outcome(limiter.acquire(200))).toBe(60);
  });

  test("a call too large for what the window has left does not hold up smaller ones", async () => {
    const d = fakeDeployment();
    const limiter = d.instance({ rpm: 100, tpm: 1000, queueTimeoutMs: 0 });
    await limiter.acquire(900);
    expect(await outcome(limiter.acquire(200))).toBe(60);
    expect(await outcome(limiter.acquire(200))).toBe(60);
    expect(d.asks).toHaveLength(2); // the second refusal asked no one: the window had said so
    await limiter.acquire(50); // a slice of 4 requests by now (it doubled twice), and the 50 tokens
    expect(d.windows.get(0)).toEqual({ requests: 1 + 4, tokens: 900 + 50 });
  });
});
