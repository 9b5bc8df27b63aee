import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readAdmission } from "../../service/src/db/admission";
import type { Sql } from "../../service/src/db/client";
import { getCursor, setCursor } from "../../service/src/db/cursors";
import { listDocuments, putDocument, searchKnowledge } from "../../service/src/db/knowledge";
import { listMessages } from "../../service/src/db/messages";
import { migrate } from "../../service/src/db/migrate";
import { findModelCache, saveModelCache } from "../../service/src/db/model-caches";
import { conversationState, rememberContact } from "../../service/src/db/pipeline";
import { findProviderSession } from "../../service/src/db/provider-sessions";
import { latestSecretVersion } from "../../service/src/db/secret-versions";
import { findSession } from "../../service/src/db/sessions";
import { DEFAULT_TENANT_ID, inTenant } from "../../service/src/db/tenant-scope";
import { testDatabase } from "./helpers";
import { modelStack, type SeededTenant, SHARED, seedTenant, snapshot, tenantTables } from "./tenant-fixtures";

/**
 * Issue 12: the isolation cases with random ids, keys and payloads. As tenant A, every read returns
 * nothing of B's and every write lands in A or fails; B's rows never change.
 */

let sql: Sql;
let drop: () => Promise<void>;
let a: SeededTenant;
let b: SeededTenant;
let tables: string[];
let bBefore: Record<string, unknown[]>;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  sql = t.db.sql;
  await migrate(sql);
  const stack = await modelStack(sql);
  a = await seedTenant(sql, stack, "alpha");
  b = await seedTenant(sql, stack, "bravo");
  tables = await tenantTables(sql);
  bBefore = await inTenant(b.id, () => snapshot(sql, tables));
}, 60_000);
afterAll(async () => {
  await drop?.();
});

const payload = () =>
  fc
    .string({ maxLength: 120, unit: "grapheme" })
    .map((s) => s.replaceAll("\u0000", ""))
    .filter((s) => !s.includes("bravo"));
const someId = () =>
  fc.oneof(fc.constantFrom(b.sessionId, b.sharedUserSessionId, b.intercomSessionId), fc.uuid());
const someKey = () =>
  fc.oneof(fc.constantFrom(b.cursorKey, b.ownCacheKey, b.secretId, SHARED.cacheKey), payload());
const someTenant = () => fc.oneof(fc.constantFrom(b.id, DEFAULT_TENANT_ID, a.id), fc.uuid());

type Action = { name: string; run(): Promise<unknown>; landed?(): Promise<boolean> };

const readAction = () =>
  fc.oneof(
    someId().map((id): Action => ({ name: `findSession ${id}`, run: () => findSession(sql, id) })),
    someId().map(
      (id): Action => ({ name: `listMessages ${id}`, run: () => listMessages(sql, id, { limit: 20 }) }),
    ),
    someId().map(
      (id): Action => ({ name: `findProviderSession ${id}`, run: () => findProviderSession(sql, id) }),
    ),
    someKey().map((k): Action => ({ name: `getCursor ${k}`, run: () => getCursor(sql, k) })),
    someKey().map((k): Action => ({ name: `findModelCache ${k}`, run: () => findModelCache(sql, k, 0) })),
    someKey().map(
      (k): Action => ({ name: `latestSecretVersion ${k}`, run: () => latestSecretVersion(sql, k) }),
    ),
    someKey().map(
      (k): Action => ({
        name: `conversationState ${k}`,
        run: () => conversationState(sql, { channel: "intercom", conversationId: k }),
      }),
    ),
    payload().map(
      (q): Action => ({ name: `searchKnowledge ${q}`, run: () => searchKnowledge(sql, `${q} bravo`, 5) }),
    ),
    fc.tuple(someId(), fc.constantFrom(b.identityId, SHARED.userIdentity)).map(
      ([id, who]): Action => ({
        name: `readAdmission ${id} ${who}`,
        run: () =>
          readAdmission(sql, {
            gates: [],
            identityId: who,
            day: "2020-01-01",
            month: "2020-01-01",
            session: { id },
          }),
      }),
    ),
  );

const writeAction = () =>
  fc.oneof(
    fc.tuple(someKey(), payload()).map(
      ([k, v]): Action => ({
        name: `setCursor ${k}`,
        run: () => setCursor(sql, k, v),
        landed: async () => (await getCursor(sql, k)) === v,
      }),
    ),
    fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), payload()).map(
      ([slug, body]): Action => ({
        name: `putDocument ${slug}`,
        run: () => putDocument(sql, { slug, title: "t", body }, [{ source: slug, heading: "h", body }]),
        landed: async () => (await listDocuments(sql)).some((d) => d.slug === slug && d.body === body),
      }),
    ),
    fc.tuple(someKey(), payload()).map(
      ([conversationId, contact]): Action => ({
        name: `rememberContact ${conversationId}`,
        run: () => rememberContact(sql, { channel: "intercom", conversationId }, contact),
        landed: async () =>
          (await conversationState(sql, { channel: "intercom", conversationId })).contactId === contact,
      }),
    ),
    someKey().map(
      (key): Action => ({
        name: `saveModelCache ${key}`,
        run: () =>
          saveModelCache(sql, {
            key,
            name: "alpha",
            model: "m",
            tokens: 1,
            expiresAt: new Date(Date.now() + 60_000),
          }),
        landed: async () => (await findModelCache(sql, key, 0))?.name === "alpha",
      }),
    ),
    fc.tuple(someTenant(), payload()).map(
      ([tenant, key]): Action => ({
        name: `insert naming tenant ${tenant}`,
        run: () =>
          sql`insert into app_state (tenant_id, key, value) values (${tenant}, ${`${key}-${tenant}`}, 'alpha')`,
        landed: async () => tenant === a.id,
      }),
    ),
  );

/**
 * B's ids and the texts only B stored. A trace that is part of the action's own input (A may store a
 * key that contains B's id, and read it back) is no leak; B's stored texts are never an input.
 */
function leaked(result: unknown, input: string): string[] {
  const text = JSON.stringify(result ?? null);
  const ids = [b.id, b.sessionId, b.sharedUserSessionId, b.intercomSessionId, b.secretKeyId, ...b.outboxIds];
  const texts = [
    "bravo asks",
    "bravo knowledge body",
    "bravo-cursor",
    "bravo-provider-session",
    "cachedContents/bravo",
  ];
  return [...ids, ...texts].filter((trace) => text.includes(trace) && !input.includes(trace));
}

/** Runs one action as A: a read shows nothing of B's; a write that succeeded is A's to read back. */
async function asA(action: Action): Promise<void> {
  const outcome = await inTenant(a.id, action.run).then(
    (value) => ({ ok: true, value }),
    (error: Error) => ({ ok: false, value: error.message }),
  );
  expect({ action: action.name, leaked: leaked(outcome.value, action.name) }).toEqual({
    action: action.name,
    leaked: [],
  });
  if (outcome.ok && action.landed) {
    expect({ action: action.name, landed: await inTenant(a.id, action.landed) }).toEqual({
      action: action.name,
      landed: true,
    });
  }
}

describe("random ids, keys and payloads, as tenant A", () => {
  test("reads return nothing of B's, writes land in A or fail, B's rows never change", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(readAction(), writeAction()), { minLength: 1, maxLength: 4 }),
        async (actions) => {
          for (const action of actions) await asA(action);
          expect(await inTenant(b.id, () => snapshot(sql, tables))).toEqual(bBefore);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  test("no write of A's landed in any tenant but A", async () => {
    for (const table of tables) {
      const [row] = await sql.unsafe<{ n: number }[]>(
        `select count(*)::int as n from ${table} where tenant_id not in ($1, $2, $3)`,
        [a.id, b.id, DEFAULT_TENANT_ID],
      );
      expect({ table, n: row?.n }).toEqual({ table, n: 0 });
    }
  });
});
