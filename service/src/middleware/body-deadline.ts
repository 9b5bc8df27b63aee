import type { MiddlewareHandler } from "hono";
import { AppError } from "../http/errors";

/**
 * The whole request body must arrive within `ms` of the handlers asking for it, or the client gets 408
 * and the connection is closed: a client trickling a body byte by byte would otherwise hold a slot (and
 * the request's memory) for as long as it likes. The body is read here, once, through Hono's body cache,
 * so the validators and webhook verifiers after this read the same bytes without waiting again. It runs
 * after the size limit, whose counting stream it reads through.
 */
export function bodyDeadline(ms: number): MiddlewareHandler {
  return async function bodyDeadlineMiddleware(c, next) {
    if (c.req.raw.body === null) return next();
    const read = c.req.arrayBuffer();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(resolve, ms, "expired");
    });
    try {
      if ((await Promise.race([read, expired])) === "expired") {
        // The abandoned read fails once the connection is closed; nobody waits for it any more.
        read.catch(() => {});
        throw new AppError(408, "client_timeout", `The request body did not arrive within ${ms} ms`, {
          headers: { Connection: "close" },
        });
      }
    } finally {
      clearTimeout(timer);
    }
    await next();
  };
}
