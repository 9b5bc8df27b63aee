import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { startTestService, type TestService, testDatabase } from "./helpers";

/**
 * A client that trickles its request must not hold a connection slot: it gets 408 with the uniform body and
 * the connection is closed once the configured deadline passes, while other clients are served. Short
 * deadlines here; what is asserted is the answer and the closed socket, not a time.
 */

let svc: TestService;
let gemini: GeminiEmulator;
let streaming: TestService;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  gemini = await startGeminiEmulator();
  [svc, streaming] = await Promise.all([
    startTestService(t.db, { HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_BODY_TIMEOUT_MS: "1500" }),
    // Deadlines far shorter than the stream below lasts.
    startTestService(t.db, {
      HTTP_HEADERS_TIMEOUT_MS: "200",
      HTTP_BODY_TIMEOUT_MS: "200",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "200",
      MODEL_PROVIDER: "gemini",
      GEMINI_API_KEY: gemini.apiKey,
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      CONTEXT_CACHE: "false",
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([svc?.close(), streaming?.close()]);
  await drop?.();
  await gemini?.close();
});

interface Trickle {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
  isClosed(): boolean;
}

/** A raw connection that sends `head` at once and then `rest` one byte per second. */
function trickle(url: string, head: string, rest: string): Trickle {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = "";
  let done = false;
  socket.on("data", (chunk) => {
    received += chunk.toString("utf8");
  });
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < rest.length && !socket.destroyed) socket.write(rest[sent++] ?? "");
  }, 1000);
  const closed = new Promise<string>((resolve) => {
    socket.on("close", () => {
      done = true;
      clearInterval(drip);
      resolve(received);
    });
    socket.on("error", () => {});
  });
  socket.write(head);
  return { socket, closed, isClosed: () => done };
}

function parse(raw: string) {
  const [head = "", body = ""] = raw.split("\r\n\r\n");
  return {
    statusLine: head.split("\r\n")[0],
    head,
    body: JSON.parse(body) as { error: Record<string, string> },
  };
}

describe("slow clients", () => {
  test("a body trickled one byte a second: 408 with the uniform body, connection closed; others are served meanwhile", async () => {
    const body = JSON.stringify({ message: "How do I reset my password?" });
    const slow = trickle(
      svc.url,
      `POST /api/v1/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    // Another client on another connection is answered while the slow one is still connected.
    const normal = await fetch(`${svc.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(normal.status).toBe(200);
    expect(slow.isClosed()).toBe(false);

    const res = parse(await slow.closed);
    expect(res.statusLine).toBe("HTTP/1.1 408 Request Timeout");
    expect(res.body.error).toMatchObject({ code: "client_timeout", requestId: expect.any(String) });
    expect(res.head.toLowerCase()).toContain("connection: close");
    expect(slow.socket.destroyed).toBe(true);
  }, 20_000);

  test("headers trickled one byte a second: 408 with the uniform body, connection closed", async () => {
    const slow = trickle(svc.url, "GET /healthz HTTP/1.1\r\n", "Host: localhost\r\nX-Slow: yes\r\n\r\n");
    expect((await svc.get("/healthz")).status).toBe(200);
    const res = parse(await slow.closed);
    expect(res.statusLine).toBe("HTTP/1.1 408 Request Timeout");
    expect(res.body.error).toMatchObject({ code: "client_timeout", requestId: expect.any(String) });
    expect(slow.socket.destroyed).toBe(true);
    expect(svc.logs.events("http.client_error").some((l) => l.status === 408)).toBe(true);
  }, 20_000);

  test("a streamed reply lasting far longer than every deadline is not cut", async () => {
    gemini.chunkDelayMs = 300;
    gemini.setResponder(() => ({ kind: "text", text: "one two three four five six seven eight", chunks: 8 }));
    try {
      const res = await fetch(`${streaming.url}/api/v1/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ message: "stream please" }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text.match(/^event: delta$/gm)?.length).toBeGreaterThanOrEqual(8);
      expect(text).toMatch(/^event: done$/m);
      expect(text).toContain('"reply":"one two three four five six seven eight"');
    } finally {
      gemini.reset();
    }
  }, 20_000);
});
