import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { testDatabase } from "./helpers";

/**
 * The schema keeps tenants apart, whatever a later migration adds: every table with a `tenant_id` column
 * has row-level security enabled and forced and a policy, and the runtime roles can bypass none of it.
 */

let sql: Sql;
let drop: () => Promise<void>;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  sql = t.db.sql;
  await migrate(sql);
});
afterAll(async () => {
  await drop?.();
});

/** Tables of this schema with `tenant_id` (and `tenants` itself) that lack RLS, FORCE or a policy. */
async function unprotectedTables(db: Sql): Promise<string[]> {
  const rows = await db<{ name: string }[]>`
    select c.relname as name from pg_class c
    where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
      and (c.relname = 'tenants' or exists (
        select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped))
      and not (c.relrowsecurity and c.relforcerowsecurity and exists (
        select 1 from pg_policy p where p.polrelid = c.oid))
    order by c.relname`;
  return rows.map((r) => r.name);
}

describe("row-level security in the schema", () => {
  test("every tenant-owned table has RLS enabled, forced, and a policy", async () => {
    expect(await unprotectedTables(sql)).toEqual([]);
  });

  test("a new table with tenant_id and no RLS is caught", async () => {
    const caught = await sql
      .begin(async (tx) => {
        await tx`create table tenant_notes (tenant_id uuid not null, body text)`;
        const found = await unprotectedTables(tx as unknown as Sql);
        throw Object.assign(new Error("rollback"), { found });
      })
      .catch((e: { found?: string[] }) => e.found);
    expect(caught).toEqual(["tenant_notes"]);
  });

  test("every policy reads the unit's tenant (app_tenant()), none lets everyone through", async () => {
    const policies = await sql<{ table: string; using: string; check: string | null }[]>`
      select c.relname as table, pg_get_expr(p.polqual, p.polrelid) as using,
             pg_get_expr(p.polwithcheck, p.polrelid) as check
      from pg_policy p join pg_class c on c.oid = p.polrelid
      where c.relnamespace = current_schema()::regnamespace and p.polname = 'tenant_isolation'`;
    expect(policies.length).toBeGreaterThanOrEqual(17);
    for (const p of policies) {
      expect({ table: p.table, using: p.using }).toEqual({
        table: p.table,
        using: expect.stringContaining("app_tenant()"),
      });
      expect({ table: p.table, check: p.check }).toEqual({
        table: p.table,
        check: expect.stringContaining("app_tenant()"),
      });
    }
  });

  test("the runtime roles are no superuser, cannot bypass RLS and own no table", async () => {
    const roles = await sql<{ name: string; superuser: boolean; bypass: boolean; owned: number }[]>`
      select r.rolname as name, r.rolsuper as superuser, r.rolbypassrls as bypass,
             (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
      from pg_roles r where r.rolname in ('switchboard_app', 'switchboard_platform') order by r.rolname`;
    expect(roles).toEqual([
      { name: "switchboard_app", superuser: false, bypass: false, owned: 0 },
      { name: "switchboard_platform", superuser: false, bypass: false, owned: 0 },
    ]);
  });
});
