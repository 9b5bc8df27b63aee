import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { timeout } from "hono/timeout";
import type { Logger } from "../logger";
import { bodyDeadline } from "../middleware/body-deadline";
import { clientAddress } from "../middleware/client-address";
import { requestContext } from "../middleware/request-context";
import { securityHeaders } from "../middleware/security-headers";
import { type ServiceRole, serviceRole } from "../middleware/service-role";
import { type TenantLookup, tenantScope } from "../middleware/tenant";
import { isTenantRoute, tenantPreflight } from "../middleware/tenant-cors";
import type { AppEnv } from "./app-env";
import type { Authenticator } from "./auth";
import { AppError } from "./errors";

export interface MiddlewareOptions {
  log: Logger;
  auth: Authenticator;
  role: ServiceRole;
  bodyLimitBytes: number;
  /** Intercom notifications carry whole conversations: a larger limit of their own. */
  webhookBodyLimitBytes: number;
  /**
   * Knowledge documents put through the admin API: their own, larger limit (the route refuses a body
   * over KNOWLEDGE_DOCUMENT_MAX_BYTES itself; this leaves room for JSON's escaping). @default bodyLimitBytes
   */
  documentBodyLimitBytes?: number | undefined;
  /** A request still unanswered after this gets a 503 instead of hanging (streams are not cut). */
  requestTimeoutMs?: number | undefined;
  /** A request body still incomplete this long after the headers gets 408 and a closed connection. */
  bodyTimeoutMs?: number | undefined;
  /** Tenants by id and widget key: web chat runs for the tenant of each request. */
  tenants: TenantLookup;
  /**
   * Origins whose pages may call /api/* from a browser; none by default. For the chat routes, a tenant's
   * own `widget.allowedOrigins` replace them.
   */
  corsOrigins?: readonly string[] | undefined;
  googleCloudProject?: string | undefined;
  /** Proxies in front of the service that append to X-Forwarded-For (see the client-address middleware). */
  trustedProxyHops?: number | undefined;
  /** The service's public URL (PUBLIC_URL): https there means HSTS on every response. */
  publicUrl?: string | undefined;
}

const isWebhook = (path: string) => path.startsWith("/webhooks/");
const isKnowledgeUpload = (path: string) => /^\/api\/v1\/admin\/tenants\/[^/]+\/knowledge\/[^/]+$/.test(path);
const isAdminApi = (path: string) => path === "/api/v1/admin" || path.startsWith("/api/v1/admin/");

/** Every request passes these, in this order, before any route. */
export function applyMiddleware(app: OpenAPIHono<AppEnv>, opts: MiddlewareOptions): void {
  // First, so every answer carries them, the uniform errors included.
  app.use("*", securityHeaders({ publicUrl: opts.publicUrl }));
  app.use("*", requestContext({ log: opts.log, googleCloudProject: opts.googleCloudProject }));
  app.use("*", serviceRole(opts.role));
  app.use("*", clientAddress({ trustedProxyHops: opts.trustedProxyHops }));
  if (opts.requestTimeoutMs) app.use("*", requestTimeout(opts.requestTimeoutMs));
  app.use("*", sizeLimit(opts.bodyLimitBytes, opts.webhookBodyLimitBytes, opts.documentBodyLimitBytes));
  if (opts.bodyTimeoutMs) app.use("*", bodyDeadline(opts.bodyTimeoutMs));
  app.use("/api/*", tenantPreflight());
  if (opts.corsOrigins?.length) app.use("/api/*", apiCors(opts.corsOrigins));
  app.use("*", requireUtf8());
  app.use("/api/*", identify(opts.auth));
  // The chat routes identify the caller as part of picking their tenant.
  const scope = tenantScope({ tenants: opts.tenants, auth: opts.auth, corsOrigins: opts.corsOrigins ?? [] });
  app.use("/api/*", async function tenantRoutesMiddleware(c, next) {
    return isTenantRoute(c.req.path) ? scope(c, next) : next();
  });
}

function requestTimeout(ms: number): MiddlewareHandler {
  return timeout(
    ms,
    () =>
      new AppError(503, "request_timeout", "The request took too long; please retry.", {
        headers: { "Retry-After": "2" },
      }),
  );
}

function sizeLimit(apiBytes: number, webhookBytes: number, documentBytes = apiBytes): MiddlewareHandler {
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError(413, "payload_too_large", `The request body is larger than ${maxSize} bytes`);
      },
    });
  const api = limit(apiBytes);
  const webhook = limit(webhookBytes);
  const document = limit(documentBytes);
  return async function sizeLimitMiddleware(c, next) {
    if (isKnowledgeUpload(c.req.path)) return document(c, next);
    return (isWebhook(c.req.path) ? webhook : api)(c, next);
  };
}

/** CORS of the /api/* routes other than the chat routes, whose origins are their tenant's (middleware/tenant.ts). */
function apiCors(origins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(origins);
  const deployment = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowHeaders: ["Content-Type", "Authorization", "X-Request-Id"],
    allowMethods: ["GET", "POST", "OPTIONS"],
    exposeHeaders: ["X-Request-Id", "Retry-After"],
    maxAge: 600,
  });
  return async function apiCorsMiddleware(c, next) {
    return isTenantRoute(c.req.path) ? next() : deployment(c, next);
  };
}

/**
 * JSON bodies must be valid UTF-8: a decoder that silently replaces bad bytes would store and answer text
 * the sender never wrote. The text decoded here goes into Hono's body cache, so the JSON validator
 * (`c.req.json()`) parses it without decoding the bytes again. Webhooks verify their signature on the
 * raw bytes first.
 */
function requireUtf8(): MiddlewareHandler {
  const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
  const JSON_TYPE = /\bjson\b/i;
  return async function requireUtf8Middleware(c, next) {
    if (
      c.req.method !== "GET" &&
      JSON_TYPE.test(c.req.header("content-type") ?? "") &&
      !isWebhook(c.req.path)
    ) {
      // Read outside the try: a body over the limit must stay a 413.
      const body = await c.req.arrayBuffer();
      let text: string;
      try {
        text = strictUtf8.decode(body);
      } catch {
        throw new AppError(400, "invalid_encoding", "The request body is not valid UTF-8");
      }
      // Hono keeps a promise per body type (its .d.ts says the value): c.req.text()/json() resolve this.
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    }
    await next();
  };
}

function identify(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async function identifyMiddleware(c, next) {
    // Readiness identifies no one (and must not 401 an operator's ADMIN_API_KEY): it decides what to show.
    // Chat routes identify inside the tenant middleware; the admin API identifies its callers itself
    // (middleware/admin-principal.ts), the API key included.
    if (c.req.path === "/api/v1/health" || isTenantRoute(c.req.path) || isAdminApi(c.req.path)) return next();
    c.set("identity", await auth.identify(c.req.header("authorization")));
    await next();
  };
}
