import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/app-env";
import { type Logger, traceFields } from "../logger";

export interface RequestContextOptions {
  log: Logger;
  googleCloudProject?: string | undefined;
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A request id (the caller's X-Request-Id when it looks sane), a child logger carrying it and the Cloud
 * Trace fields, and one access-log line per request in Cloud Logging's httpRequest format. The line also
 * carries what a route put in `logFields` (a chat turn's conversation.processed), so a turn costs one
 * line, not two; for a streamed response it is written when the stream ends (`streamDone`).
 */
export function requestContext(opts: RequestContextOptions): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    const trace = traceFields(
      { cloudTrace: c.req.header("x-cloud-trace-context"), traceparent: c.req.header("traceparent") },
      opts.googleCloudProject,
    );
    const log = opts.log.child({ requestId, ...trace });
    c.set("requestId", requestId);
    c.set("log", log);
    c.header("X-Request-Id", requestId);
    await next();
    const streamDone = c.get("streamDone");
    if (!streamDone) return requestLine(c, log, started);
    // Not awaited: the response (the stream) is returned now; the line follows when the stream ends.
    void streamDone.finally(() => requestLine(c, log, started));
  };
}

function requestLine(c: Context<AppEnv>, log: Logger, started: number): void {
  const status = c.res.status;
  const path = new URL(c.req.url).pathname;
  log[status >= 500 ? "error" : status >= 400 ? "warn" : "info"](
    {
      ...c.get("logFields"),
      httpRequest: {
        requestMethod: c.req.method,
        // Path only: query strings may carry tokens.
        requestUrl: path,
        status,
        latency: `${((performance.now() - started) / 1000).toFixed(3)}s`,
        userAgent: c.req.header("user-agent"),
        // Resolved by the client-address middleware: the leftmost X-Forwarded-For entry is whatever the
        // client wrote there.
        remoteIp: c.get("clientAddress"),
        protocol: "HTTP/1.1",
      },
    },
    `${c.req.method} ${path} ${status}`,
  );
}
