import type { Context, MiddlewareHandler } from "hono";
import type { Sql } from "../db/client";
import { appendPlatformAudit } from "../db/platform";
import { isApiKey } from "../domain/api-key";
import type { AdminPrincipal, TenantRole } from "../domain/identity";
import type { AppEnv } from "../http/app-env";
import type { Authenticator } from "../http/auth";
import { bearerToken, sameSecret } from "../http/credentials";
import { AppError } from "../http/errors";

export interface AdminPrincipalOptions {
  /** The deployment's ADMIN_API_KEY, if any: a platform admin. */
  adminApiKey: string | undefined;
  auth: Authenticator;
  /** Where refused credentials are recorded (the audit log). */
  sql: Sql;
  /** A tenant API key (`sbk_…`) → its live key, or undefined when unknown or revoked. */
  apiKey?:
    | ((key: string) => Promise<{ id: string; tenantId: string; role: TenantRole } | undefined>)
    | undefined;
  /**
   * A console session's principal (console/session.ts): a signed-in browser calls the admin API with its
   * cookie instead of an Authorization header, echoing the session's CSRF token on every change.
   */
  console?: ((c: Context<AppEnv>) => Promise<AdminPrincipal | undefined>) | undefined;
}

/** The actor of the deployment's ADMIN_API_KEY in the audit log. */
export const API_KEY_ACTOR = "admin-api-key";

/**
 * Records a refused admin credential as `admin.sign_in_failed` (no tenant: platform scope) with the
 * client's address and the request id, and why; never the presented token.
 */
export function recordRefusal(c: Context<AppEnv>, sql: Sql, reason: string, actor = "unknown") {
  return appendPlatformAudit(sql, {
    actor,
    role: c.get("admin")?.role ?? "none",
    action: "admin.sign_in_failed",
    target: `${c.req.method} ${c.req.path}`,
    requestId: c.get("requestId"),
    clientAddress: c.get("clientAddress"),
    summary: { reason },
  });
}

/**
 * Who calls /api/v1/admin/*: `Bearer <ADMIN_API_KEY>` is a platform admin; a tenant's API key (`sbk_…`) is
 * `api-key:<id>` with the key's tenant and role; a user JWT is its subject with the role and tenant of its
 * claims (the route then checks them against the tenant in its path). No
 * credential is a 401; a presented one that is refused is a 401 too, and an audit event.
 */
export function adminPrincipal(opts: AdminPrincipalOptions): MiddlewareHandler<AppEnv> {
  const key = opts.adminApiKey;
  const refuse = async (c: Context<AppEnv>, reason: string, error?: unknown): Promise<never> => {
    await recordRefusal(c, opts.sql, reason);
    if (error instanceof AppError) throw error;
    throw new AppError(401, "unauthorized", "an admin credential is required");
  };
  return async function adminPrincipalMiddleware(c, next) {
    const authorization = c.req.header("authorization");
    if (!authorization && opts.console) {
      const signedIn = await opts.console(c);
      if (signedIn) {
        c.set("admin", signedIn);
        return next();
      }
    }
    if (!authorization) throw new AppError(401, "unauthorized", "an admin credential is required");
    const token = bearerToken(authorization);
    if (!token) return refuse(c, "malformed_authorization");
    if (key && sameSecret(token, key)) {
      c.set("admin", { actor: API_KEY_ACTOR, role: "platform_admin" });
      return next();
    }
    if (isApiKey(token)) {
      const found = await opts.apiKey?.(token);
      if (!found) return refuse(c, "invalid_api_key");
      c.set("admin", { actor: `api-key:${found.id}`, role: found.role, tenantId: found.tenantId });
      return next();
    }
    const identity = await opts.auth
      .identify(authorization)
      .catch((e: unknown) => refuse(c, "invalid_token", e));
    if (identity?.kind !== "user" || !identity.subject) return refuse(c, "not_a_user_token");
    c.set("identity", identity);
    c.set("admin", {
      actor: identity.subject,
      subject: identity.subject,
      ...(identity.role ? { role: identity.role } : {}),
      ...(identity.tenantId ? { tenantId: identity.tenantId } : {}),
    });
    return next();
  };
}
