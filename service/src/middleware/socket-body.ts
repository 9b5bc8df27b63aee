import type { IncomingMessage } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../http/errors";

export interface SocketBodyOptions {
  /** The largest body accepted on this path (413 beyond it). */
  maxBytes: (path: string) => number;
  /** The whole body must arrive within this (408 and a closed connection after it). */
  deadlineMs?: number | undefined;
}

/**
 * On the Node server, a request's body is read here straight from the socket (Node's IncomingMessage),
 * under the size limit and the body deadline, into Hono's body cache; the validators and webhook verifiers
 * then read the cached bytes. Asking Hono for the body instead builds a whole fetch Request per request
 * (an AbortController and a web stream over the socket) only to copy the same bytes out of it. Without a
 * socket (`app.request()` in tests), this does nothing and the size-limit and body-deadline middleware
 * read the body through Hono as before.
 */
export function socketBody(opts: SocketBodyOptions): MiddlewareHandler {
  return async function socketBodyMiddleware(c, next) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming || c.req.method === "GET" || c.req.method === "HEAD") return next();
    const maxBytes = opts.maxBytes(c.req.path);
    const declared = incoming.headers["content-length"];
    // Refused before reading, as Hono's body limit does when the length is declared.
    if (declared !== undefined && !incoming.headers["transfer-encoding"] && Number(declared) > maxBytes) {
      throw tooLarge(maxBytes);
    }
    const body = await readBody(incoming, maxBytes, opts.deadlineMs);
    // Hono keeps a promise per body type (its .d.ts says the value): c.req.arrayBuffer() resolves this.
    (c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer = Promise.resolve(body);
    await next();
  };
}

/** The body was read from the socket here: the middleware that would read it through Hono steps aside. */
export function unlessBodyRead(middleware: MiddlewareHandler): MiddlewareHandler {
  return async function unlessBodyReadMiddleware(c: Context, next) {
    if (c.req.bodyCache.arrayBuffer !== undefined) return next();
    return middleware(c, next);
  };
}

export const tooLarge = (maxBytes: number) =>
  new AppError(413, "payload_too_large", `The request body is larger than ${maxBytes} bytes`);

export const tooSlow = (ms: number) =>
  new AppError(408, "client_timeout", `The request body did not arrive within ${ms} ms`, {
    headers: { Connection: "close" },
  });

/** The whole body as an ArrayBuffer of its own, or the 413/408 (or the socket's error) that ended it. */
function readBody(incoming: IncomingMessage, maxBytes: number, deadlineMs?: number): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = deadlineMs ? setTimeout(() => finish(tooSlow(deadlineMs)), deadlineMs) : undefined;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onClose = () => finish(new Error("the client closed the connection before the body ended"));
    function finish(error?: unknown) {
      clearTimeout(timer);
      incoming.off("data", onData).off("end", onEnd).off("error", finish).off("close", onClose);
      // What is left of a refused body is drained (or the connection closed) by the Node adapter.
      if (error) return reject(error);
      const body = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(body.buffer);
    }
    incoming.on("data", onData).on("end", onEnd).on("error", finish).on("close", onClose);
  });
}
