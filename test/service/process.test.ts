import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { launchProcess } from "../../scripts/bundle-process";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { baseEnv } from "./helpers";

/** The service as a real process, the way `npm start` runs it. */
const launch = (env: Record<string, string>) =>
  launchProcess(["--import", "tsx", "service/src/main.ts"], env);

const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) c.kill("SIGKILL");
});

describe("start-up", () => {
  test("invalid configuration: exit code 1 and a message naming each bad variable, without secret values", async () => {
    const p = launch({
      PORT: "not-a-port",
      LOG_LEVEL: "loud",
      MODEL_PROVIDER: "gemini",
      JWT_SECRET: "short-secret-value",
      DATABASE_URL: "mysql://x",
    });
    expect(await p.exited).toBe(1);
    const { err } = p.output();
    expect(err).toContain("Invalid configuration");
    for (const name of ["PORT", "LOG_LEVEL", "GEMINI_API_KEY", "JWT_SECRET", "DATABASE_URL"])
      expect(err).toContain(`${name}:`);
    expect(err).toContain('(got "loud")');
    expect(err).not.toContain("short-secret-value");
    expect(err).not.toMatch(/at .+\.ts:\d+/);
  });

  test("embedded defaults: sessions and the anonymous session survive a restart", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-"));
    try {
      const env = { PORT: "0", DATA_DIR: dataDir, KNOWLEDGE_DIR: baseEnv.KNOWLEDGE_DIR };
      const first = launch(env);
      running.push(first.child);
      const url = `http://127.0.0.1:${await first.port}`;
      const chat = (await (
        await fetch(`${url}/api/v1/chat`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: "How do I reset my password?" }),
        })
      ).json()) as { sessionId: string; sessionToken: string };
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);

      const second = launch(env);
      running.push(second.child);
      const url2 = `http://127.0.0.1:${await second.port}`;
      const history = await fetch(`${url2}/api/v1/sessions/${chat.sessionId}/messages`, {
        headers: { authorization: `Bearer ${chat.sessionToken}` },
      });
      expect(history.status).toBe(200);
      const body = (await history.json()) as { messages: { content: string }[] };
      expect(body.messages[0]?.content).toBe("How do I reset my password?");
      second.child.kill("SIGTERM");
      await second.exited;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("graceful shutdown", () => {
  let gemini: GeminiEmulator;
  beforeAll(async () => {
    gemini = await startGeminiEmulator();
  });
  afterAll(async () => {
    await gemini?.close();
  });

  test("SIGTERM: in-flight requests and streams complete, new connections are refused, exit 0 within 10 s", async () => {
    // A data directory of its own: a test never writes into the repository's .data.
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-shutdown-"));
    const p = launch({
      ...baseEnv,
      DATA_DIR: dataDir,
      PORT: "0",
      MODEL_PROVIDER: "gemini",
      GEMINI_API_KEY: gemini.apiKey,
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      CONTEXT_CACHE: "false",
    });
    running.push(p.child);
    const url = `http://127.0.0.1:${await p.port}`;
    gemini.chunkDelayMs = 400;
    gemini.setResponder(() => ({ kind: "text", text: "one two three four five six", chunks: 6 }));

    const streaming = fetch(`${url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: "stream please" }),
    }).then((r) => r.text());
    const plain = fetch(`${url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "json please" }),
    }).then((r) => r.json() as Promise<{ reply: string }>);
    // Both requests are in flight (the model is mid-answer) when the signal arrives.
    while (gemini.requests.filter((r) => r.path.includes(":")).length < 2)
      await new Promise((r) => setTimeout(r, 20));
    const signalledAt = Date.now();
    p.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    // A new connection is refused (http.get with agent:false never reuses a pooled socket).
    const refused = await new Promise<string>((resolve) => {
      get(`${url}/healthz`, { agent: false }, () => resolve("accepted")).on(
        "error",
        (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"),
      );
    });
    expect(refused).toBe("ECONNREFUSED");

    const [stream, json] = await Promise.all([streaming, plain]);
    expect(stream).toContain("event: done");
    expect(stream).toContain("one two three four five six");
    expect(json.reply).toBe("one two three four five six");
    expect(await p.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(p.output().out).toContain('"event":"service.stopped"');
    await rm(dataDir, { recursive: true, force: true });
  });
});
