import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../http/errors";

/** The widget's header naming its tenant by the widget's public key. */
export const TENANT_HEADER = "X-Switchboard-Tenant";

/** The routes a widget calls: each runs for the tenant of the request (middleware/tenant.ts). */
export function isTenantRoute(path: string): boolean {
  return path === "/api/v1/chat" || path === "/api/v1/widget/config" || path.startsWith("/api/v1/sessions/");
}

/**
 * A browser's preflight of a tenant route, answered for any origin. The preflight does not carry the
 * X-Switchboard-Tenant value, so the tenant (and its allowed origins) is unknown here; the request
 * itself is checked once it is (`corsAllows`), before any work. Nothing but the permission to send the
 * request is granted: no cookies are used (`Allow-Credentials` is never sent). See docs/widget.md.
 */
export function tenantPreflight(): MiddlewareHandler {
  return async function tenantPreflightMiddleware(c, next) {
    const origin = c.req.header("origin");
    if (c.req.method !== "OPTIONS" || !origin || !isTenantRoute(c.req.path)) return next();
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    c.header("Access-Control-Allow-Headers", `Content-Type, Authorization, X-Request-Id, ${TENANT_HEADER}`);
    c.header("Access-Control-Max-Age", "600");
    c.header("Vary", "Origin");
    return c.body(null, 204);
  };
}

/** The service's own pages (the demo page) call it same-origin: browsers still send `Origin` on a POST. */
function isOwnOrigin(c: Context, origin: string): boolean {
  try {
    return new URL(origin).host === new URL(c.req.url).host;
  } catch {
    return false;
  }
}

/**
 * Whether the page that sent this request may read the answer: yes for an origin in `allowed` (the
 * answer then carries `Access-Control-Allow-Origin`), for the service's own pages, and for a request
 * without `Origin` (server to server, curl: not a browser's cross-origin call).
 */
export function corsAllows(c: Context, allowed: readonly string[]): boolean {
  c.header("Vary", "Origin", { append: true });
  const origin = c.req.header("origin");
  if (!origin || isOwnOrigin(c, origin)) return true;
  if (!allowed.includes(origin)) return false;
  c.header("Access-Control-Allow-Origin", origin);
  c.header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
  return true;
}

/** A page the tenant does not allow: refused before any work, and without CORS headers it cannot read why. */
export function originNotAllowed(c: Context): AppError {
  return new AppError(403, "origin_not_allowed", `Pages on ${c.req.header("origin")} may not use this chat`);
}
