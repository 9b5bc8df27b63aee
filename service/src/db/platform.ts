import { randomBytes } from "node:crypto";
import type { Tenant, TenantSettings } from "../domain/tenant";
import { type AuditEntry, type AuditFilter, appendAudit, listAudit } from "./audit";
import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * The named cross-tenant functions: the only statements that run as `switchboard_platform`, which the
 * row-level-security policies let see every tenant's rows. Each is small and covered by
 * test/service/tenant-isolation.test.ts; anything else runs in one tenant's scope.
 */

/** The columns of a `Tenant`, as a fragment. */
export const tenantColumns = (sql: Sql) =>
  sql`id, slug, name, status, settings, widget_key, knowledge_version, created_at, updated_at`;

/** A widget public key: `pk_` and 24 random base64url characters. Public (it is in the embed snippet). */
export function newWidgetKey(): string {
  return `pk_${randomBytes(18).toString("base64url")}`;
}

export function createTenant(sql: Sql, input: { slug: string; name: string; settings?: TenantSettings }) {
  return asPlatform(async () => {
    const [row] = await sql<Tenant[]>`
      insert into tenants (slug, name, settings, widget_key)
      values (${input.slug}, ${input.name}, ${sql.json((input.settings ?? {}) as never)}, ${newWidgetKey()})
      returning ${tenantColumns(sql)}`;
    return row as Tenant;
  });
}

export function listTenants(sql: Sql, page: { limit: number; afterSlug?: string | undefined }) {
  // Awaited inside the scope: a query returned unawaited would run when awaited, outside it.
  return asPlatform(
    async () =>
      await sql<Tenant[]>`
      select ${tenantColumns(sql)} from tenants
      where slug > ${page.afterSlug ?? ""} order by slug limit ${page.limit}`,
  );
}

export function findTenant(sql: Sql, id: string): Promise<Tenant | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<Tenant[]>`select ${tenantColumns(sql)} from tenants where id = ${id}`;
    return row;
  });
}

/** Routes web chat: the tenant whose widget key this is. */
export function findTenantByWidgetKey(sql: Sql, widgetKey: string): Promise<Tenant | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<Tenant[]>`
      select ${tenantColumns(sql)} from tenants where widget_key = ${widgetKey}`;
    return row;
  });
}

/** Name and status changes by a platform admin; settings change in the tenant's own scope. */
export function updateTenant(
  sql: Sql,
  id: string,
  change: { name?: string | undefined; status?: Tenant["status"] | undefined },
): Promise<Tenant | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<Tenant[]>`
      update tenants set
        name = coalesce(${change.name ?? null}, name),
        status = coalesce(${change.status ?? null}, status),
        updated_at = now()
      where id = ${id}
      returning ${tenantColumns(sql)}`;
    return row;
  });
}

/** A new widget key (the old one stops routing at once): for a key pasted somewhere it should not be. */
export function rotateWidgetKey(sql: Sql, id: string): Promise<Tenant | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<Tenant[]>`
      update tenants set widget_key = ${newWidgetKey()}, updated_at = now() where id = ${id}
      returning ${tenantColumns(sql)}`;
    return row;
  });
}

/** An audit row of no tenant: a failed admin sign-in, or a platform admin's action on no one tenant. */
export function appendPlatformAudit(sql: Sql, entry: AuditEntry): Promise<void> {
  return asPlatform(() => appendAudit(sql, entry));
}

/** The audit log across tenants (platform admins), rows of no tenant included unless a tenant is named. */
export function listAuditAcrossTenants(sql: Sql, filter: AuditFilter) {
  return asPlatform(() => listAudit(sql, filter));
}
