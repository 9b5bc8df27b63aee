import type { Context } from "hono";
import { type AuditEntry, appendAudit } from "../../db/audit";
import type { Sql } from "../../db/client";
import { findTenant } from "../../db/platform";
import { inTenant } from "../../db/tenant-scope";
import { tenantUserRole } from "../../db/tenant-users";
import type { AdminPrincipal, TenantRole } from "../../domain/identity";
import type { Tenant } from "../../domain/tenant";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { recordRefusal } from "../../middleware/admin-principal";

/** The caller with the role they act in on this request. */
export interface ActingAdmin {
  actor: string;
  role: TenantRole;
}

type AdminContext = Context<AppEnv>;

function principalOf(c: AdminContext): AdminPrincipal {
  const principal = c.get("admin");
  if (!principal) throw new AppError(401, "unauthorized", "an admin credential is required");
  return principal;
}

/** The same answer for a tenant that does not exist and one the caller may not see: nothing to learn. */
const noSuchTenant = () => new AppError(404, "not_found", "No such tenant");

async function refuse(c: AdminContext, sql: Sql, reason: string, error: AppError): Promise<never> {
  await recordRefusal(c, sql, reason, principalOf(c).actor);
  throw error;
}

/** Routes over every tenant (create, list, suspend): platform admins only; anyone else gets 403. */
export async function requirePlatform(c: AdminContext, sql: Sql): Promise<ActingAdmin> {
  const principal = principalOf(c);
  if (principal.role === "platform_admin") return { actor: principal.actor, role: "platform_admin" };
  return refuse(c, sql, "not_platform_admin", new AppError(403, "forbidden", "platform admins only"));
}

/**
 * A route on one tenant: platform admins, and that tenant's own users whose role is `allowed`. A user of
 * another tenant gets 404, exactly as for a tenant that does not exist, so an id reveals nothing. The
 * tenant's users table decides a user's role when it lists them; else their token's role claim.
 */
export async function requireTenantRole(
  c: AdminContext,
  sql: Sql,
  tenantId: string,
  allowed: readonly TenantRole[],
): Promise<{ acting: ActingAdmin; tenant: Tenant }> {
  const principal = principalOf(c);
  if (principal.role !== "platform_admin" && principal.tenantId !== tenantId) {
    return refuse(c, sql, "other_tenant", noSuchTenant());
  }
  const tenant = await findTenant(sql, tenantId);
  if (!tenant) throw noSuchTenant();
  if (principal.role === "platform_admin")
    return { acting: { actor: principal.actor, role: "platform_admin" }, tenant };
  const listed = principal.subject
    ? await inTenant(tenantId, () => tenantUserRole(sql, principal.subject as string))
    : undefined;
  const role = listed ?? principal.role;
  if (!role || !allowed.includes(role)) {
    return refuse(c, sql, "role_not_allowed", new AppError(403, "forbidden", "your role may not do this"));
  }
  return { acting: { actor: principal.actor, role }, tenant };
}

/** Appends an audit row for an action in the current tenant scope, with who, from where and which request. */
export function recordAction(
  c: AdminContext,
  sql: Sql,
  acting: ActingAdmin,
  entry: Pick<AuditEntry, "action" | "target" | "summary">,
): Promise<void> {
  return appendAudit(sql, {
    ...entry,
    actor: acting.actor,
    role: acting.role,
    requestId: c.get("requestId"),
    clientAddress: c.get("clientAddress"),
  });
}
