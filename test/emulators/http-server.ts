/**
 * Shared plumbing for the local emulators in `test/emulators/`: an HTTP server on 127.0.0.1 (ephemeral port)
 * that records every request, tracks every socket so `close()` can tear down hanging and streaming
 * connections (vitest must never hang on an open emulator), and cancellable sleeps for latency injection.
 *
 * Not an emulator itself; each emulator builds on `startEmulatorServer(handler)`.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** One request as the emulator saw it. `body` is the parsed JSON body (or the raw text when not JSON). */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, percent-decoded (e.g. `/v1beta/models/gemini-2.5-flash:generateContent`). */
  path: string;
  /** Query parameters; a repeated key keeps its last value. */
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  /** Epoch milliseconds when the request was fully read. */
  at: number;
}

export interface EmulatorServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Resolves after `ms`, or immediately once the server is closing (so hanging handlers unwind). */
  sleep(ms: number): Promise<void>;
  readonly closing: boolean;
  close(): Promise<void>;
}

export type EmulatorHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  recorded: RecordedRequest,
) => Promise<void> | void;

/** `port` 0 (default): any free port; `npm run emulators` pins a few so the README's commands work. */
export async function startEmulatorServer(handler: EmulatorHandler, listenPort = 0): Promise<EmulatorServer> {
  const sockets = new Set<Socket>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  const requests: RecordedRequest[] = [];
  let closing = false;

  const server = createServer(async (req, res) => {
    let rawBody = "";
    try {
      rawBody = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: safeDecode(url.pathname),
      query,
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
      at: Date.now(),
    };
    requests.push(recorded);
    try {
      await handler(req, res, recorded);
    } catch (error) {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`emulator handler failed: ${error instanceof Error ? error.stack : String(error)}`);
      } else {
        res.destroy();
      }
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  // Google's and Intercom's front ends keep an idle connection open for minutes; Node's default of 5 s made
  // a client that reused a pooled socket after a slow step (an embedded database opening under load) meet
  // ECONNRESET, which no real upstream would cause. 620 s: longer than Google's load balancers' 610 s.
  server.keepAliveTimeout = 620_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator server has no TCP address");
  const port = address.port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get closing() {
      return closing;
    },
    sleep(ms: number) {
      if (closing || ms <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.set(timer, resolve);
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Writes a JSON response unless the client is already gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

/** `true` when the client has hung up (timeout, abort) or the emulator is closing. */
export function isGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Google's canonical gRPC status names by code, and the HTTP status each maps to (google.rpc.Code). */
export const GOOGLE_STATUS = {
  OK: { code: 0, http: 200 },
  CANCELLED: { code: 1, http: 499 },
  UNKNOWN: { code: 2, http: 500 },
  INVALID_ARGUMENT: { code: 3, http: 400 },
  DEADLINE_EXCEEDED: { code: 4, http: 504 },
  NOT_FOUND: { code: 5, http: 404 },
  ALREADY_EXISTS: { code: 6, http: 409 },
  PERMISSION_DENIED: { code: 7, http: 403 },
  RESOURCE_EXHAUSTED: { code: 8, http: 429 },
  FAILED_PRECONDITION: { code: 9, http: 400 },
  ABORTED: { code: 10, http: 409 },
  OUT_OF_RANGE: { code: 11, http: 400 },
  UNIMPLEMENTED: { code: 12, http: 501 },
  INTERNAL: { code: 13, http: 500 },
  UNAVAILABLE: { code: 14, http: 503 },
  DATA_LOSS: { code: 15, http: 500 },
  UNAUTHENTICATED: { code: 16, http: 401 },
} as const;

export type GoogleStatusName = keyof typeof GOOGLE_STATUS;

/** The JSON error body every Google REST API (ESF) returns: `{"error":{"code","message","status","details"?}}`. */
export function googleErrorBody(
  status: GoogleStatusName,
  message: string,
  details?: unknown[],
): { error: { code: number; message: string; status: string; details?: unknown[] } } {
  return {
    error: {
      code: GOOGLE_STATUS[status].http,
      message,
      status,
      ...(details && details.length > 0 ? { details } : {}),
    },
  };
}

export function sendGoogleError(
  res: ServerResponse,
  status: GoogleStatusName,
  message: string,
  details?: unknown[],
): void {
  sendJson(res, GOOGLE_STATUS[status].http, googleErrorBody(status, message, details), {
    vary: "Origin, X-Origin, Referer",
    server: "ESF",
  });
}

/** Google's plain 404 for a path no API method maps to (the real front end answers with an HTML page). */
export function sendUnknownPath(res: ServerResponse, method: string, path: string): void {
  if (isGone(res)) return;
  const html = `<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>${path}</code> was not found on this server (${method}).  <ins>That’s all we know.</ins>\n`;
  res.writeHead(404, { "content-type": "text/html; charset=UTF-8" });
  res.end(html);
}
