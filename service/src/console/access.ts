import type { Context } from "hono";
import type { Sql } from "../db/client";
import { setConsoleTenant } from "../db/platform-console";
import type { ConsoleViewer, TenantRole } from "../domain/identity";
import type { Tenant } from "../domain/tenant";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../http/errors";
import { type ActingAdmin, requirePlatform, requireTenantRole } from "../routes/admin/access";
import { principalOf } from "./session";

/** Every role that may open a tenant's console (agents' pages). */
export const ANY_ROLE: readonly TenantRole[] = ["platform_admin", "tenant_admin", "agent"];
/** The tenant admins' pages (assistant, knowledge, channels, users, …). */
export const ADMIN_ROLES: readonly TenantRole[] = ["platform_admin", "tenant_admin"];

/** The signed-in person of a console page (the console's middleware refused everyone else already). */
export function viewerOf(c: Context<AppEnv>): ConsoleViewer {
  const viewer = c.get("console");
  if (!viewer) throw new AppError(401, "unauthorized", "sign in to use the console");
  return viewer;
}

/**
 * A console page of one tenant goes through the admin API's own authorization (routes/admin/access.ts):
 * a person of another tenant gets the same 404 as for a tenant that does not exist, a role not allowed a
 * 403, and refusals are audited. Opening a tenant also makes it the session's current one (the switch).
 */
export async function consoleTenant(
  c: Context<AppEnv>,
  sql: Sql,
  tenantId: string,
  allowed: readonly TenantRole[],
): Promise<{ tenant: Tenant; acting: ActingAdmin }> {
  const viewer = viewerOf(c);
  c.set("admin", principalOf(viewer, tenantId));
  const granted = await requireTenantRole(c, sql, tenantId, allowed);
  if (viewer.currentTenantId !== tenantId) {
    await setConsoleTenant(sql, viewer.sessionId, tenantId);
    viewer.currentTenantId = tenantId;
  }
  return granted;
}

/** A platform page (all tenants, the platform audit log): platform admins only. */
export async function consolePlatform(c: Context<AppEnv>, sql: Sql): Promise<ActingAdmin> {
  c.set("admin", principalOf(viewerOf(c)));
  return requirePlatform(c, sql);
}
