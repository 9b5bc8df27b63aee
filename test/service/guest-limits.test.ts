import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_BUDGETS } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { limitKey } from "../../service/src/engine/guest-limits";
import { resolveClientAddress } from "../../service/src/middleware/client-address";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { bearer, raw, startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Callers without a user JWT (issue 10, service item 1): an anonymous identity costs nothing to mint, so
 * limits hold per client address, on new sessions per address, and on a daily budget all guests share.
 */

const JWT_SECRET = "guest-limits-jwt-secret-0123456789abcdef";
const QUESTION = { message: "How do I reset my password?" };

interface ErrorJson {
  error: { code: string; message: string; requestId: string; details: Record<string, unknown> };
}

const services: TestService[] = [];
const drops: (() => Promise<void>)[] = [];
const databases = new Map<string, Database>();
/**
 * A service on the database named `db`. Limits are counted per client address, so describes that use
 * addresses of their own share one; the guests' budget is per deployment, so its describe has its own.
 */
async function service(db: string, env: Record<string, string> = {}) {
  let database = databases.get(db);
  if (!database) {
    const t = await testDatabase();
    drops.push(t.drop);
    database = t.db;
    databases.set(db, database);
  }
  const svc = await startTestService(database, { JWT_SECRET, ...env });
  services.push(svc);
  return svc;
}
afterAll(async () => {
  for (const s of services) await s.close();
  for (const drop of drops) await drop();
});

const userToken = (sub: string) =>
  new SignJWT({ tier: "enterprise" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(JWT_SECRET));

/** `count` requests, `concurrency` at a time; the statuses in order. */
async function flood(count: number, send: (i: number) => Promise<Response>, concurrency = 10) {
  const responses: Response[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      responses[i] = await send(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return responses;
}

/** A fixed one-minute window: start a flood early in a minute, so it is counted in one window. */
async function startOfAMinute(seconds = 10) {
  const into = Date.now() % 60_000;
  if (into > (60 - seconds) * 1000) await new Promise((r) => setTimeout(r, 60_000 - into + 50));
}

async function expectRefusal(res: Response, code: string) {
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toContain("application/json");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  const body = (await res.json()) as ErrorJson;
  expect(body.error).toMatchObject({ code, requestId: expect.any(String), message: expect.any(String) });
  expect(body.error.details.retryAfterSeconds).toBe(retryAfter);
  return body.error;
}

const ledgerRows = async (svc: TestService) =>
  (await raw(svc.db)<{ n: number }[]>`select count(*)::int as n from usage_ledger`)[0]?.n ?? 0;

describe("150 tokenless requests from one client within a minute (default settings)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await service("limits");
  });

  test("the per-client limit holds: RATE_LIMIT_CLIENT_PER_MINUTE answered, the rest 429 before the model", async () => {
    const limit = svc.config.RATE_LIMIT_CLIENT_PER_MINUTE;
    await startOfAMinute();
    const responses = await flood(150, () => svc.post("/api/v1/chat", QUESTION));
    const ok = responses.filter((r) => r.status === 200).length;
    const limited = responses.filter((r) => r.status === 429);
    console.log(`tokenless flood, one client: ${ok} × 200, ${limited.length} × 429 of 150`);
    expect(ok).toBe(limit);
    expect(limited).toHaveLength(150 - limit);
    const error = await expectRefusal(limited[0] as Response, "rate_limited");
    expect(error.details).toMatchObject({ limit: "client", limitPerMinute: limit });
    for (const r of responses) if (!r.bodyUsed) await r.body?.cancel();
    // Only the answered turns reached the model.
    expect(await ledgerRows(svc)).toBe(limit);

    // Still in the same minute: a stream is refused the same way, as JSON before any reply byte; a refusal
    // hands out no session token; a signed-in user from the same address is no guest and goes on.
    await expectRefusal(
      await svc.post("/api/v1/chat", QUESTION, { accept: "text/event-stream" }),
      "rate_limited",
    );
    const { sessionToken } = (await (await svc.post("/api/v1/chat", QUESTION)).json()) as {
      sessionToken?: string;
    };
    expect(sessionToken).toBeUndefined();
    expect((await svc.post("/api/v1/chat", QUESTION, bearer(await userToken("someone")))).status).toBe(200);
  });
});

describe("behind one trusted proxy (TRUSTED_PROXY_HOPS=1, as on Cloud Run)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await service("limits", {
      TRUSTED_PROXY_HOPS: "1",
      RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "1000",
      // One guest's long session would spend its own daily budget first: only the address may refuse here.
      BUDGETS: JSON.stringify({ ...DEFAULT_BUDGETS, guest: { daily: null, monthly: null } }),
    });
  });
  /** What Cloud Run passes on: whatever the client sent, then the address it saw. */
  const via = (clientSent: string | undefined, seenByProxy: string) => ({
    "x-forwarded-for": clientSent === undefined ? seenByProxy : `${clientSent}, ${seenByProxy}`,
  });

  test("150 requests, each with a different forged X-Forwarded-For prefix, are still limited", async () => {
    const limit = svc.config.RATE_LIMIT_CLIENT_PER_MINUTE;
    await startOfAMinute();
    const responses = await flood(150, (i) =>
      svc.post("/api/v1/chat", QUESTION, via(`10.${i}.0.1, 192.0.2.${i % 250}`, "198.51.100.7")),
    );
    const ok = responses.filter((r) => r.status === 200).length;
    console.log(`forged X-Forwarded-For flood: ${ok} × 200 of 150`);
    expect(ok).toBe(limit);
    // The access log names the address the proxy saw, not what the client wrote.
    const logged = svc.logs.lines
      .map((l) => (l.httpRequest as { remoteIp?: string } | undefined)?.remoteIp)
      .filter((ip) => ip !== undefined);
    expect(new Set(logged)).toEqual(new Set(["198.51.100.7"]));
    for (const r of responses) if (!r.bodyUsed) await r.body?.cancel();
    // Another client behind the same proxy is not affected.
    expect((await svc.post("/api/v1/chat", QUESTION, via(undefined, "198.51.100.8"))).status).toBe(200);
  });

  test("a guest continuing with a session token counts against its address too", async () => {
    await startOfAMinute();
    const client = via("1.2.3.4", "203.0.113.20");
    const first = await svc.post("/api/v1/chat", QUESTION, client);
    const { sessionToken, sessionId } = (await first.json()) as { sessionToken: string; sessionId: string };
    const limit = svc.config.RATE_LIMIT_CLIENT_PER_MINUTE;
    const responses = await flood(limit, () =>
      svc.post("/api/v1/chat", { ...QUESTION, sessionId }, { ...client, ...bearer(sessionToken) }),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(limit - 1);
    const refused = responses.find((r) => r.status === 429) as Response;
    expect((await expectRefusal(refused, "rate_limited")).details.limit).toBe("client");
  });

  test("an IPv6 client cannot rotate through the addresses of its /64", async () => {
    const limit = svc.config.RATE_LIMIT_CLIENT_PER_MINUTE;
    await startOfAMinute();
    const responses = await flood(limit + 10, (i) =>
      svc.post("/api/v1/chat", QUESTION, via(undefined, `2001:db8:aa:bb::${(i + 1).toString(16)}`)),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(limit);
    for (const r of responses) if (!r.bodyUsed) await r.body?.cancel();
  });
});

describe("where the client address comes from", () => {
  test.each([
    ["no proxy: the socket, whatever the header says", "6.6.6.6", 0, "10.0.0.1"],
    ["Cloud Run: the last entry", "6.6.6.6, 7.7.7.7, 203.0.113.9", 1, "203.0.113.9"],
    ["load balancer + Cloud Run: the second-to-last", "6.6.6.6, 203.0.113.9, 34.1.2.3", 2, "203.0.113.9"],
    ["fewer entries than hops: the socket", "203.0.113.9", 2, "10.0.0.1"],
    ["no header: the socket", undefined, 1, "10.0.0.1"],
    ["not an address: the socket", "6.6.6.6, evil", 1, "10.0.0.1"],
    ["IPv6 in brackets with a port", "[2001:DB8::1]:443", 1, "2001:db8::1"],
    ["IPv4 with a port", "203.0.113.9:5000", 1, "203.0.113.9"],
    ["IPv4-mapped IPv6", "::ffff:203.0.113.9", 1, "203.0.113.9"],
  ])("%s", (_name, header, hops, expected) => {
    expect(resolveClientAddress(header, "10.0.0.1", hops)).toBe(expected);
  });

  test("limits count IPv4 per address and IPv6 per /64", () => {
    expect(limitKey("203.0.113.9")).toBe("203.0.113.9");
    expect(limitKey("2001:db8:aa:bb::1")).toBe("2001:db8:aa:bb::/64");
    expect(limitKey("2001:0db8:00aa:00bb:ffff:1:2:3")).toBe("2001:db8:aa:bb::/64");
    expect(limitKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("new anonymous sessions per client address per hour", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await service("limits", { TRUSTED_PROXY_HOPS: "1", RATE_LIMIT_GUEST_SESSIONS_PER_HOUR: "3" });
  });

  test("a fourth session token in the hour is refused; the sessions already handed out go on", async () => {
    const client = { "x-forwarded-for": "198.51.100.30" };
    const firsts = [];
    for (let i = 0; i < 3; i++) {
      const res = await svc.post("/api/v1/chat", QUESTION, client);
      expect(res.status).toBe(200);
      firsts.push((await res.json()) as { sessionToken: string; sessionId: string });
    }
    const fourth = await svc.post("/api/v1/chat", QUESTION, client);
    const error = await expectRefusal(fourth, "too_many_sessions");
    expect(error.details).toMatchObject({ limit: "guest_sessions", limitPerHour: 3 });
    expect(Number(fourth.headers.get("retry-after"))).toBeLessThanOrEqual(3600);

    const [first] = firsts;
    const again = await svc.post(
      "/api/v1/chat",
      { message: "And two-factor?", sessionId: first?.sessionId },
      { ...client, ...bearer(first?.sessionToken ?? "") },
    );
    expect(again.status).toBe(200);
    // Another address still gets a session.
    const other = await svc.post("/api/v1/chat", QUESTION, { "x-forwarded-for": "198.51.100.31" });
    expect(other.status).toBe(200);
  });
});

describe("a daily token budget shared by every anonymous caller", () => {
  let svc: TestService;
  const BUDGET = 600;
  beforeAll(async () => {
    svc = await service("budget", {
      TRUSTED_PROXY_HOPS: "1",
      GUEST_BUDGET_DAILY_TOKENS: String(BUDGET),
      BUDGET_WARN_RATIO: "0.5",
    });
  });

  test("guests from many addresses use it up; then 429 guest_budget_exceeded before the model, users unaffected", async () => {
    let used = 0;
    let i = 0;
    // Each turn from a new address and a new identity: only the shared budget can refuse.
    while (used < BUDGET && i < 20) {
      const res = await svc.post("/api/v1/chat", QUESTION, { "x-forwarded-for": `198.51.100.${++i}` });
      expect(res.status).toBe(200);
      const { usage } = (await res.json()) as { usage: { inputTokens: number; outputTokens: number } };
      used += usage.inputTokens + usage.outputTokens;
    }
    expect(used).toBeGreaterThanOrEqual(BUDGET);
    const ledgerBefore = await ledgerRows(svc);

    const refused = await svc.post("/api/v1/chat", QUESTION, {
      "x-forwarded-for": "198.51.100.200",
      accept: "text/event-stream",
    });
    const error = await expectRefusal(refused, "guest_budget_exceeded");
    const reset = new Date(error.details.resetAt as string);
    expect(reset.getUTCHours()).toBe(0);
    expect(reset.getTime()).toBeGreaterThan(Date.now());
    expect(await ledgerRows(svc)).toBe(ledgerBefore);

    const user = await svc.post("/api/v1/chat", QUESTION, bearer(await userToken("paying-customer")));
    expect(user.status).toBe(200);

    // One warning per instance and day when the share passed BUDGET_WARN_RATIO, not one per request.
    const warnings = svc.logs.events("budget.warning").filter((l) => l.scope === "guests");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: "WARNING", budget: BUDGET });
  });
});

describe("anonymous callers and the escalation model", () => {
  let gemini: GeminiEmulator;
  const COMPARE = { message: "Can you compare the Team and Business plans?" };
  beforeAll(async () => {
    gemini = await startGeminiEmulator();
  });
  afterAll(async () => {
    await gemini?.close();
  });
  const gem = (env: Record<string, string> = {}) =>
    service("routing", {
      MODEL_PROVIDER: "gemini",
      GEMINI_API_KEY: gemini.apiKey,
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      CONTEXT_CACHE: "false",
      ...env,
    });
  const modelOf = async (res: Response) => {
    expect(res.status).toBe(200);
    return ((await res.json()) as { model: string }).model;
  };

  test("a keyword does not route a guest to the escalation model; a signed-in user it does", async () => {
    const svc = await gem();
    expect(await modelOf(await svc.post("/api/v1/chat", COMPARE))).toBe("gemini-2.5-flash");
    expect(await modelOf(await svc.post("/api/v1/chat", COMPARE, bearer(await userToken("u1"))))).toBe(
      "gemini-2.5-pro",
    );
  });

  test("ROUTING_ESCALATE_GUESTS=true lets guests reach it", async () => {
    const svc = await gem({ ROUTING_ESCALATE_GUESTS: "true" });
    expect(await modelOf(await svc.post("/api/v1/chat", COMPARE))).toBe("gemini-2.5-pro");
  });
});
