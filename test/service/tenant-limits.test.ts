import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { engineSettings } from "../../service/src/compose/settings";
import { parseConfig } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { type LeaseQuota, leaseModelQuota, type QuotaAsk } from "../../service/src/db/model-quota";
import { createTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import { saveTenantSettings } from "../../service/src/db/tenants";
import {
  type DomainError,
  ModelCapacity,
  RateLimited,
  TenantBudgetExceeded,
  TenantRateLimited,
} from "../../service/src/domain/errors";
import type { Identity } from "../../service/src/domain/identity";
import type { TenantSettings } from "../../service/src/domain/tenant";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
import { DeploymentModelLimiter } from "../../service/src/engine/model-quota";
import { CircuitBreaker } from "../../service/src/engine/resilience";
import { TenantDirectory } from "../../service/src/engine/tenant-directory";
import { TenantEngines } from "../../service/src/engine/tenant-engines";
import { httpErrorOf } from "../../service/src/http/error-handler";
import { createLogger } from "../../service/src/logger";
import type { GenerateResult, ModelProvider } from "../../service/src/ports/model-provider";
import { LogCapture, testDatabase } from "./helpers";

/**
 * Issue 12, limits per tenant: a tenant's requests per minute and token budgets across all its callers,
 * each tenant's own, on top of the per-identity limits, which each tenant counts apart.
 */

let db: Database;
let drop: () => Promise<void>;
const logs = new LogCapture();
// Mid-minute, so the turns of one test never straddle two rate-limit windows.
const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);

/** Every answer costs 60 tokens. */
class FakeModel implements ModelProvider {
  readonly name = "fake";
  async generate(): Promise<GenerateResult> {
    const usage = { inputTokens: 50, outputTokens: 10, cachedTokens: 0, thoughtsTokens: 0 };
    return { text: "An answer.", model: "fake-model", finishReason: "STOP", usage, functionCalls: [] };
  }
}

let engines: TenantEngines;

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  await migrate(db.sql);
  engines = new TenantEngines(
    {
      sql: db.sql,
      provider: new FakeModel(),
      fallback: { answer: async () => undefined },
      limiter: new ModelCallLimiter({ requestsPerMinute: 1e6, tokensPerMinute: 1e9, queueTimeoutMs: 0 }),
      breaker: new CircuitBreaker("fake", 5, 30_000),
      settings: engineSettings(parseConfig({})),
      log: createLogger({ level: "info", destination: logs }),
      now: () => now,
    },
    new TenantDirectory(db.sql, 0),
  );
});
afterAll(async () => {
  await drop?.();
});

let tenants = 0;
/** A new tenant with these settings. */
async function tenant(settings: TenantSettings): Promise<string> {
  const created = await createTenant(db.sql, { slug: `limits-${++tenants}`, name: "Limits" });
  await inTenant(created.id, () => saveTenantSettings(db.sql, settings));
  return created.id;
}

const user = (name: string): Identity => ({ id: `user:${name}`, kind: "user", tier: "enterprise" });
/** One chat turn of `identity` as tenant `tenantId`: its reply, or the refusal it got. */
const turn = (tenantId: string, identity: Identity) =>
  inTenant(tenantId, () => engines.respond({ identity, channel: "web", message: "Hello" })).then(
    (r) => r.reply,
    (e: unknown) => e as DomainError,
  );

describe("a tenant's requests per minute", () => {
  test("count every caller of the tenant, refuse with tenant_rate_limited, and leave other tenants alone", async () => {
    const a = await tenant({ rateLimits: { tenantRequestsPerMinute: 3 } });
    const b = await tenant({ rateLimits: { tenantRequestsPerMinute: 3 } });
    for (const name of ["ann", "bob", "cy"]) expect(await turn(a, user(name))).toBe("An answer.");
    const refused = await turn(a, user("dee"));
    expect(refused).toBeInstanceOf(TenantRateLimited);
    expect((refused as TenantRateLimited).retryAfterSeconds).toBe(30);
    // The same people in tenant B: B's window is its own.
    for (const name of ["ann", "bob", "cy"]) expect(await turn(b, user(name))).toBe("An answer.");
    expect(await turn(b, user("dee"))).toBeInstanceOf(TenantRateLimited);
  });

  test("a caller refused by its own limit is not counted against its tenant's", async () => {
    const a = await tenant({ rateLimits: { tenantRequestsPerMinute: 3, userRequestsPerMinute: 1 } });
    expect(await turn(a, user("eager"))).toBe("An answer.");
    for (let i = 0; i < 5; i++) expect(await turn(a, user("eager"))).toBeInstanceOf(RateLimited);
    expect(await turn(a, user("calm-1"))).toBe("An answer.");
    expect(await turn(a, user("calm-2"))).toBe("An answer.");
    expect(await turn(a, user("calm-3"))).toBeInstanceOf(TenantRateLimited);
  });
});

describe("a tenant's token budget", () => {
  test("is shared by all its identities, refused with tenant_budget_exhausted, other tenants answered", async () => {
    const a = await tenant({ tenantBudget: { dailyTokens: 130 } });
    const b = await tenant({ tenantBudget: { dailyTokens: 130 } });
    for (const name of ["first", "second", "third"]) expect(await turn(a, user(name))).toBe("An answer.");
    // 180 of 130 tokens used: anyone of tenant A is refused until tomorrow (UTC).
    const refused = await turn(a, user("fourth"));
    expect(refused).toBeInstanceOf(TenantBudgetExceeded);
    expect((refused as TenantBudgetExceeded).details).toMatchObject({ period: "day" });
    expect(await turn(b, user("fourth"))).toBe("An answer.");
    // The third turn found 120 of 130 used (over 80 %): one warning, for tenant A only.
    const warnings = logs.events("budget.warning").filter((l) => l.scope === "tenant");
    expect(warnings).toEqual([expect.objectContaining({ tenant: a, period: "day", used: 120, budget: 130 })]);
  });

  test("a monthly budget counts the month, and a budget set later counts the tokens already used", async () => {
    const a = await tenant({});
    expect(await turn(a, user("early"))).toBe("An answer.");
    await inTenant(a, () => saveTenantSettings(db.sql, { tenantBudget: { monthlyTokens: 60 } }));
    const refused = await turn(a, user("late"));
    expect(refused).toBeInstanceOf(TenantBudgetExceeded);
    expect((refused as TenantBudgetExceeded).details).toMatchObject({ period: "month" });
  });

  test("unset, a tenant has no tenant-wide limit", async () => {
    const a = await tenant({ rateLimits: { userRequestsPerMinute: 1000 } });
    for (let i = 0; i < 12; i++) expect(await turn(a, user(`many-${i}`))).toBe("An answer.");
  });
});

describe("per-identity limits in two tenants", () => {
  test("the same user id has its own request window and budget counters in each tenant", async () => {
    const settings: TenantSettings = {
      rateLimits: { userRequestsPerMinute: 1 },
      budgets: { enterprise: { daily: 100, monthly: null } },
    };
    const a = await tenant(settings);
    const b = await tenant(settings);
    const same = user("same-person");
    expect(await turn(a, same)).toBe("An answer.");
    expect(await turn(a, same)).toBeInstanceOf(RateLimited);
    expect(await turn(b, same)).toBe("An answer.");
    const counters = (id: string) =>
      inTenant(
        id,
        async () =>
          await db.sql<{ tokens: string }[]>`
          select tokens from usage_counters where identity_id = ${same.id} and period = 'day'`,
      );
    expect((await counters(a)).map((c) => Number(c.tokens))).toEqual([60]);
    expect((await counters(b)).map((c) => Number(c.tokens))).toEqual([60]);
  });
});

describe("at the HTTP edge", () => {
  test("both tenant refusals are 429s with their own code and a Retry-After", () => {
    const rate = httpErrorOf(new TenantRateLimited("slow down", 12));
    expect([rate.status, rate.code, rate.extra.headers?.["Retry-After"]]).toEqual([
      429,
      "tenant_rate_limited",
      "12",
    ]);
    const budget = httpErrorOf(new TenantBudgetExceeded("used up", 3600));
    expect([budget.status, budget.code]).toEqual([429, "tenant_budget_exhausted"]);
  });
});

describe("the deployment's model quota, shared fairly by tenants", () => {
  const A = "0a000000-0000-4000-8000-00000000000a";
  const B = "0b000000-0000-4000-8000-00000000000b";
  let quotas = 0;
  /** A quota of its own (a key of the shared table), early enough in a minute of the database's clock. */
  async function freshQuota(): Promise<{ key: string; lease: LeaseQuota }> {
    const [row] = await db.sql<{ msLeft: number }[]>`
      select (extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()) * 1000)::float8
        as ms_left`;
    if ((row?.msLeft ?? 60_000) < 10_000) await new Promise((r) => setTimeout(r, (row?.msLeft ?? 0) + 100));
    const key = `fair-${Date.now()}-${++quotas}`;
    return { key, lease: leaseModelQuota(db.sql, key) };
  }
  const limits = { requestsPerMinute: 10, tokensPerMinute: 1000, tenantShare: 0.5 };
  const ask = (tenant: string, over: Partial<QuotaAsk> = {}): QuotaAsk => ({
    ...limits,
    requests: 10,
    tokens: 10,
    minTokens: 10,
    tenant,
    ...over,
  });
  /** Leases for `tenant` until it is refused: the requests it got in all. */
  async function flood(lease: LeaseQuota, tenant: string, over: Partial<QuotaAsk> = {}) {
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const grant = await lease(ask(tenant, over));
      if (grant.requests === 0) return total;
      total += grant.requests;
    }
    throw new Error("never refused");
  }

  test("a tenant alone may take the whole minute: a single-business deployment loses nothing", async () => {
    const { lease } = await freshQuota();
    expect(await flood(lease, A)).toBe(10);
  });

  test("once another tenant asked, a tenant gets at most its share, and the other the rest", async () => {
    const { lease } = await freshQuota();
    expect((await lease(ask(B, { requests: 1 }))).requests).toBe(1);
    expect(await flood(lease, A)).toBe(5);
    expect(await flood(lease, B)).toBe(4);
  });

  test("a tenant that asked in the minute before counts as present from the minute's start", async () => {
    const { key, lease } = await freshQuota();
    await db.sql`
      insert into model_quota_windows (quota, window_start, requests, tokens, granted_requests, granted_tokens, tenants)
      values (${key}, date_trunc('minute', now()) - interval '1 minute', 0, 0, 0, 0,
        ${db.sql.json({ [B]: { requests: 0, tokens: 0 } })})`;
    expect(await flood(lease, A)).toBe(5);
    expect(await flood(lease, B)).toBe(5);
  });

  test("tokens are shared the same way; a share of 1 is no cap", async () => {
    const { lease } = await freshQuota();
    await lease(ask(B, { requests: 1, tokens: 10, minTokens: 10 }));
    // A call needing 600 tokens is more than A's share (500) while B is present.
    expect((await lease(ask(A, { requests: 1, tokens: 600, minTokens: 600 }))).requests).toBe(0);
    expect((await lease(ask(A, { requests: 1, tokens: 600, minTokens: 600, tenantShare: 1 }))).tokens).toBe(
      600,
    );
  });

  test("through the limiter: tenant A flooding the model cannot take tenant B's share", async () => {
    const { lease } = await freshQuota();
    const limiter = new DeploymentModelLimiter({ ...limits, queueTimeoutMs: 0, lease });
    /** Calls of 10 tokens for `tenant` until one is refused: how many went through. */
    const calls = async (tenant: string, max: number) => {
      let ok = 0;
      for (let i = 0; i < max; i++) {
        const refused = await inTenant(tenant, () => limiter.acquire(10)).then(
          () => false,
          (e: unknown) => e instanceof ModelCapacity,
        );
        if (refused) return ok;
        ok++;
      }
      return ok;
    };
    expect(await calls(B, 1)).toBe(1);
    expect(await calls(A, 30)).toBe(5);
    expect(await calls(B, 30)).toBe(4);
  });
});
