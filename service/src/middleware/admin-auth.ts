import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth";
import { AppError } from "../errors";

export interface AdminAuthOptions {
  /** The deployment's ADMIN_API_KEY, if any. */
  adminApiKey: string | undefined;
  auth: Authenticator;
}

/** `admin`, a valid identity that is not an admin, or no valid credential at all. */
export type AdminCheck = "admin" | "not_admin" | "none";

/** An admin credential is the deployment's ADMIN_API_KEY, or a user JWT carrying the admin role. */
export function adminCheck(
  opts: AdminAuthOptions,
): (authorization: string | undefined) => Promise<AdminCheck> {
  const key = opts.adminApiKey ? Buffer.from(opts.adminApiKey) : undefined;
  return async function checkAdmin(authorization) {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) return "none";
    const given = Buffer.from(token);
    if (key && given.length === key.length && timingSafeEqual(given, key)) return "admin";
    const identity = await opts.auth.identify(authorization).catch(() => undefined);
    if (!identity) return "none";
    return identity.admin ? "admin" : "not_admin";
  };
}

/** 401 without a valid credential, 403 for a valid identity that is not an admin. */
export function requireAdmin(opts: AdminAuthOptions): MiddlewareHandler {
  const check = adminCheck(opts);
  return async function requireAdminMiddleware(c, next) {
    const result = await check(c.req.header("authorization"));
    if (result === "none") throw new AppError(401, "unauthorized", "an admin credential is required");
    if (result === "not_admin") throw new AppError(403, "forbidden", "this identity is not an admin");
    return next();
  };
}
