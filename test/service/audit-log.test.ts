import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { appendAudit, listAudit } from "../../service/src/db/audit";
import type { Database } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { appendPlatformAudit, createTenant, listAuditAcrossTenants } from "../../service/src/db/platform";
import { purgeAuditLog } from "../../service/src/db/retention";
import { asPlatform, DEFAULT_TENANT_ID, inTenant, scopedSql } from "../../service/src/db/tenant-scope";
import { raw, testDatabase } from "./helpers";

/** The audit log is append-only for the runtime roles, and each tenant sees only its own rows (issue 12). */

let db: Database;
let drop: () => Promise<void>;
let other: string;
const entry = (action: string) => ({ actor: "tester", role: "tenant_admin", action, target: "t" });

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  await migrate(db.sql);
  other = (await createTenant(db.sql, { slug: "audit-other", name: "Other" })).id;
  await inTenant(DEFAULT_TENANT_ID, () => appendAudit(db.sql, entry("default.action")));
  await inTenant(other, () => appendAudit(db.sql, entry("other.action")));
  await appendPlatformAudit(db.sql, { ...entry("admin.sign_in_failed"), role: "none" });
});
afterAll(async () => {
  await drop?.();
});

describe("append-only for the runtime role", () => {
  // Tagged statements (sql.unsafe is not scoped), awaited inside the scope.
  const statements = {
    update: () => db.sql`update audit_log set actor = 'someone else'`,
    delete: () => db.sql`delete from audit_log`,
    truncate: () => db.sql`truncate audit_log`,
  };

  test.each(
    Object.keys(statements) as (keyof typeof statements)[],
  )("%s inside a tenant scope fails with a permission error", async (name) => {
    const attempt = inTenant(DEFAULT_TENANT_ID, async () => {
      await statements[name]();
    });
    await expect(attempt).rejects.toThrow(/permission denied/);
  });

  test.each(
    Object.keys(statements) as (keyof typeof statements)[],
  )("%s as the platform role fails too", async (name) => {
    const attempt = asPlatform(async () => {
      await statements[name]();
    });
    await expect(attempt).rejects.toThrow(/permission denied/);
  });

  test("nothing was changed by the attempts", async () => {
    const rows = await raw(db).unsafe<{ actor: string }[]>("select actor from audit_log");
    expect(rows.length).toBe(3);
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(["tester"]));
  });
});

describe("a tenant sees only its own rows", () => {
  test("listing in a tenant's scope shows its rows, not another tenant's nor the platform's", async () => {
    const mine = await inTenant(DEFAULT_TENANT_ID, () => listAudit(db.sql, { limit: 100 }));
    expect(mine.map((r) => r.action)).toEqual(["default.action"]);
    const theirs = await inTenant(other, () => listAudit(db.sql, { limit: 100 }));
    expect(theirs.map((r) => r.action)).toEqual(["other.action"]);
    // Even asking for the other tenant by name finds nothing.
    expect(
      await inTenant(DEFAULT_TENANT_ID, () => listAudit(db.sql, { tenantId: other, limit: 100 })),
    ).toEqual([]);
  });

  test("a tenant scope cannot write a row of another tenant or of the platform", async () => {
    const forged = (tenant: string | null) =>
      inTenant(DEFAULT_TENANT_ID, async () => {
        await db.sql`insert into audit_log (tenant_id, actor, role, action) values (${tenant}, 'x', 'x', 'forged')`;
      });
    await expect(forged(other)).rejects.toThrow(/row-level security/);
    await expect(forged(null)).rejects.toThrow(/row-level security/);
  });

  test("the platform listing shows every tenant's rows and the platform's, newest first, filtered", async () => {
    const all = await listAuditAcrossTenants(db.sql, { limit: 100 });
    expect(all.map((r) => r.action)).toEqual(["admin.sign_in_failed", "other.action", "default.action"]);
    const one = await listAuditAcrossTenants(db.sql, { tenantId: other, limit: 100 });
    expect(one.map((r) => r.action)).toEqual(["other.action"]);
    const page = await listAuditAcrossTenants(db.sql, { beforeId: all[0]?.id, limit: 1 });
    expect(page.map((r) => r.action)).toEqual(["other.action"]);
  });
});

describe("retention", () => {
  test("the purge removes rows older than the limit only", async () => {
    await raw(db).unsafe(
      "insert into audit_log (at, tenant_id, actor, role, action) values (now() - interval '500 days', $1, 'old', 'x', 'old.action')",
      [other],
    );
    expect(await purgeAuditLog(db.sql, 400, 100)).toBe(1);
    const left = await raw(db).unsafe<{ actor: string }[]>("select actor from audit_log where actor = 'old'");
    expect(left).toEqual([]);
    expect((await listAuditAcrossTenants(db.sql, { limit: 100 })).length).toBe(3);
  });

  // PGlite has only its superuser: the owner who is not one (as on Cloud SQL) needs a server.
  test.runIf(Boolean(process.env.TEST_DATABASE_URL))(
    "it also purges when the tables' owner is not a superuser (Cloud SQL)",
    async () => {
      const server = process.env.TEST_DATABASE_URL as string;
      const admin = postgres(server, { max: 1, onnotice: () => {} });
      const schema = `audit_owner_${Date.now().toString(36)}`;
      await admin.unsafe(`do $$ begin
        if not exists (select from pg_roles where rolname = 'audit_owner_test') then
          create role audit_owner_test login nosuperuser; end if; end $$`);
      await admin.unsafe("grant switchboard_app, switchboard_platform to audit_owner_test");
      await admin.unsafe(`create schema ${schema} authorization audit_owner_test`);
      const url = new URL(server);
      url.username = "audit_owner_test";
      url.searchParams.set("search_path", schema);
      const owner = postgres(url.toString(), { max: 1, onnotice: () => {}, transform: postgres.camel });
      try {
        await migrate(owner as never);
        await admin.unsafe(
          `insert into ${schema}.audit_log (at, tenant_id, actor, role, action) values
           (now() - interval '500 days', null, 'old', 'x', 'x'),
           (now() - interval '500 days', '${DEFAULT_TENANT_ID}', 'old', 'x', 'x'),
           (now(), null, 'new', 'x', 'x')`,
        );
        expect(await purgeAuditLog(scopedSql(owner as never), 400, 100)).toBe(2);
        const left = await admin.unsafe<{ actor: string }[]>(`select actor from ${schema}.audit_log`);
        expect(left.map((r) => r.actor)).toEqual(["new"]);
        // Outside the function the owner still reads nothing (FORCE): the policy holds only while it runs.
        expect(await owner.unsafe("select * from audit_log")).toHaveLength(0);
      } finally {
        await owner.end();
        await admin.unsafe(`drop schema ${schema} cascade`);
        await admin.end();
      }
    },
  );
});
