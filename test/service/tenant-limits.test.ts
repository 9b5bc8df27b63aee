import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { engineSettings } from "../../service/src/compose/settings";
import { parseConfig } from "../../service/src/config";
import type { Database } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { createTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import { saveTenantSettings } from "../../service/src/db/tenants";
import {
  type DomainError,
  RateLimited,
  TenantBudgetExceeded,
  TenantRateLimited,
} from "../../service/src/domain/errors";
import type { Identity } from "../../service/src/domain/identity";
import type { TenantSettings } from "../../service/src/domain/tenant";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
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
