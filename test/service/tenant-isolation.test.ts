import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ModelStack } from "../../service/src/compose/model-stack";
import { listAudit } from "../../service/src/db/audit";
import type { Sql } from "../../service/src/db/client";
import { getCursor, setCursor } from "../../service/src/db/cursors";
import { migrate } from "../../service/src/db/migrate";
import { queueMessages } from "../../service/src/db/pipeline";
import * as platform from "../../service/src/db/platform";
import { dispatchableOutbox } from "../../service/src/db/platform-outbox";
import { secretVersionsByKey } from "../../service/src/db/platform-secrets";
import { purgeAuditLog } from "../../service/src/db/retention";
import { inTenant } from "../../service/src/db/tenant-scope";
import { currentTenant } from "../../service/src/db/tenants";
import { testDatabase } from "./helpers";
import { modelStack, type SeededTenant, seedTenant, snapshot, tenantTables } from "./tenant-fixtures";
import { type CaseContext, DEPLOYMENT_WIDE, ISOLATION_CASES } from "./tenant-repository-cases";

/**
 * Issue 12, "Prove it": two tenants with rows in every tenant-owned table; every repository function
 * called as tenant A with B's ids returns nothing of B's and changes nothing of B's. The statements a
 * query forgot to filter, the pool, the schema and the HTTP routes have files of their own
 * (tenant-forgotten-filter, rls-schema, tenant-http-isolation).
 */

let sql: Sql;
/** A superuser connection: sees every tenant's rows outside a scope (on the server too). */
let inspect: Sql;
let drop: () => Promise<void>;
let stack: ModelStack;
let a: SeededTenant;
let b: SeededTenant;
let tables: string[];
let bBefore: Record<string, unknown[]>;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  sql = t.db.sql;
  inspect = t.inspect;
  await migrate(sql);
  stack = await modelStack(sql);
  a = await seedTenant(sql, stack, "alpha");
  b = await seedTenant(sql, stack, "bravo");
  tables = await tenantTables(sql);
  bBefore = await inTenant(b.id, () => snapshot(sql, tables));
}, 60_000);
afterAll(async () => {
  await drop?.();
});

/** What of B's would show that a result leaked: its marker and its ids. */
function bTraces(): string[] {
  return [
    b.marker,
    b.id,
    b.sessionId,
    b.sharedUserSessionId,
    b.intercomSessionId,
    ...b.outboxIds,
    b.secretKeyId,
    b.personContactId,
    b.leadId,
  ];
}

function leaked(result: unknown): string[] {
  const text = JSON.stringify(result ?? null);
  return bTraces().filter((trace) => text.includes(trace));
}

async function countOfA(table: string, where = "true") {
  // The superuser sees every tenant's rows: the filter is explicit here on purpose.
  const [row] = await inspect.unsafe<{ n: number }[]>(
    `select count(*)::int as n from ${table} where tenant_id = $1 and (${where})`,
    [a.id],
  );
  return row?.n ?? 0;
}

describe("the seed", () => {
  test("both tenants have rows in every tenant-owned table", async () => {
    for (const tenant of [a, b]) {
      const seen = await inTenant(tenant.id, () => snapshot(sql, tables));
      const emptyTables = Object.entries(seen).filter(([, rows]) => rows.length === 0);
      expect(emptyTables.map(([name]) => name)).toEqual([]);
    }
    expect(tables).toContain("knowledge_documents");
    expect(tables.length).toBeGreaterThanOrEqual(16);
  });
});

describe("every repository function, as tenant A with B's ids", () => {
  test("every export of service/src/db has an isolation case or is deployment-wide", async () => {
    const dir = new URL("../../service/src/db/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    const exported: string[] = [];
    for (const file of files) {
      const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
      exported.push(...Object.keys(mod).map((name) => `${file.replace(/\.ts$/, "")}.${name}`));
    }
    const covered = new Set([...Object.keys(ISOLATION_CASES), ...Object.keys(DEPLOYMENT_WIDE)]);
    expect(exported.filter((name) => !covered.has(name))).toEqual([]);
    // And no stale entry: each case names a real export.
    expect([...covered].filter((name) => !exported.includes(name))).toEqual([]);
  });

  test.each(Object.entries(ISOLATION_CASES))("%s", async (_name, isolationCase) => {
    const ctx: CaseContext = { sql, a, b, countOfA };
    const outcome = await inTenant(a.id, () => isolationCase.run(ctx)).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (!outcome.ok) {
      // Refused writes must be refused by the database (a policy or a key), never by leaking a row.
      if (!isolationCase.mayRefuse) throw outcome.error;
      expect(String(outcome.error)).not.toContain(b.marker);
    } else {
      expect(leaked(outcome.value)).toEqual([]);
      await isolationCase.check?.(outcome.value, ctx);
    }
    expect(await inTenant(b.id, () => snapshot(sql, tables))).toEqual(bBefore);
  });
});

describe("the platform functions", () => {
  test("run as the platform even inside a tenant's scope, and leave that scope as it was", async () => {
    await inTenant(a.id, async () => {
      expect((await platform.findTenant(sql, b.id))?.slug).toBe("bravo");
      expect((await platform.findTenantByWidgetKey(sql, b.widgetKey))?.id).toBe(b.id);
      const listed = await platform.listTenants(sql, { limit: 10 });
      expect(listed.map((t) => t.slug)).toEqual(["alpha", "bravo", "default"]);
      // Back in A's scope: the very same lookup without the platform role finds nothing of B's.
      expect((await currentTenant(sql))?.id).toBe(a.id);
      expect(await sql`select id from tenants where id = ${b.id}`).toHaveLength(0);
    });
  });

  test("a tenant cannot reach another tenant's row without them", async () => {
    const renamed = await inTenant(
      a.id,
      () => sql`update tenants set name = 'taken' where id = ${b.id} returning id`,
    );
    expect(renamed).toHaveLength(0);
    expect((await platform.findTenant(sql, b.id))?.name).toBe("Tenant bravo");
  });

  test("updates and key rotations change the named tenant only", async () => {
    const c = await platform.createTenant(sql, { slug: "charlie", name: "Charlie" });
    const rotated = await platform.rotateWidgetKey(sql, c.id);
    expect(rotated?.widgetKey).not.toBe(c.widgetKey);
    expect((await platform.updateTenant(sql, c.id, { status: "suspended" }))?.status).toBe("suspended");
    expect(await platform.findTenantByWidgetKey(sql, c.widgetKey)).toBeUndefined();
    expect((await platform.findTenant(sql, b.id))?.widgetKey).toBe(b.widgetKey);
    expect((await platform.findTenant(sql, a.id))?.status).toBe("active");
  });
});

describe("the platform functions across tenants", () => {
  test("the audit log: both tenants' rows, and a row of no tenant that no tenant can read", async () => {
    // Written from inside A's scope: the platform function still writes a row of no tenant.
    await inTenant(a.id, () =>
      platform.appendPlatformAudit(sql, {
        actor: "unknown",
        role: "none",
        action: "admin.sign_in_failed",
        summary: { reason: "invalid_token" },
      }),
    );
    const all = await platform.listAuditAcrossTenants(sql, { limit: 1000 });
    expect(new Set(all.map((r) => r.tenantId))).toEqual(new Set([a.id, b.id, null]));
    const failed = all.filter((r) => r.action === "admin.sign_in_failed");
    expect(failed.map((r) => r.tenantId)).toEqual([null]);
    const onlyB = await platform.listAuditAcrossTenants(sql, { tenantId: b.id, limit: 1000 });
    expect(onlyB.length).toBeGreaterThan(0);
    expect(onlyB.every((r) => r.tenantId === b.id)).toBe(true);
    for (const tenant of [a, b]) {
      const seen = await inTenant(tenant.id, () => listAudit(sql, { limit: 1000 }));
      expect(seen.filter((r) => r.tenantId !== tenant.id)).toEqual([]);
    }
  });

  test("the outbox sweep sees every active tenant's pending rows with their tenant, not a suspended one's", async () => {
    const aRow = randomUUID();
    const conversation = { conversationId: "conv-sweep", contactId: null };
    await inTenant(a.id, () =>
      queueMessages(sql, "intercom", conversation, [
        { id: aRow, conversationId: "conv-sweep", partId: "part-1", body: "alpha sweep" },
      ]),
    );
    const swept = async () => {
      const rows = await inTenant(a.id, () => dispatchableOutbox(sql, ["intercom"], 1000));
      const ours = rows.filter((r) => [aRow, ...b.outboxIds].includes(r.id));
      return Object.fromEntries(ours.map((r) => [r.id, r.tenantId]));
    };
    const bRows = Object.fromEntries(b.outboxIds.map((id) => [id, b.id]));
    expect(await swept()).toEqual({ [aRow]: a.id, ...bRows });
    await platform.updateTenant(sql, b.id, { status: "suspended" });
    try {
      expect(await swept()).toEqual({ [aRow]: a.id });
    } finally {
      await platform.updateTenant(sql, b.id, { status: "active" });
    }
  });

  test("the start-up key check counts every tenant's sealed secrets", async () => {
    const byKey = await inTenant(a.id, () => secretVersionsByKey(sql));
    const keys = byKey.filter((k) => k.versions > 0).map((k) => k.keyId);
    expect(keys).toEqual(expect.arrayContaining([a.secretKeyId, b.secretKeyId]));
  });

  test("the audit log's purge removes old rows of every tenant and keeps newer ones", async () => {
    // Only by age: two seeded rows (one each) are made old; every other row is minutes old.
    await inspect`update audit_log set at = now() - interval '10 days' where action = 'settings.updated'`;
    const before = await platform.listAuditAcrossTenants(sql, { limit: 1000 });
    const old = before.filter((r) => r.action === "settings.updated");
    expect(old.map((r) => r.tenantId).sort()).toEqual([a.id, b.id].sort());
    expect(await inTenant(a.id, () => purgeAuditLog(sql, 5, 1000))).toBe(2);
    const after = await platform.listAuditAcrossTenants(sql, { limit: 1000 });
    expect(after.map((r) => r.id)).toEqual(before.filter((r) => !old.includes(r)).map((r) => r.id));
  });
});

describe("keys that are per tenant", () => {
  // app_state's key was unique across tenants until 00010: the Intercom poll's cursor key
  // ("intercom.poll.updated_at") could belong to one tenant only, and a second tenant's poll failed.
  test("two tenants can each keep a cursor of the same name", async () => {
    await inTenant(b.id, () => setCursor(sql, "intercom.poll.updated_at", "1"));
    await inTenant(a.id, () => setCursor(sql, "intercom.poll.updated_at", "2"));
    expect(await inTenant(a.id, () => getCursor(sql, "intercom.poll.updated_at"))).toBe("2");
    expect(await inTenant(b.id, () => getCursor(sql, "intercom.poll.updated_at"))).toBe("1");
  });
});
