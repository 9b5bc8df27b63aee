import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startWireTap, type WireTap } from "../../bench/pg-wire-tap";
import { engineSettings } from "../../service/src/compose/settings";
import { parseConfig } from "../../service/src/config";
import { type Database, openDatabase } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { createTenant } from "../../service/src/db/platform";
import { inTenant } from "../../service/src/db/tenant-scope";
import { ConversationEngine } from "../../service/src/engine/conversation-engine";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
import { CircuitBreaker } from "../../service/src/engine/resilience";
import { createLogger } from "../../service/src/logger";
import type { GenerateResult, ModelProvider } from "../../service/src/ports/model-provider";
import { testDatabase } from "./helpers";

/**
 * Tenant scoping must not cost a round trip (issue 12): a unit of work sends `begin`, its scope
 * (`set_config(..., true)`), its statement and `commit` in one flight, and waits once. Counted on the wire
 * (bench/pg-wire-tap.ts: a flight is what a connection sends before the server next answers), so only on
 * the PostgreSQL server; PGlite is reached through a Unix socket in this process.
 */
const server = process.env.TEST_DATABASE_URL;

let drop: (() => Promise<void>) | undefined;
let tap: WireTap;
let db: Database;

beforeAll(async () => {
  if (!server) return;
  const t = await testDatabase();
  await migrate(t.db.sql);
  tap = await startWireTap(t.url as string);
  db = await openDatabase({ url: tap.url, poolMax: 1 });
  drop = async () => {
    await db.close(1);
    await tap.close();
    await t.drop();
  };
});
afterAll(async () => {
  await drop?.();
});

/** Flights and statements on the wire while `work` runs. */
async function onTheWire(work: () => Promise<unknown>) {
  const from = tap.events.length;
  await work();
  const events = tap.events.slice(from);
  return {
    flights: events.filter((e) => e.kind === "flight").length,
    statements: events.flatMap((e) => (e.statement ? [e.statement.sql] : [])),
  };
}

describe.skipIf(!server)("tenant scope on the wire", () => {
  test("a scoped statement is one flight: begin, the scope, the statement, commit", async () => {
    const tenant = await createTenant(db.sql, { slug: "wire-a", name: "Wire A" });
    const read = () =>
      inTenant(tenant.id, () => db.sql`select count(*) from sessions where identity_id = ${"x"}`);
    await read(); // postgres.js learns each statement's types once per connection (a flight of its own)
    const seen = await onTheWire(read);
    expect(seen.flights).toBe(1);
    expect(seen.statements).toEqual([
      "begin",
      "select set_config('role', $1, true), set_config('app.tenant_id', $2, true)",
      "select count(*) from sessions where identity_id = $1",
      "commit",
    ]);
  });

  test("a statement outside any scope is sent alone, as before tenants", async () => {
    await db.sql`select 1 as warm`;
    const seen = await onTheWire(() => db.sql`select 1 as warm`);
    expect(seen).toEqual({ flights: 1, statements: ["select 1 as warm"] });
  });

  test("a multi-statement unit sends its scope with its first statement", async () => {
    const tenant = await createTenant(db.sql, { slug: "wire-b", name: "Wire B" });
    const unit = () =>
      inTenant(tenant.id, () =>
        db.sql.begin(async (tx) => {
          await tx`select count(*) from messages`;
          await tx`select count(*) from usage_ledger`;
        }),
      );
    await unit();
    const seen = await onTheWire(unit);
    expect(seen.statements).toEqual([
      "begin",
      "select set_config('role', $1, true), set_config('app.tenant_id', $2, true)",
      "select count(*) from messages",
      "select count(*) from usage_ledger",
      "commit",
    ]);
    // begin; the scope with the first statement; the second; commit.
    expect(seen.flights).toBe(4);
  });

  test("a chat turn in a tenant's scope still takes two round trips: admit it, store it", async () => {
    const tenant = await createTenant(db.sql, { slug: "wire-c", name: "Wire C" });
    const answer: GenerateResult = {
      text: "An answer.",
      model: "fake-model",
      finishReason: "STOP",
      usage: { inputTokens: 50, outputTokens: 10, cachedTokens: 0, thoughtsTokens: 0 },
      functionCalls: [],
    };
    const provider: ModelProvider = { name: "fake", generate: async () => answer };
    const chat = new ConversationEngine({
      sql: db.sql,
      provider,
      fallback: { answer: async () => undefined },
      knowledge: { fullText: "", tokens: 0, chunks: 0, search: async () => "" },
      limiter: new ModelCallLimiter({
        requestsPerMinute: 500,
        tokensPerMinute: 2_000_000,
        queueTimeoutMs: 0,
      }),
      breaker: new CircuitBreaker("fake", 5, 30_000),
      settings: engineSettings(parseConfig({})),
      log: createLogger({ level: "silent" }),
    });
    const identity = { id: "user:wire", kind: "user" as const, tier: "free" as const };
    const turn = (sessionId?: string) =>
      inTenant(tenant.id, () => chat.respond({ identity, channel: "web", message: "Hello", sessionId }));
    const first = await turn();
    await turn(first.sessionId);
    const seen = await onTheWire(() => turn(first.sessionId));
    expect(seen.flights).toBe(2);
    expect(seen.statements.filter((q) => q === "begin")).toHaveLength(2);
    const stored = await inTenant(tenant.id, () => db.sql`select count(*)::int as n from messages`);
    expect(stored[0]?.n).toBe(6);
  });
});
