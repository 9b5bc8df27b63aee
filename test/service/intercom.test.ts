import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Database } from "../../service/src/db/client";
import { type GeminiEmulator, type GeminiScript, startGeminiEmulator } from "../emulators/gemini";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "../emulators/intercom";
import { eventually, raw, startTestService, type TestService, testDatabase } from "./helpers";

const SECRET = "intercom-client-secret-for-tests";
const ADMIN_KEY = "admin-api-key-0123456789abcdef";
const INTERNAL = "internal-shared-secret-123";

let intercom: IntercomEmulator;
let gemini: GeminiEmulator;
let db: Database;
let drop: () => Promise<void>;
let svc: TestService;

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  gemini = await startGeminiEmulator();
  const t = await testDatabase();
  db = t.db;
  drop = t.drop;
  svc = await startTestService(db, {
    MODEL_PROVIDER: "gemini",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    CONTEXT_CACHE: "false",
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_BASE: intercom.url,
    INTERCOM_WEBHOOK_SECRET: SECRET,
    HANDOFF_ASSIGNEE: `team:${intercom.supportTeam.id}`,
    HANDOFF_TOPICS: "\\brefund\\b",
    INTERNAL_SHARED_SECRET: INTERNAL,
    ADMIN_API_KEY: ADMIN_KEY,
    POLLING_INTERVAL: "0",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await intercom?.close();
  await gemini?.close();
});

/** Waits until no outbox row is pending: every task has run. */
async function settled() {
  await eventually(
    async () =>
      (await raw(db)`select count(*)::int as n from outbox where status = 'pending'`)[0]?.n as number,
    (n) => n === 0,
  );
}

function deliver(
  topic: string,
  conversationId: string,
  opts: { parts?: "last" | "none" | "all"; id?: string } = {},
) {
  const n = signedNotification(
    SECRET,
    topic,
    intercom.webhookItem(conversationId, { parts: opts.parts ?? "last" }),
    {
      ...(opts.id ? { id: opts.id } : {}),
    },
  );
  return {
    n,
    send: () => fetch(`${svc.url}/webhooks/intercom`, { method: "POST", headers: n.headers, body: n.body }),
  };
}

/**
 * Scripts an answer for requests whose conversation mentions `marker`; others get the default answer.
 * (The emulator's FIFO queue is shared by every request, including other conversations' in flight.)
 */
function scriptFor(marker: string, script: (n: number) => GeminiScript) {
  let n = 0;
  gemini.setResponder((req) => {
    const turns = JSON.stringify(req.body.contents ?? "");
    if (turns.includes(marker)) return script(n++);
    const last = (req.body.contents as { parts: { text?: string }[] }[]).at(-1)?.parts[0]?.text ?? "";
    return { kind: "text", text: `Emulated answer to: ${last.slice(0, 200)}` };
  });
}

const botReplies = (id: string) => intercom.replies(id).filter((p) => p.author.id === intercom.botAdmin.id);
const count = async (table: string) =>
  (await raw(db).unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]?.n ?? 0;

describe("receiving", () => {
  test("a signed conversation.user.created gets exactly one admin reply, answered by Gemini", async () => {
    const conv = intercom.createConversation({
      body: "How do I reset my password?",
      contact: { email: "kim@example.com" },
    });
    const res = await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "accepted", queued: 1 });
    const replies = await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
    );
    expect(replies).toHaveLength(1);
    expect(replies[0]?.body).toContain("Emulated answer to: How do I reset my password?");
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
    // The model saw no e-mail address and the engine kept one session for the conversation.
    const [session] = await raw(
      db,
    )`select channel, external_ref from sessions where external_ref = ${conv.id}`;
    expect(session).toEqual({ channel: "intercom", externalRef: conv.id });
  });

  test("the same notification delivered 5 times at once: one row, one reply", async () => {
    const conv = intercom.createConversation({ body: "Where are my invoices?" });
    const { send } = deliver("conversation.user.created", conv.id, { parts: "none" });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => send().then((r) => r.json() as Promise<{ status: string }>)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      "accepted",
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
    expect(
      (await raw(db)`select count(*)::int as n from outbox where conversation_id = ${conv.id}`)[0]?.n,
    ).toBe(1);
  });

  test("a tampered body or a missing signature: 401 and nothing stored", async () => {
    const conv = intercom.createConversation({ body: "hello" });
    const { n } = deliver("conversation.user.created", conv.id, { parts: "none" });
    const before = { deliveries: await count("webhook_deliveries"), outbox: await count("outbox") };
    const tampered = await fetch(`${svc.url}/webhooks/intercom`, {
      method: "POST",
      headers: n.headers,
      body: n.body.replace("hello", "hellO"),
    });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe("invalid_signature");
    const unsigned = await fetch(`${svc.url}/webhooks/intercom`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: n.body,
    });
    expect(unsigned.status).toBe(401);
    expect({ deliveries: await count("webhook_deliveries"), outbox: await count("outbox") }).toEqual(before);
  });

  test("ping → 200; unknown topic → 200 ignored; malformed JSON with a valid signature → 400", async () => {
    const ping = signedNotification(SECRET, "ping", { type: "ping", message: "hi" });
    const pong = await fetch(`${svc.url}/webhooks/intercom`, {
      method: "POST",
      headers: ping.headers,
      body: ping.body,
    });
    expect(pong.status).toBe(200);
    expect(await pong.json()).toMatchObject({ status: "pong" });

    const other = signedNotification(SECRET, "company.created", { type: "company", id: "c1" });
    const ignored = await fetch(`${svc.url}/webhooks/intercom`, {
      method: "POST",
      headers: other.headers,
      body: other.body,
    });
    expect(await ignored.json()).toEqual({ status: "ignored", queued: 0 });

    const { createHmac } = await import("node:crypto");
    const body = '{"type":"notification_event","id":';
    const bad = await fetch(`${svc.url}/webhooks/intercom`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature": `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`,
      },
      body,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
  });

  test("a reply posted just before a crash is recognised: the message is done, never answered twice", async () => {
    const conv = intercom.createConversation({ body: "How do I export my data?" });
    // The crashed processor had posted its answer but not recorded it.
    intercom.addAdminReply(conv.id, intercom.botAdmin.id, "Here is how to export your data.");
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
    const [row] = await raw(db)`select status, outcome from outbox where conversation_id = ${conv.id}`;
    expect(row).toEqual({ status: "done", outcome: "already_answered" });
  });

  test("a part authored by the bot itself triggers nothing (no self-reply loop)", async () => {
    const conv = intercom.createConversation({ body: "Hi" });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length === 1,
    );
    await settled();
    const rowsBefore = await count("outbox");
    // Intercom echoes the bot's own reply as conversation.admin.replied, and its last part is the bot's.
    const echo = await deliver("conversation.admin.replied", conv.id, { parts: "last" }).send();
    expect(await echo.json()).toEqual({ status: "ignored", queued: 0 });
    const replied = await deliver("conversation.user.replied", conv.id, { parts: "last" }).send();
    expect(await replied.json()).toMatchObject({ queued: 0 });
    expect(await count("outbox")).toBe(rowsBefore);
    expect(botReplies(conv.id)).toHaveLength(1);
  });
});

describe("handoff to a person", () => {
  afterEach(() => gemini.setResponder(undefined));

  test('"I want to talk to a person": customer message, note, tag, assignment; then the bot is silent', async () => {
    const conv = intercom.createConversation({ body: "I want to talk to a person" });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    const assignments = await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    await settled();
    expect(assignments).toHaveLength(1);
    expect(intercom.conversation(conv.id).team_assignee_id).toBe(intercom.supportTeam.id);
    expect(intercom.notes(conv.id)).toHaveLength(1);
    expect(intercom.notes(conv.id)[0]?.body).toContain("customer request");
    expect(intercom.conversationTags(conv.id).map((t) => t.name)).toEqual(["switchboard-handoff"]);
    expect(botReplies(conv.id)).toHaveLength(1);
    expect(botReplies(conv.id)[0]?.body).toMatch(/support team/);
    // Handed over without a model call (the knowledge base itself mentions "talk to a person": look at turns).
    const asked = gemini.requests.filter((r) =>
      JSON.stringify((r.body as { contents?: unknown }).contents ?? "").includes(
        "I want to talk to a person",
      ),
    );
    expect(asked).toHaveLength(0);

    const [handoff] = await raw(
      db,
    )`select reason, steps, completed_at from handoffs where conversation_id = ${conv.id}`;
    expect(handoff?.reason).toBe("customer_request");
    expect(handoff?.steps).toEqual(["message", "note", "tag", "assign"]);
    expect(svc.logs.events("handoff").some((l) => l.conversationId === conv.id)).toBe(true);

    intercom.addCustomerMessage(conv.id, "Hello? Anyone?");
    await deliver("conversation.user.replied", conv.id).send();
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
  });

  test("a configured topic goes to a person without asking the model", async () => {
    const conv = intercom.createConversation({ body: "I need a refund for last month" });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    const [handoff] = await raw(db)`select reason from handoffs where conversation_id = ${conv.id}`;
    expect(handoff?.reason).toBe("topic");
  });

  test("the model's handoff function hands the conversation over", async () => {
    const conv = intercom.createConversation({ body: "Please close my company account" });
    scriptFor("close my company account", () => ({
      kind: "functionCall",
      name: "handoff",
      args: { reason: "cannot_help" },
    }));
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    const call = gemini.requests.find((r) => JSON.stringify(r.body).includes("close my company account"));
    expect(JSON.stringify((call?.body as { tools?: unknown } | undefined)?.tools)).toContain("handoff");
    const [handoff] = await raw(db)`select reason from handoffs where conversation_id = ${conv.id}`;
    expect(handoff?.reason).toBe("model_cannot_help");
  });

  test("after two answers the model was not sure of, the second goes to a person instead", async () => {
    const conv = intercom.createConversation({ body: "Can I pay in bitcoin?" });
    scriptFor("bitcoin", (n) => ({
      kind: "functionCall",
      name: "handoff",
      args: { reason: "uncertain" },
      text: n === 0 ? "Maybe, I am not sure." : "Possibly.",
    }));
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length === 1,
    );
    await settled();
    expect(botReplies(conv.id)[0]?.body).toContain("Maybe, I am not sure.");
    expect(intercom.assignments(conv.id)).toHaveLength(0);

    intercom.addCustomerMessage(conv.id, "And in gold?");
    await deliver("conversation.user.replied", conv.id).send();
    await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    const [handoff] = await raw(db)`select reason from handoffs where conversation_id = ${conv.id}`;
    expect(handoff?.reason).toBe("low_confidence");
  });

  test("when the model keeps failing, the customer is handed to a person rather than left waiting", async () => {
    const conv = intercom.createConversation({ body: "What plans do you offer?" });
    scriptFor("What plans do you offer?", () => ({ kind: "error", status: 503 }));
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => intercom.assignments(conv.id),
      (a) => a.length > 0,
    );
    const [handoff] = await raw(db)`select reason from handoffs where conversation_id = ${conv.id}`;
    expect(handoff?.reason).toBe("model_unavailable");
  });

  test("a human assignment stops the bot", async () => {
    const conv = intercom.createConversation({ body: "Hi there" });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length === 1,
    );
    await settled();
    // A teammate takes the conversation in the inbox.
    const record = intercom.conversation(conv.id);
    record.admin_assignee_id = Number(intercom.humanAdmin.id);
    await deliver("conversation.admin.assigned", conv.id, { parts: "none" }).send();
    intercom.addCustomerMessage(conv.id, "Thanks, one more question");
    const res = await deliver("conversation.user.replied", conv.id).send();
    expect(await res.json()).toMatchObject({ queued: 1 });
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
    const [row] = await raw(
      db,
    )`select status, outcome from outbox where conversation_id = ${conv.id} order by created_at desc limit 1`;
    expect(row).toEqual({ status: "skipped", outcome: "human" });
  });
});

describe("upstream faults", () => {
  test("Intercom 429: the work waits for X-RateLimit-Reset and is answered once, never dropped", async () => {
    const conv = intercom.createConversation({ body: "How do I export my data?" });
    intercom.failNext({ status: 429, pathIncludes: "/reply", resetInSeconds: 1 });
    const sent = Date.now();
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    const replies = await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
      10_000,
    );
    expect(replies).toHaveLength(1);
    // Intercom's reset is a whole unix second: the retry came no earlier than that second began.
    const retry = intercom.requests.filter((r) => r.path.endsWith(`/conversations/${conv.id}/reply`)).at(-1);
    expect(Math.floor((retry?.at ?? 0) / 1000)).toBeGreaterThanOrEqual(Math.floor(sent / 1000) + 1);
    await settled();
    const [row] = await raw(db)`select status, attempts from outbox where conversation_id = ${conv.id}`;
    expect(row).toEqual({ status: "done", attempts: 2 });
    expect(svc.logs.events("upstream.error").some((l) => l.upstream === "intercom" && l.status === 429)).toBe(
      true,
    );
  });

  test("an Intercom 500 is retried with backoff and the message is still answered once", async () => {
    const conv = intercom.createConversation({ body: "How do I invite my team?" });
    intercom.failNext({ status: 500, pathIncludes: `/conversations/${conv.id}` });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    const replies = await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
      10_000,
    );
    await settled();
    expect(replies).toHaveLength(1);
  });
});

describe("polling", () => {
  test("/internal/poll answers a message no webhook announced, and needs the internal credential", async () => {
    expect((await fetch(`${svc.url}/internal/poll`, { method: "POST" })).status).toBe(401);
    const conv = intercom.createConversation({ body: "Do you have a mobile app?" });
    const res = await fetch(`${svc.url}/internal/poll`, {
      method: "POST",
      headers: { "x-internal-token": INTERNAL },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { queued: number }).queued).toBeGreaterThanOrEqual(1);
    const replies = await eventually(
      () => botReplies(conv.id),
      (r) => r.length > 0,
    );
    expect(replies).toHaveLength(1);
    await settled();
    // A second poll finds nothing new to answer.
    const again = await fetch(`${svc.url}/internal/poll`, {
      method: "POST",
      headers: { "x-internal-token": INTERNAL },
    });
    expect(((await again.json()) as { queued: number }).queued).toBe(0);
    await settled();
    expect(botReplies(conv.id)).toHaveLength(1);
  });
});

describe("contact and event endpoints", () => {
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };

  test("require an admin credential", async () => {
    expect((await fetch(`${svc.url}/intercom/health`)).status).toBe(401);
    expect(
      (
        await fetch(`${svc.url}/intercom/health`, {
          headers: { authorization: "Bearer wrong-key-wrong-key-wrong" },
        })
      ).status,
    ).toBe(401);
  });

  test("identify-user creates, then updates, a contact by external_id; track-event records an event", async () => {
    const created = await fetch(`${svc.url}/intercom/identify-user`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ external_id: "u_77", email: "u77@example.com", name: "Ada" }),
    });
    const first = (await created.json()) as { id: string; action: string };
    expect(first.action).toBe("created");
    const updated = await fetch(`${svc.url}/intercom/identify-user`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ external_id: "u_77", name: "Ada L." }),
    });
    expect(await updated.json()).toMatchObject({ id: first.id, action: "updated" });
    expect(intercom.contacts.get(first.id)?.name).toBe("Ada L.");

    const event = await fetch(`${svc.url}/intercom/track-event`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ event_name: "upgraded-plan", user_id: "u_77", metadata: { plan: "team" } }),
    });
    expect(event.status).toBe(202);
    expect(intercom.events.at(-1)).toMatchObject({ event_name: "upgraded-plan", metadata: { plan: "team" } });

    const tooMany = await fetch(`${svc.url}/intercom/track-event`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        event_name: "x",
        user_id: "u_77",
        metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])),
      }),
    });
    expect(tooMany.status).toBe(400);
  });

  test("a blank external_id or user_id names no one: 400, and no contact is created or looked up", async () => {
    const before = intercom.contacts.size;
    for (const [path, body] of [
      ["/intercom/identify-user", { external_id: "   " }],
      ["/intercom/track-event", { event_name: "upgraded-plan", user_id: " \t" }],
    ] as const) {
      const res = await fetch(`${svc.url}${path}`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
    }
    expect(intercom.contacts.size).toBe(before);
  });

  test("DELETE a contact: erased in Intercom, and that person's conversations here are purged", async () => {
    const contact = intercom.createContact({ external_id: "gdpr_1", email: "gdpr@example.com" });
    const conv = intercom.createConversation({ body: "How do I turn on two-factor?", contact: contact.id });
    await deliver("conversation.user.created", conv.id, { parts: "none" }).send();
    await eventually(
      () => botReplies(conv.id),
      (r) => r.length === 1,
    );
    await settled();
    expect(
      (
        await raw(db)`select count(*)::int as n from sessions where identity_id = ${`intercom:${contact.id}`}`
      )[0]?.n,
    ).toBe(1);

    const res = await fetch(`${svc.url}/intercom/contacts/gdpr_1`, { method: "DELETE", headers: admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, intercomContactId: contact.id, sessionsDeleted: 1 });
    expect(intercom.contacts.has(contact.id)).toBe(false);
    expect(
      (
        await raw(
          db,
        )`select count(*)::int as n from messages m join sessions s on s.id = m.session_id where s.external_ref = ${conv.id}`
      )[0]?.n,
    ).toBe(0);
    expect(
      (await fetch(`${svc.url}/intercom/contacts/gdpr_1`, { method: "DELETE", headers: admin })).status,
    ).toBe(404);
  });

  test("health reports configuration, backlog and handoffs", async () => {
    const health = (await (await fetch(`${svc.url}/intercom/health`, { headers: admin })).json()) as Record<
      string,
      any
    >;
    expect(health.status).toBe("healthy");
    expect(health.configured).toMatchObject({
      accessToken: true,
      webhookSecret: true,
      adminId: intercom.botAdmin.id,
    });
    expect(health.handoffsLast24h.customer_request).toBeGreaterThanOrEqual(1);
  });
});

describe("without Intercom configured", () => {
  test("the endpoints answer 503 with a clear error and chat keeps working", async () => {
    const plain = await startTestService(db, { ADMIN_API_KEY: ADMIN_KEY });
    try {
      const hook = signedNotification(SECRET, "ping", {});
      const res = await fetch(`${plain.url}/webhooks/intercom`, {
        method: "POST",
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("intercom_not_configured");
      const track = await fetch(`${plain.url}/intercom/track-event`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ event_name: "x", user_id: "u" }),
      });
      expect(track.status).toBe(503);
      expect((await plain.post("/api/v1/chat", { message: "How do I reset my password?" })).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
