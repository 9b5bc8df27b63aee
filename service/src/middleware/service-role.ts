import type { MiddlewareHandler } from "hono";
import { AppError } from "../http/errors";

/**
 * `all`: one process serves everything (local, and a single Cloud Run service). `public`: the
 * internet-facing service, everything except `/internal/*`. `worker`: the internal-ingress service that
 * Cloud Tasks and Cloud Scheduler call, `/internal/*` and the two health endpoints only.
 */
export type ServiceRole = "all" | "public" | "worker";

const HEALTH_PATHS = new Set(["/healthz", "/api/v1/health"]);
const isInternal = (path: string) => path === "/internal" || path.startsWith("/internal/");

export function servesPath(role: ServiceRole, path: string): boolean {
  if (role === "all") return true;
  if (role === "public") return !isInternal(path);
  return isInternal(path) || HEALTH_PATHS.has(path);
}

/**
 * Answers 404 (the uniform body, as for any unknown route) before anything else runs for a path this role
 * does not serve, so no body is read, no credential checked and no route mounted by anyone can leak
 * through. `c.req.path` is the decoded path the router matches, so `/%69nternal/…` is caught too.
 */
export function serviceRole(role: ServiceRole): MiddlewareHandler {
  return async function serviceRoleMiddleware(c, next) {
    if (!servesPath(role, c.req.path)) {
      throw new AppError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`);
    }
    await next();
  };
}
