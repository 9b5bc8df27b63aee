import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type GeminiEmulator, startGeminiEmulator } from "../emulators/gemini";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { raw, testDatabase } from "./helpers";

/**
 * The outbox under a real crash: the service process is SIGKILLed while it answers 50 conversations, and a
 * new process finishes the work. Two processes need a shared database server, so this runs only with
 * TEST_DATABASE_URL (as CI does); embedded PGlite belongs to a single process.
 */
const server = process.env.TEST_DATABASE_URL;
const SECRET = "crash-test-client-secret";

let intercom: IntercomEmulator;
let gemini: GeminiEmulator;
let db: Awaited<ReturnType<typeof testDatabase>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!server) return;
  intercom = await startIntercomEmulator();
  gemini = await startGeminiEmulator();
  db = await testDatabase();
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await db?.drop();
  await intercom?.close();
  await gemini?.close();
});

function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "service/src/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      DATABASE_URL: db.url ?? "",
      MODEL_PROVIDER: "gemini",
      GEMINI_API_KEY: gemini.apiKey,
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      CONTEXT_CACHE: "false",
      INTERCOM_ACCESS_TOKEN: intercom.token,
      INTERCOM_API_BASE: intercom.url,
      INTERCOM_WEBHOOK_SECRET: SECRET,
      SESSION_SIGNING_KEY: "crash-test-session-signing-key-0123456789",
      // Configured, so the process does not generate one into the repository's .data.
      SECRET_STORE_KEY: "Y3Jhc2gtdGVzdC1zZWNyZXQtc3RvcmUta2V5LTAxMjM=",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const port = /"port":(\d+)/.exec(out)?.[1];
      if (port) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}`)));
  });
}

const botReplies = (id: string) =>
  intercom.replies(id).filter((p) => p.author.id === intercom.botAdmin.id).length;

test.skipIf(!server)(
  "50 customer messages, the processor killed midway: every message answered exactly once after restart",
  async () => {
    const first = await launch({ POLLING_INTERVAL: "0", OUTBOX_LEASE_SECONDS: "5" });
    gemini.latencyMs = 150;
    const conversations = Array.from({ length: 50 }, (_, i) =>
      intercom.createConversation({ body: `Question ${i}: how do refunds work?` }),
    );
    for (const conv of conversations) {
      const n = signedNotification(
        SECRET,
        "conversation.user.created",
        intercom.webhookItem(conv.id, { parts: "none" }),
      );
      const res = await fetch(`${first.url}/webhooks/intercom`, {
        method: "POST",
        headers: n.headers,
        body: n.body,
      });
      expect(res.status).toBe(200);
    }
    // Kill it while it is answering: some conversations done, some in flight, most not started.
    while (conversations.filter((c) => botReplies(c.id) > 0).length < 8)
      await new Promise((r) => setTimeout(r, 20));
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const answeredBeforeCrash = conversations.filter((c) => botReplies(c.id) > 0).length;
    const [pending] = await raw(db.db)`select count(*)::int as n from outbox where status = 'pending'`;
    expect(pending?.n).toBeGreaterThan(0);

    // The new process finds the stale work through its sweep (the local stand-in for Cloud Scheduler).
    await launch({ POLLING_INTERVAL: "1", OUTBOX_LEASE_SECONDS: "5" });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const [left] = await raw(db.db)`select count(*)::int as n from outbox where status = 'pending'`;
      if (left?.n === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const counts = conversations.map((c) => botReplies(c.id));
    expect(counts.filter((n) => n === 1)).toHaveLength(50);
    const rows = await raw(db.db)`select status, count(*)::int as n from outbox group by status`;
    expect(rows).toEqual([{ status: "done", n: 50 }]);
    console.log(
      `answered before the crash: ${answeredBeforeCrash}, after restart: ${50 - answeredBeforeCrash}`,
    );
  },
  120_000,
);
