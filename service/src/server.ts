import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Config } from "./config";
import { onClientError, serverOptions } from "./http/node-server";
import type { Logger } from "./logger";

export type Server = ReturnType<typeof serve>;

/** Serves `fetch` on the configured host and port; resolves once it listens. */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Config,
  log: Logger,
): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve(
      {
        fetch,
        port: config.PORT,
        hostname: config.HOST,
        serverOptions: serverOptions({
          headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
          bodyMs: config.HTTP_BODY_TIMEOUT_MS,
          keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        }),
      },
      () => resolve(s),
    );
  });
  server.on("clientError", onClientError(log));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Stops accepting; in-flight requests and SSE streams run to completion, for at most `timeoutMs`, after
 * which the connections still open are closed.
 */
export async function drain(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  // Kept-alive sockets would carry new requests into a draining process: close each one as soon
  // as its in-flight response is done.
  const idleSweep = setInterval(() => {
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  }, 50);
  if ("closeIdleConnections" in server) server.closeIdleConnections();
  const deadline = new Promise<"timeout">((resolve) => setTimeout(resolve, timeoutMs, "timeout").unref());
  if ((await Promise.race([drained, deadline])) === "timeout") {
    log.warn({ event: "service.shutdown_timeout" }, "in-flight requests did not finish in time");
    if ("closeAllConnections" in server) server.closeAllConnections();
  }
  clearInterval(idleSweep);
}

/**
 * The real process only: SIGTERM/SIGINT drain and exit (0, or 1 when shutting down failed), and an
 * uncaught exception ends the process, except the one postgres.js driver error that is known to be
 * harmless.
 */
export function exitOnSignals(close: () => Promise<void>, log: Logger): void {
  process.on("uncaughtException", (error) => {
    // postgres.js 3.4 can write to a socket it already dropped when a backend dies (a restart or
    // failover) and throws outside any promise: porsager/postgres#1154, #1208. The connection
    // reconnects by itself and the stuck request ends at REQUEST_TIMEOUT_MS, so keep serving. Anything
    // else is a bug we do not understand: exit, and Cloud Run starts a fresh instance.
    if (error instanceof TypeError && /postgres[\\/]src[\\/]connection\.js/.test(error.stack ?? "")) {
      log.warn({ event: "database.driver_error", error }, "postgres driver error after a lost connection");
      return;
    }
    log.fatal({ event: "service.crashed", error }, "uncaught exception");
    process.exit(1);
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      // Cloud Run sends SIGKILL 10 s after SIGTERM.
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ error }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}
