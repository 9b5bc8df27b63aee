import { randomUUID } from "node:crypto";
import type { ServerOptions } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger";
import { errorBody } from "./errors";

export interface HttpTimeouts {
  /** The request line and headers must arrive within this. */
  headersMs: number;
  /** The body, once the headers are in (middleware/body-deadline.ts answers 408 after it). */
  bodyMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveMs: number;
}

/**
 * Node's own limits on slow clients. They bound receiving a request only: a response, an SSE stream
 * included, runs as long as it needs (there is no socket inactivity timeout), and the keep-alive timeout
 * applies between requests. https://nodejs.org/docs/latest-v20.x/api/http.html#serverrequesttimeout
 */
export function serverOptions(t: HttpTimeouts): ServerOptions {
  return {
    headersTimeout: t.headersMs,
    // The backstop for a body no handler reads, later than the app's body deadline so that answers first.
    requestTimeout: t.headersMs + t.bodyMs + 1000,
    keepAliveTimeout: t.keepAliveMs,
    // How often Node looks for expired requests; its 30 s default would let a slow client stay that long.
    connectionsCheckingInterval: Math.min(1000, t.headersMs),
  };
}

const ANSWERS: Record<string, [number, string, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "client_timeout", "The request did not arrive in time"],
  HPE_HEADER_OVERFLOW: [
    431,
    "Request Header Fields Too Large",
    "headers_too_large",
    "The headers are too large",
  ],
};
const BAD_REQUEST: [number, string, string, string] = [
  400,
  "Bad Request",
  "bad_request",
  "Malformed HTTP request",
];

/**
 * Node answers a request it could not finish reading (too slow, malformed) itself, with an empty body:
 * give it the uniform JSON error instead, and close the connection.
 * https://nodejs.org/docs/latest-v20.x/api/http.html#event-clienterror
 */
export function onClientError(log: Logger) {
  return function answerClientError(error: NodeJS.ErrnoException, socket: Duplex) {
    // A response already under way on this connection (e.g. the app's own 408) cannot get a second one.
    const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || current?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, code, message] = ANSWERS[error.code ?? ""] ?? BAD_REQUEST;
    const requestId = randomUUID();
    log.info({ event: "http.client_error", status, code: error.code, requestId }, `${status} ${message}`);
    const json = JSON.stringify(errorBody(code, message, requestId));
    const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`;
    // Closed once written, whatever the client still sends.
    socket.end(head + json, () => socket.destroy());
  };
}
