import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { timeout } from "hono/timeout";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./app-env";
import type { Authenticator } from "./auth";
import { isDatabaseUnavailable } from "./db/client";
import { AppError, type ErrorBody } from "./errors";
import type { Logger } from "./logger";
import { bodyDeadline } from "./middleware/body-deadline";
import { clientAddress } from "./middleware/client-address";
import { privilegedCaller } from "./middleware/privileged-caller";
import { requestContext } from "./middleware/request-context";
import { securityHeaders } from "./middleware/security-headers";
import { type ServiceRole, serviceRole } from "./middleware/service-role";
import { type ChatRoutesDeps, chatRoutes, validationHook } from "./routes/chat";
import { type HealthDeps, healthRoutes } from "./routes/health";
import { type IntercomWebhookDeps, intercomWebhookRoutes } from "./routes/intercom";
import { type IntercomAdminDeps, intercomAdminRoutes } from "./routes/intercom-admin";
import { type InternalDeps, internalRoutes } from "./routes/internal";
import { widgetRoutes } from "./routes/widget";

export interface AppDeps {
  log: Logger;
  auth: Authenticator;
  chat: Omit<ChatRoutesDeps, "auth">;
  health: HealthDeps;
  intercom: {
    webhook: IntercomWebhookDeps;
    internal: InternalDeps;
    admin: Omit<IntercomAdminDeps, "auth">;
  };
  bodyLimitBytes: number;
  /** A request still unanswered after this gets a 503 instead of hanging (streams are not cut). */
  requestTimeoutMs?: number;
  /** A request body still incomplete this long after the headers gets 408 and a closed connection. */
  bodyTimeoutMs?: number;
  /** Origins whose pages may call /api/* from a browser (the chat widget); none by default. */
  corsOrigins?: readonly string[];
  /** Intercom notifications carry whole conversations: a larger limit of their own. */
  webhookBodyLimitBytes: number;
  googleCloudProject?: string | undefined;
  /** Proxies in front of the service that append to X-Forwarded-For (see the client-address middleware). */
  trustedProxyHops?: number;
  /** The service's public URL (PUBLIC_URL): https there means HSTS on every response. */
  publicUrl?: string | undefined;
  /** Which part of the surface this process serves. @default "all" */
  role?: ServiceRole;
}

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  503: "unavailable",
};

/** The whole HTTP surface; no I/O of its own, so tests build it with in-memory or emulator-backed deps. */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const role = deps.role ?? "all";
  // First, so every answer carries them, the uniform errors included.
  app.use("*", securityHeaders({ publicUrl: deps.publicUrl }));
  app.use("*", requestContext({ log: deps.log, googleCloudProject: deps.googleCloudProject }));
  app.use("*", serviceRole(role));
  app.use("*", clientAddress({ trustedProxyHops: deps.trustedProxyHops }));
  if (deps.requestTimeoutMs) {
    const ms = deps.requestTimeoutMs;
    app.use(
      "*",
      timeout(
        ms,
        () =>
          new AppError(503, "request_timeout", "The request took too long; please retry.", {
            headers: { "Retry-After": "2" },
          }),
      ),
    );
  }
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError(413, "payload_too_large", `The request body is larger than ${maxSize} bytes`);
      },
    });
  const apiLimit = limit(deps.bodyLimitBytes);
  const webhookLimit = limit(deps.webhookBodyLimitBytes);
  app.use("*", async function sizeLimit(c, next) {
    return (c.req.path.startsWith("/webhooks/") ? webhookLimit : apiLimit)(c, next);
  });
  if (deps.bodyTimeoutMs) app.use("*", bodyDeadline(deps.bodyTimeoutMs));
  if (deps.corsOrigins?.length) {
    const allowed = new Set(deps.corsOrigins);
    app.use(
      "/api/*",
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowHeaders: ["Content-Type", "Authorization", "X-Request-Id"],
        allowMethods: ["GET", "POST", "OPTIONS"],
        exposeHeaders: ["X-Request-Id", "Retry-After"],
        maxAge: 600,
      }),
    );
  }
  // JSON bodies must be valid UTF-8: a decoder that silently replaces bad bytes would store and answer
  // text the sender never wrote. (Hono caches the body, so the validators read it again afterwards.)
  const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
  app.use("*", async function requireUtf8(c, next) {
    if (
      c.req.method !== "GET" &&
      /\bjson\b/i.test(c.req.header("content-type") ?? "") &&
      !c.req.path.startsWith("/webhooks/")
    ) {
      // Read outside the try: a body over the limit must stay a 413.
      const body = await c.req.arrayBuffer();
      try {
        strictUtf8.decode(body);
      } catch {
        throw new AppError(400, "invalid_encoding", "The request body is not valid UTF-8");
      }
    }
    await next();
  });
  app.use("/api/*", async function identify(c, next) {
    // Readiness identifies no one (and must not 401 an operator's ADMIN_API_KEY): it decides what to show.
    if (c.req.path === "/api/v1/health") return next();
    c.set("identity", await deps.auth.identify(c.req.header("authorization")));
    await next();
  });

  const privileged = privilegedCaller({
    admin: { adminApiKey: deps.intercom.admin.adminApiKey, auth: deps.auth },
    internal: deps.intercom.internal.auth,
  });
  // The worker has internal ingress only: whoever reaches it is inside the project.
  const mayShowDetails = role === "worker" ? async () => true : privileged;
  app.route("/", healthRoutes({ ...deps.health, mayShowDetails }));
  app.route("/", chatRoutes({ ...deps.chat, auth: deps.auth }));
  app.route("/", intercomWebhookRoutes(deps.intercom.webhook));
  app.route("/", internalRoutes(deps.intercom.internal));
  app.route("/", intercomAdminRoutes({ ...deps.intercom.admin, auth: deps.auth }));
  app.route("/", widgetRoutes());

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Switchboard",
      version: deps.health.version,
      description: "Chat endpoint, Intercom bridge and health of the Switchboard service.",
    },
  });

  app.notFound((c) => {
    const body: ErrorBody = {
      error: {
        code: "not_found",
        message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}`,
        requestId: c.get("requestId"),
      },
    };
    return c.json(body, 404);
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    if (err instanceof AppError) {
      for (const [name, value] of Object.entries(err.extra.headers ?? {})) c.header(name, value);
      const body: ErrorBody = {
        error: {
          code: err.code,
          message: err.message,
          requestId,
          ...(err.extra.details !== undefined ? { details: err.extra.details } : {}),
        },
      };
      return c.json(body, err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      const malformed = status === 400 && /malformed json|unexpected|json/i.test(err.message);
      const body: ErrorBody = {
        error: {
          code: malformed ? "invalid_json" : (CODES[status] ?? "error"),
          message: malformed ? "The request body is not valid JSON" : err.message || "Request failed",
          requestId,
        },
      };
      return c.json(body, status);
    }
    if (isDatabaseUnavailable(err)) {
      // A restart or failover of the database: tell the client to come back, rather than a bare 500.
      (c.get("log") ?? deps.log).warn({ event: "database.unavailable", error: err }, "database unavailable");
      c.header("Retry-After", "2");
      const body: ErrorBody = {
        error: {
          code: "database_unavailable",
          message: "The service is briefly unavailable; please retry.",
          requestId,
        },
      };
      return c.json(body, 503);
    }
    // `context` is Error Reporting's ErrorContext: the request the error happened in (path only).
    const httpRequest = { method: c.req.method, url: new URL(c.req.url).pathname, responseStatusCode: 500 };
    (c.get("log") ?? deps.log).error({ error: err, context: { httpRequest } }, "unhandled error");
    const body: ErrorBody = {
      error: { code: "internal_error", message: "Something went wrong on our side.", requestId },
    };
    return c.json(body, 500);
  });

  return app;
}
