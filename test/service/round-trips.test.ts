import { createHash } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ContextCacheRegistry } from "../../service/src/adapters/context-caches";
import { engineSettings } from "../../service/src/compose/settings";
import { parseConfig } from "../../service/src/config";
import type { Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { DEFAULT_TENANT_ID, inTenant, scopedSql } from "../../service/src/db/tenant-scope";
import { RateLimited, SessionNotFound } from "../../service/src/domain/errors";
import type { Identity } from "../../service/src/domain/identity";
import { ConversationEngine, type EngineSettings } from "../../service/src/engine/conversation-engine";
import { ModelCallLimiter } from "../../service/src/engine/model-limiter";
import { CircuitBreaker } from "../../service/src/engine/resilience";
import { createLogger } from "../../service/src/logger";
import type { GenerateRequest, GenerateResult, ModelProvider } from "../../service/src/ports/model-provider";
import { testDatabase } from "./helpers";

/**
 * What a chat turn costs the database (issue 11): each statement is a round trip, so a turn's statements
 * are counted through the client's debug hook. A turn is admitted in one statement (limits, budget,
 * session, history) and stored in one (session, messages, ledger, counters); a summary adds one.
 */

let drop: () => Promise<void>;
let sql: Sql;
const statements: string[] = [];
const SCOPE_PLUMBING = /^(begin|commit|select set_config\('role')/;

/** Every test runs as the default tenant, as a chat turn without a widget key does. */
const asDefault = (work: () => Promise<void>) => () => inTenant(DEFAULT_TENANT_ID, work);

beforeAll(async () => {
  const t = await testDatabase();
  drop = async () => {
    await sql?.end({ timeout: 1 });
    await t.drop();
  };
  await migrate(t.db.sql);
  // A client of its own that records every statement it sends (PGlite: used alone, one at a time).
  // Each unit of work is sent as begin, its tenant scope, its statement and commit, pipelined in one round
  // trip (tenant-round-trips.test.ts counts those on the wire): only the statements themselves count here.
  const debug = (_connection: number, query: string) => {
    if (!SCOPE_PLUMBING.test(query)) statements.push(query);
  };
  const options = { max: 1, onnotice: () => {}, transform: postgres.camel, debug };
  const embedded = { ...options, path: t.db.socketPath, user: "postgres", database: "postgres" };
  sql = scopedSql((t.url ? postgres(t.url, options) : postgres(embedded)) as unknown as Sql);
  // The client reads the server's array types on its first connection: not part of any turn.
  await sql`select 1`;
});
afterAll(async () => {
  await drop?.();
});
beforeEach(() => {
  statements.length = 0;
});

class FakeModel implements ModelProvider {
  readonly name = "fake";
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return {
      text: request.purpose === "summary" ? "The customer asked several things." : "An answer.",
      model: "fake-model",
      finishReason: "STOP",
      usage: { inputTokens: 50, outputTokens: 10, cachedTokens: 0, thoughtsTokens: 0 },
      functionCalls: [],
    };
  }
}

function engine(over: Partial<EngineSettings> = {}) {
  return new ConversationEngine({
    sql,
    provider: new FakeModel(),
    fallback: { answer: async () => undefined },
    knowledge: { fullText: "", tokens: 0, chunks: 0, search: async () => "" },
    limiter: new ModelCallLimiter({ requestsPerMinute: 500, tokensPerMinute: 2_000_000, queueTimeoutMs: 0 }),
    breaker: new CircuitBreaker("fake", 5, 30_000),
    settings: { ...engineSettings(parseConfig({})), ...over },
    log: createLogger({ level: "silent" }),
  });
}

const user = (name: string): Identity => ({ id: `user:${name}`, kind: "user", tier: "free" });

describe("round trips per chat turn", () => {
  test(
    "a signed-in user's turn: one statement admits it, one stores it, from the first turn on",
    asDefault(async () => {
      const chat = engine();
      const identity = user("trips-1");
      const first = await chat.respond({ identity, channel: "web", message: "How do refunds work?" });
      expect(statements).toHaveLength(2);
      for (const message of ["And for annual plans?", "Thanks"]) {
        statements.length = 0;
        await chat.respond({ identity, channel: "web", sessionId: first.sessionId, message });
        expect(statements).toHaveLength(2);
      }
      const stored = await sql<{ role: string }[]>`
      select role from messages where session_id = ${first.sessionId} order by id`;
      expect(stored.map((m) => m.role)).toEqual([
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
      ]);
      const [counter] = await sql<{ tokens: string }[]>`
      select tokens from usage_counters where identity_id = ${identity.id} and period = 'day'`;
      expect(Number(counter?.tokens)).toBe(3 * 60);
    }),
  );

  test(
    "a turn that folds older messages into the summary adds one statement for it",
    asDefault(async () => {
      const chat = engine({ history: { maxMessages: 2, maxTokens: 4000 } });
      const identity = user("trips-2");
      const first = await chat.respond({ identity, channel: "web", message: "First question" });
      await chat.respond({
        identity,
        channel: "web",
        sessionId: first.sessionId,
        message: "Second question",
      });
      statements.length = 0;
      await chat.respond({ identity, channel: "web", sessionId: first.sessionId, message: "Third question" });
      expect(statements).toHaveLength(3);
      const [session] = await sql<{ summary: string | null }[]>`
      select summary from sessions where id = ${first.sessionId}`;
      expect(session?.summary).toBe("The customer asked several things.");
      const ledger = await sql<{ purpose: string }[]>`
      select purpose from usage_ledger where session_id = ${first.sessionId} order by id`;
      expect(ledger.map((l) => l.purpose)).toEqual(["chat", "chat", "summary", "chat"]);
    }),
  );

  test(
    "someone else's session is refused in the one admission statement",
    asDefault(async () => {
      const chat = engine();
      const mine = await chat.respond({ identity: user("trips-owner"), channel: "web", message: "Hello" });
      statements.length = 0;
      const theirs = chat.prepare({
        identity: user("trips-other"),
        channel: "web",
        sessionId: mine.sessionId,
        message: "Let me read this",
      });
      await expect(theirs).rejects.toBeInstanceOf(SessionNotFound);
      expect(statements).toHaveLength(1);
    }),
  );

  test(
    "a guest refused by its address's limit is not counted against the limits after it",
    asDefault(async () => {
      const defaults = engineSettings(parseConfig({}));
      const chat = engine({ guests: { ...defaults.guests, clientRequestsPerMinute: 1 } });
      const guest = (n: number): Identity => ({ id: `anon:trips-${n}`, kind: "anonymous", tier: "guest" });
      const turn = (n: number) =>
        chat.prepare({
          identity: guest(n),
          channel: "web",
          message: "Hi",
          clientAddress: "192.0.2.77",
          newIdentity: true,
        });
      await turn(1);
      await expect(turn(2)).rejects.toBeInstanceOf(RateLimited);
      const windows = await sql<{ key: string; hits: number }[]>`
      select key, hits from rate_limit_windows where key like '%192.0.2.77' order by key`;
      expect(windows).toEqual([
        { key: "client:192.0.2.77", hits: 2 },
        { key: "guest-sessions:192.0.2.77", hits: 1 },
      ]);
    }),
  );
});

describe("the names of context caches", () => {
  const contents = {
    model: "gemini-2.5-flash",
    systemInstruction: "You are the support assistant.",
    context: "## Refunds\nWithin 30 days.",
    tools: undefined,
  };
  const row = (key: string, name: string, inMs: number) => ({
    key,
    name,
    model: contents.model,
    tokens: 2000,
    expiresAt: new Date(Date.now() + inMs),
  });

  test("the key is the hash it always was, so instances of the previous release share the table", () => {
    const legacy = createHash("sha256")
      .update(JSON.stringify([contents.model, contents.systemInstruction, contents.context, null]))
      .digest("hex");
    const registry = new ContextCacheRegistry(sql, 60_000);
    expect(registry.key(contents)).toBe(legacy);
    expect(registry.key({ ...contents })).toBe(legacy);
    expect(registry.key({ ...contents, context: "## Refunds\nWithin 14 days." })).not.toBe(legacy);
    expect(registry.key(contents)).toBe(legacy);
  });

  test(
    "a name known in memory costs no round trip; other instances find it in the table once",
    asDefault(async () => {
      const creator = new ContextCacheRegistry(sql, 60_000);
      const key = creator.key({ ...contents, context: "## Invoices\nMonthly." });
      expect(await creator.find(key)).toBeUndefined();
      await creator.save(row(key, "cachedContents/one", 3_600_000));
      statements.length = 0;
      expect(await creator.find(key)).toBe("cachedContents/one");
      expect(statements).toHaveLength(0);

      const other = new ContextCacheRegistry(sql, 60_000);
      expect(await other.find(key)).toBe("cachedContents/one");
      expect(await other.find(key)).toBe("cachedContents/one");
      expect(statements).toHaveLength(1);

      // A cache that vanished is forgotten by the instance that saw it fail, and in the table for the rest.
      await other.forget(key);
      expect(await other.find(key)).toBeUndefined();
      expect(await new ContextCacheRegistry(sql, 60_000).find(key)).toBeUndefined();
    }),
  );

  test(
    "a name about to expire is not used from memory",
    asDefault(async () => {
      const registry = new ContextCacheRegistry(sql, 60_000);
      const key = registry.key({ ...contents, context: "## Exports\nCSV." });
      await registry.save(row(key, "cachedContents/short", 30_000));
      expect(await registry.find(key)).toBeUndefined();
    }),
  );
});
