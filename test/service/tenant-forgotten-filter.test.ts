import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sql } from "../../service/src/db/client";
import { migrate } from "../../service/src/db/migrate";
import { inTenant } from "../../service/src/db/tenant-scope";
import { testDatabase } from "./helpers";
import { modelStack, type SeededTenant, seedTenant, snapshot, tenantTables } from "./tenant-fixtures";

/**
 * Issue 12: "a query that forgets its tenant filter still returns only the current tenant's rows". Every
 * statement here names no tenant at all; row-level security alone keeps B's rows out. Also: the pool never
 * carries a tenant from one unit of work into the next.
 */

let sql: Sql;
let drop: () => Promise<void>;
let a: SeededTenant;
let b: SeededTenant;
let tables: string[];
let login: string;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  sql = t.db.sql;
  await migrate(sql);
  const stack = await modelStack(sql);
  a = await seedTenant(sql, stack, "alpha");
  b = await seedTenant(sql, stack, "bravo");
  tables = await tenantTables(sql);
  [{ login } = { login: "" }] = await sql<{ login: string }[]>`select current_user as login`;
}, 60_000);
afterAll(async () => {
  await drop?.();
});

/** Tenants of the rows `select *` with no where clause returns, per table, in the current scope. */
async function tenantsSeen(): Promise<Record<string, string[]>> {
  const seen: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = await sql<{ tenantId: string }[]>`select distinct tenant_id::text from ${sql(table)}`;
    seen[table] = rows.map((r) => r.tenantId);
  }
  return seen;
}

/** One of A's rows of `table`, re-inserted as B's: every column but the generated ones, as they were. */
async function insertAsOther(table: string, otherTenant: string) {
  const columns = (
    await sql<{ name: string }[]>`
      select attname as name from pg_attribute
      where attrelid = ${table}::regclass and attnum > 0 and not attisdropped and attgenerated = ''`
  ).map((c) => c.name);
  return sql.begin(async (tx) => {
    const [row] = await tx<
      { row: Record<string, unknown> }[]
    >`select to_jsonb(x) as row from ${tx(table)} x limit 1`;
    const moved = { ...row?.row, tenant_id: otherTenant };
    await tx`
      insert into ${tx(table)} (${tx(columns)}) overriding system value
      select ${tx(columns)} from jsonb_populate_record(null::${tx(table)}, ${tx.json(moved as never)})`;
  });
}

/** Tables the runtime role may only read and append to (the audit trail, erasure and consent records). */
const APPEND_ONLY = ["audit_log", "erasures", "sms_consent"];

describe("a query that forgets its tenant filter", () => {
  test("select * from every tenant-owned table returns the current tenant's rows only", async () => {
    const seenByA = await inTenant(a.id, tenantsSeen);
    expect(Object.keys(seenByA)).toEqual(tables);
    for (const table of tables)
      expect({ table, tenants: seenByA[table] }).toEqual({ table, tenants: [a.id] });
    expect(await inTenant(a.id, () => sql`select id::text from tenants`)).toEqual([{ id: a.id }]);
  });

  test("an insert that names another tenant fails, in every table", async () => {
    for (const table of tables) {
      const refused = await inTenant(a.id, () => insertAsOther(table, b.id)).then(
        () => "inserted",
        (e: { message: string }) => e.message,
      );
      expect({ table, refused }).toEqual({ table, refused: expect.stringContaining("row-level security") });
    }
  });

  test("an update and a delete without a filter touch the current tenant's rows only", async () => {
    const bBefore = await inTenant(b.id, () => snapshot(sql, tables));
    const counts = await inTenant(a.id, () =>
      sql.begin(async (tx) => {
        const touched: Record<string, number[]> = {};
        for (const table of tables.filter((t) => !APPEND_ONLY.includes(t))) {
          const [{ n } = { n: -1 }] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(table)}`;
          const updated = await tx`update ${tx(table)} set tenant_id = tenant_id`;
          const deleted = await tx`delete from ${tx(table)}`;
          touched[table] = [n, updated.count, deleted.count];
        }
        return touched;
      }),
    );
    for (const [table, [n, updated, deleted]] of Object.entries(counts)) {
      expect({ table, updated, deleted }).toEqual({ table, updated: n, deleted: n });
    }
    expect(await inTenant(b.id, () => snapshot(sql, tables))).toEqual(bBefore);
    // A's rows are gone now; B's are all there (the tests below need B's, and only B's).
  });

  test("moving a row to another tenant fails the policy", async () => {
    const moved = inTenant(b.id, () => sql`update sessions set tenant_id = ${a.id}`);
    await expect(moved).rejects.toThrow(/row-level security/);
  });

  test("the runtime role may neither update nor delete the audit log, erasure and consent records", async () => {
    for (const statement of [
      sql`delete from audit_log`,
      sql`update audit_log set actor = 'x'`,
      sql`delete from erasures`,
      sql`delete from sms_consent`,
      sql`update sms_consent set status = 'opted_in'`,
    ]) {
      await expect(inTenant(b.id, async () => await statement)).rejects.toThrow(/permission denied/);
    }
  });

  test("a statement handed back unawaited from the scope still runs in it", async () => {
    const [row] = await inTenant(b.id, () => sql<{ t: string }[]>`select app_tenant()::text as t`);
    expect(row?.t).toBe(b.id);
  });
});

describe("outside any scope, as a login that owns the tables but is no superuser", () => {
  test("a select sees no tenant's rows and an insert fails (FORCE row level security)", async () => {
    const seen = await sql
      .begin(async (tx) => {
        // Everything here is rolled back: the role, the ownership and the grants.
        await becomeNonSuperuserOwner(tx as never);
        const counts: Record<string, number> = {};
        for (const table of tables) {
          const [row] = await tx.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
          counts[table] = row?.n ?? -1;
        }
        const insert = await tx
          .unsafe(`savepoint s; insert into model_caches (tenant_id, key, name, model, tokens, expires_at)
                   values ('${b.id}', 'owner', 'n', 'm', 1, now())`)
          .then(
            () => "inserted",
            (e: Error) => e.message,
          );
        throw Object.assign(new Error("rollback"), { counts, insert });
      })
      .catch((e: { counts?: Record<string, number>; insert?: string }) => e);
    expect(Object.values(seen.counts ?? { none: -1 }).every((n) => n === 0)).toBe(true);
    expect(Object.keys(seen.counts ?? {})).toEqual(tables);
    expect(seen.insert).toMatch(/row-level security/);
  });
});

/**
 * On the server the test login already is what production logs in as (the tables' owner, no superuser:
 * test/service/helpers.ts); a superuser login (PGlite) becomes such an owner for the transaction.
 */
async function becomeNonSuperuserOwner(tx: Sql) {
  const [me] = await tx<{ superuser: boolean }[]>`
    select rolsuper as superuser from pg_roles where rolname = current_user`;
  if (!me?.superuser) return;
  const owner = `iso_owner_${Math.random().toString(36).slice(2, 10)}`;
  await tx.unsafe(`create role ${owner} nologin nosuperuser nobypassrls`);
  await tx.unsafe(`grant usage on schema ${await schemaName(tx)} to ${owner}`);
  for (const table of tables) await tx.unsafe(`alter table ${table} owner to ${owner}`);
  await tx.unsafe(`set local role ${owner}`);
}

async function schemaName(tx: Sql): Promise<string> {
  const [row] = await tx<{ s: string }[]>`select current_schema() as s`;
  return row?.s ?? "public";
}

describe("pooled connections never carry a tenant", () => {
  test("after a unit of work, a statement outside any scope runs as the login with no tenant set", async () => {
    for (let i = 0; i < 12; i++) {
      await inTenant(i % 2 ? a.id : b.id, () => sql`select 1`);
      await inTenant(b.id, () => sql.begin((tx) => tx`select 1`));
      const [row] = await sql<{ tenant: string | null; who: string }[]>`
        select current_setting('app.tenant_id', true) as tenant, current_user as who`;
      expect(row?.tenant ?? "").toBe("");
      expect(row?.who).toBe(login);
    }
  });

  test("200 concurrent units of A and B each see their own tenant and rows only", async () => {
    const expected = {
      [a.id]: (await inTenant(a.id, () => sql<{ n: number }[]>`select count(*)::int as n from sessions`))[0]
        ?.n,
      [b.id]: (await inTenant(b.id, () => sql<{ n: number }[]>`select count(*)::int as n from sessions`))[0]
        ?.n,
    };
    expect(expected[a.id]).not.toBe(expected[b.id]);
    const units = Array.from({ length: 200 }, (_, i) => {
      const tenant = i % 2 ? a.id : b.id;
      const unit = async () => {
        const [row] =
          i % 3 === 0
            ? await sql.begin(
                (tx) => tx<{ t: string; n: number; who: string }[]>`
                select app_tenant()::text as t, (select count(*)::int from sessions) as n, current_user as who`,
              )
            : await sql<{ t: string; n: number; who: string }[]>`
                select app_tenant()::text as t, (select count(*)::int from sessions) as n, current_user as who`;
        return { tenant, seen: row };
      };
      return inTenant(tenant, unit);
    });
    for (const { tenant, seen } of await Promise.all(units)) {
      expect(seen).toEqual({ t: tenant, n: expected[tenant], who: "switchboard_app" });
    }
  });
});
