/**
 * A tenant's webhook receiver (a CRM, a Zapier Catch Hook) for tests and `npm run emulators`: it verifies
 * every delivery with the `standardwebhooks` package itself (`new Webhook(secret).verify(body, headers)`),
 * keeps what it accepted and what it refused, and can be down or failing on demand. One receiver serves
 * any number of endpoints: each path has the secret it verifies with (`expect(path, secret)`).
 * A test fixture, never part of the service.
 */
import { Webhook } from "standardwebhooks";
import { type EmulatorServer, startEmulatorServer } from "./http-server";

export interface ReceivedEvent {
  path: string;
  /** The `webhook-id`: the same on every retry and replay of one event. */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  at: number;
}

/** `up`: 204 for a verified delivery; `failing`: that status; `down`: the connection is cut, no answer. */
export type ReceiverMode = { kind: "up" } | { kind: "failing"; status: number } | { kind: "down" };

export interface WebhookReceiver {
  url: string;
  server: EmulatorServer;
  /** Verified deliveries, in the order they arrived (duplicates kept: a receiver sees what was sent). */
  received: ReceivedEvent[];
  /** Deliveries whose signature failed verification (answered 400), with the package's reason. */
  rejected: { path: string; reason: string }[];
  /** Requests that met `failing` or `down`. */
  refused: number;
  expect(path: string, secret: string): void;
  setMode(mode: ReceiverMode): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  opts: {
    onEvent?: (event: ReceivedEvent) => void;
    /** `PUT /_secrets/<path>` with the `whsec_` secret as the body sets a path's secret (npm run emulators). */
    secretsByHttp?: boolean;
  } = {},
): Promise<WebhookReceiver> {
  const secrets = new Map<string, string>();
  const received: ReceivedEvent[] = [];
  const rejected: { path: string; reason: string }[] = [];
  let mode: ReceiverMode = { kind: "up" };
  let refused = 0;
  const server = await startEmulatorServer((req, res, recorded) => {
    if (opts.secretsByHttp && recorded.method === "PUT" && recorded.path.startsWith("/_secrets/")) {
      secrets.set(recorded.path.slice("/_secrets".length), recorded.rawBody.trim());
      res.writeHead(204).end();
      return;
    }
    if (mode.kind === "down") {
      refused++;
      res.socket?.destroy();
      return;
    }
    if (mode.kind === "failing") {
      refused++;
      res.writeHead(mode.status, { "content-type": "text/plain" }).end("failing on purpose");
      return;
    }
    const secret = secrets.get(recorded.path);
    if (!secret) {
      rejected.push({ path: recorded.path, reason: "no secret for this path" });
      res.writeHead(404).end();
      return;
    }
    try {
      // Verified on the raw body exactly as it arrived, with the headers as sent.
      const event = new Webhook(secret).verify(recorded.rawBody, req.headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      };
      const got: ReceivedEvent = {
        path: recorded.path,
        id: String(req.headers["webhook-id"]),
        type: event.type,
        timestamp: event.timestamp,
        data: event.data,
        at: recorded.at,
      };
      received.push(got);
      opts.onEvent?.(got);
      res.writeHead(204).end();
    } catch (error) {
      rejected.push({ path: recorded.path, reason: error instanceof Error ? error.message : String(error) });
      res.writeHead(400, { "content-type": "text/plain" }).end("signature verification failed");
    }
  });
  return {
    url: server.url,
    server,
    received,
    rejected,
    get refused() {
      return refused;
    },
    expect: (path, secret) => void secrets.set(path, secret),
    setMode: (next) => {
      mode = next;
    },
    close: () => server.close(),
  };
}
