import type { Tenant, TenantSettings } from "../domain/tenant";
import type { Sql } from "./client";
import { tenantColumns } from "./platform";

/** The current tenant's own row (its scope lets it see no other). */
export async function currentTenant(sql: Sql): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`select ${tenantColumns(sql)} from tenants where id = app_tenant()`;
  return row;
}

/** Replaces the current tenant's settings (validated by the caller as a whole). */
export async function saveTenantSettings(sql: Sql, settings: TenantSettings): Promise<Tenant | undefined> {
  const [row] = await sql<Tenant[]>`
    update tenants set settings = ${sql.json(settings as never)}, updated_at = now()
    where id = app_tenant()
    returning ${tenantColumns(sql)}`;
  return row;
}
