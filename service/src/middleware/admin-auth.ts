import type { MiddlewareHandler } from "hono";
import type { Identity } from "../domain/identity";
import type { AppEnv } from "../http/app-env";
import type { Authenticator } from "../http/auth";
import { bearerToken, sameSecret } from "../http/credentials";
import { AppError } from "../http/errors";

export interface AdminAuthOptions {
  /** The deployment's ADMIN_API_KEY, if any. */
  adminApiKey: string | undefined;
  auth: Authenticator;
}

/**
 * `admin` (with the user's identity when a JWT carried the role; none for the API key), a valid identity
 * that is not an admin, or no valid credential at all (with the reason a presented token was refused).
 */
export type AdminCheck =
  | { kind: "admin"; identity?: Identity }
  | { kind: "not_admin"; identity: Identity }
  | { kind: "none"; refused?: unknown };

/** An admin credential is the deployment's ADMIN_API_KEY, or a user JWT carrying the admin role. */
export function adminCheck(
  opts: AdminAuthOptions,
): (authorization: string | undefined) => Promise<AdminCheck> {
  const key = opts.adminApiKey;
  return async function checkAdmin(authorization) {
    const token = bearerToken(authorization);
    if (!token) return { kind: "none" };
    if (key && sameSecret(token, key)) return { kind: "admin" };
    let identity: Identity | undefined;
    try {
      identity = await opts.auth.identify(authorization);
    } catch (refused) {
      return { kind: "none", refused };
    }
    if (!identity) return { kind: "none" };
    return identity.admin ? { kind: "admin", identity } : { kind: "not_admin", identity };
  };
}

/**
 * 401 without a valid credential (`invalid_token` saying why when a presented token failed verification:
 * expired, no `exp`, wrong issuer), 403 for a valid identity that is not an admin. An admin user's identity
 * is put on the context: who acted, for the records that name the actor.
 */
export function requireAdmin(opts: AdminAuthOptions): MiddlewareHandler<AppEnv> {
  const check = adminCheck(opts);
  return async function requireAdminMiddleware(c, next) {
    const result = await check(c.req.header("authorization"));
    if (result.kind === "none") {
      if (result.refused instanceof AppError) throw result.refused;
      throw new AppError(401, "unauthorized", "an admin credential is required");
    }
    if (result.kind === "not_admin") throw new AppError(403, "forbidden", "this identity is not an admin");
    if (result.identity) c.set("identity", result.identity);
    return next();
  };
}
