import type { Context } from "hono";
import { type AdminAuthOptions, adminCheck } from "./admin-auth";
import { type InternalAuthOptions, internalCallerCheck } from "./internal-auth";

/**
 * Whether the caller holds an admin credential (ADMIN_API_KEY or an admin user JWT) or an internal one
 * (the invoker's Google OIDC token, or the local shared secret): for responses that show operators more
 * than the public may see. Never throws; a caller without any credential costs no verification.
 */
export function privilegedCaller(opts: { admin: AdminAuthOptions; internal: InternalAuthOptions }) {
  const admin = adminCheck(opts.admin);
  const internal = internalCallerCheck(opts.internal);
  return async function isPrivilegedCaller(c: Context): Promise<boolean> {
    const authorization = c.req.header("authorization");
    const internalToken = c.req.header("x-internal-token");
    if (!authorization && !internalToken) return false;
    if ((await admin(authorization)).kind === "admin") return true;
    return internal(authorization, internalToken).then(
      () => true,
      () => false,
    );
  };
}
