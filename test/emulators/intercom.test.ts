import { createHmac } from "node:crypto";
import { IntercomClient, IntercomError } from "intercom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type IntercomEmulator, signedNotification, startIntercomEmulator } from "./intercom";

let intercom: IntercomEmulator;
let client: IntercomClient;

beforeAll(async () => {
  intercom = await startIntercomEmulator();
  client = new IntercomClient({ token: intercom.token, baseUrl: intercom.url, maxRetries: 0 });
});
afterEach(() => intercom.reset());
afterAll(() => intercom.close());

async function intercomError(promise: Promise<unknown>): Promise<IntercomError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof IntercomError) return error;
    throw error;
  }
  throw new Error("expected an IntercomError");
}

describe("intercom emulator with the real intercom-client", () => {
  it("GET /me identifies the bot admin; every response carries rate-limit headers", async () => {
    const { data, rawResponse } = await client.admins.identify().withRawResponse();
    expect(data?.id).toBe(intercom.botAdmin.id);
    expect(data?.type).toBe("admin");
    expect(rawResponse.headers.get("x-ratelimit-limit")).toBe("1666");
    expect(Number(rawResponse.headers.get("x-ratelimit-remaining"))).toBeGreaterThan(0);
    expect(Number(rawResponse.headers.get("x-ratelimit-reset"))).toBeGreaterThanOrEqual(
      Math.floor(Date.now() / 1000),
    );
    const request = intercom.requests.at(-1);
    expect(request?.path).toBe("/me");
    expect(request?.headers.authorization).toBe(`Bearer ${intercom.token}`);
    expect(request?.headers["intercom-version"]).toBe("2.14");
  });

  it("reads a conversation with its parts as plaintext", async () => {
    const conv = intercom.createConversation({
      body: "<p>Hi, <b>where</b> is my order?</p>",
      contact: { external_id: "u_1" },
    });
    const part = intercom.addCustomerMessage(conv.id, "It is order #42 & it is late");
    const found = await client.conversations.find({ conversation_id: conv.id, display_as: "plaintext" });
    expect(found.source.body).toBe("Hi, where is my order?");
    expect(found.state).toBe("open");
    expect(found.contacts.contacts?.[0]?.external_id).toBe("u_1");
    const parts = found.conversation_parts?.conversation_parts ?? [];
    expect(parts.map((p) => [p.id, p.part_type, p.body, p.author?.type])).toEqual([
      [part.id, "comment", "It is order #42 & it is late", "user"],
    ]);
    expect(intercom.requests.at(-1)?.query.display_as).toBe("plaintext");

    const html = await client.conversations.find({ conversation_id: conv.id });
    expect(html.conversation_parts?.conversation_parts?.[0]?.body).toBe(
      "<p>It is order #42 &amp; it is late</p>",
    );
  });

  it("replies as admin, adds a note, assigns to a team, tags, snoozes, closes and reopens", async () => {
    const conv = intercom.createConversation({ body: "help", contact: { email: "a@example.com" } });
    const bot = intercom.botAdmin.id;

    const replied = await client.conversations.reply({
      conversation_id: conv.id,
      body: { message_type: "comment", type: "admin", admin_id: bot, body: "<p>On it.</p>" },
    });
    expect(replied.id).toBe(conv.id);
    await client.conversations.reply({
      conversation_id: conv.id,
      body: { message_type: "note", type: "admin", admin_id: bot, body: "<p>AI handed off</p>" },
    });
    expect(intercom.replies(conv.id).map((p) => [p.body, p.author.type, p.author.id])).toEqual([
      ["<p>On it.</p>", "admin", bot],
    ]);
    expect(intercom.notes(conv.id).map((p) => p.body)).toEqual(["<p>AI handed off</p>"]);
    expect(intercom.requests.at(-1)?.body).toEqual({
      message_type: "note",
      type: "admin",
      admin_id: bot,
      body: "<p>AI handed off</p>",
    });

    const assigned = await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "assignment", type: "team", admin_id: bot, assignee_id: intercom.supportTeam.id },
    });
    expect(assigned.team_assignee_id).toBe(intercom.supportTeam.id);
    await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "assignment", type: "admin", admin_id: bot, assignee_id: intercom.humanAdmin.id },
    });
    expect(intercom.conversation(conv.id).admin_assignee_id).toBe(Number(intercom.humanAdmin.id));
    expect(intercom.assignments(conv.id).map((p) => p.assigned_to)).toEqual([
      { type: "team", id: intercom.supportTeam.id },
      { type: "admin", id: intercom.humanAdmin.id },
    ]);

    const tag = intercom.createTag("ai-handoff");
    const tagged = await client.tags.tagConversation({ conversation_id: conv.id, id: tag.id, admin_id: bot });
    expect(tagged.name).toBe("ai-handoff");
    expect(intercom.conversationTags(conv.id).map((t) => t.name)).toEqual(["ai-handoff"]);

    const snoozed = await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "snoozed", admin_id: bot, snoozed_until: Math.floor(Date.now() / 1000) + 3600 },
    });
    expect(snoozed.state).toBe("snoozed");
    const closed = await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "close", type: "admin", admin_id: bot, body: "Solved" },
    });
    expect(closed.state).toBe("closed");
    expect(closed.open).toBe(false);
    await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "open", admin_id: bot },
    });
    expect(intercom.state(conv.id)).toBe("open");
  });

  it("a customer message reopens a closed conversation", async () => {
    const conv = intercom.createConversation({ body: "x" });
    await client.conversations.manage({
      conversation_id: conv.id,
      body: { message_type: "close", type: "admin", admin_id: intercom.botAdmin.id },
    });
    intercom.addCustomerMessage(conv.id, "one more thing");
    expect(intercom.state(conv.id)).toBe("open");
  });

  it("searches conversations by updated_at and open, with cursor pagination", async () => {
    let clock = 1_800_000_000;
    intercom.now = () => clock;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock += 10;
      ids.push(intercom.createConversation({ body: `c${i}` }).id);
    }
    await client.conversations.manage({
      conversation_id: ids[4] ?? "",
      body: { message_type: "close", type: "admin", admin_id: intercom.botAdmin.id },
    });

    const page = await client.conversations.search({
      query: {
        operator: "AND",
        value: [
          { field: "updated_at", operator: ">", value: String(1_800_000_020) },
          { field: "open", operator: "=", value: "true" },
        ],
      },
      pagination: { per_page: 2 },
    });
    const seen: string[] = [];
    for await (const conv of page) seen.push(conv.id);
    // ">" is "greater or equal" in Intercom search; the closed one is filtered out.
    expect(seen).toEqual([ids[1], ids[2], ids[3]]);
    const searches = intercom.requests.filter((r) => r.path === "/conversations/search");
    expect(searches).toHaveLength(2);
    expect(searches[1]?.body).toMatchObject({
      pagination: { per_page: 2, starting_after: expect.any(String) },
    });
  });

  it("creates, updates, searches and deletes contacts", async () => {
    const created = await client.contacts.create({ external_id: "u_42", name: "Ada" });
    expect(created.external_id).toBe("u_42");
    expect(created.role).toBe("user");
    const dup = await intercomError(client.contacts.create({ external_id: "u_42" }));
    expect(dup.statusCode).toBe(409);
    expect(dup.body).toMatchObject({ type: "error.list", errors: [{ code: "conflict" }] });

    const updated = await client.contacts.update({ contact_id: created.id, email: "ada@example.com" });
    expect(updated.email).toBe("ada@example.com");

    const results = await client.contacts.search({
      query: { field: "external_id", operator: "=", value: "u_42" },
    });
    const found = [];
    for await (const c of results) found.push(c.id);
    expect(found).toEqual([created.id]);

    const deleted = await client.contacts.delete({ contact_id: created.id });
    expect(deleted).toMatchObject({ id: created.id, external_id: "u_42", type: "contact", deleted: true });
  });

  it("new contacts are not searchable until the index catches up", async () => {
    intercom.searchIndexDelayMs = 60_000;
    await client.contacts.create({ external_id: "u_new" });
    const results = await client.contacts.search({
      query: { field: "external_id", operator: "=", value: "u_new" },
    });
    expect(results.data).toEqual([]);
  });

  it("events: 202 with empty body, 404 for an unknown user, first 10 scalar metadata keys kept", async () => {
    intercom.createContact({ external_id: "u_7" });
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 12; i++) metadata[`k${i}`] = `v${i}`;
    const { rawResponse } = await client.events
      .create({ event_name: "ai-answered", created_at: 1_800_000_000, user_id: "u_7", metadata })
      .withRawResponse();
    expect(rawResponse.status).toBe(202);
    expect(intercom.events).toHaveLength(1);
    expect(Object.keys(intercom.events[0]?.metadata ?? {})).toHaveLength(10);

    const unknown = await intercomError(
      client.events.create({ event_name: "x", created_at: 1_800_000_000, user_id: "nobody" }),
    );
    expect(unknown.statusCode).toBe(404);
  });

  it("lists and creates tags", async () => {
    const tag = await client.tags.create({ name: "vip" });
    expect(tag.name).toBe("vip");
    const list = await client.tags.list();
    expect(list.data?.map((t) => t.name)).toEqual(["vip"]);
  });

  it("401 for a bad token, 404 for an unknown conversation, as error lists", async () => {
    const bad = new IntercomClient({ token: "wrong", baseUrl: intercom.url, maxRetries: 0 });
    const unauthorized = await intercomError(bad.admins.identify());
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.body).toMatchObject({ type: "error.list", errors: [{ code: "unauthorized" }] });

    const missing = await intercomError(client.conversations.find({ conversation_id: "999" }));
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toMatchObject({ errors: [{ code: "not_found" }] });
  });

  it("429 carries rate_limit_exceeded and a Reset in the future; the SDK waits for it and retries", async () => {
    intercom.failNext({ status: 429, resetInSeconds: 30 });
    const limited = await intercomError(client.admins.identify());
    expect(limited.statusCode).toBe(429);
    expect(limited.body).toMatchObject({ errors: [{ code: "rate_limit_exceeded" }] });
    const reset = Number(limited.rawResponse?.headers.get("x-ratelimit-reset"));
    expect(reset).toBeGreaterThan(Math.floor(Date.now() / 1000) + 20);
    expect(limited.rawResponse?.headers.get("x-ratelimit-remaining")).toBe("0");

    // With its default maxRetries (2) the SDK sleeps until X-RateLimit-Reset and tries again.
    intercom.failNext({ status: 429, resetInSeconds: 1 });
    const retrying = new IntercomClient({ token: intercom.token, baseUrl: intercom.url });
    const before = intercom.requests.length;
    const me = await retrying.admins.identify();
    expect(me?.id).toBe(intercom.botAdmin.id);
    expect(intercom.requests.length - before).toBe(2);

    intercom.failNext({ status: 500 });
    const failed = await intercomError(client.admins.identify());
    expect(failed.statusCode).toBe(500);
  });

  it("exhausting the window answers 429 on its own", async () => {
    intercom.rateLimitPerWindow = 2;
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        await client.admins
          .identify()
          .then(() => 200)
          .catch((e: IntercomError) => e.statusCode),
      );
    }
    // The window may roll over between calls; at least one call must have been limited.
    expect(results).toContain(429);
  });

  it("the bot's own API reply shows up in an admin.replied item authored by its admin id", async () => {
    const conv = intercom.createConversation({ body: "hi" });
    await client.conversations.reply({
      conversation_id: conv.id,
      body: { message_type: "comment", type: "admin", admin_id: intercom.botAdmin.id, body: "<p>Hello!</p>" },
    });
    const item = intercom.webhookItem(conv.id) as {
      conversation_parts: { conversation_parts: { author: { type: string; id: string }; body: string }[] };
    };
    expect(item.conversation_parts.conversation_parts).toEqual([
      expect.objectContaining({
        body: "<p>Hello!</p>",
        author: expect.objectContaining({ type: "admin", id: intercom.botAdmin.id }),
      }),
    ]);
  });

  it("signedNotification builds the real envelope and an HMAC-SHA1 X-Hub-Signature", () => {
    const conv = intercom.createConversation({ body: "hello", contact: { external_id: "u_9" } });
    const part = intercom.addCustomerMessage(conv.id, "are you there?");
    const item = intercom.webhookItem(conv.id);
    const { body, headers, id } = signedNotification("client-secret", "conversation.user.replied", item, {
      appId: intercom.appId,
    });
    expect(headers["X-Hub-Signature"]).toBe(
      `sha1=${createHmac("sha1", "client-secret").update(body).digest("hex")}`,
    );
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      type: "notification_event",
      id,
      topic: "conversation.user.replied",
      app_id: intercom.appId,
      delivery_attempts: 1,
      data: {
        type: "notification_event_data",
        item: {
          type: "conversation",
          id: conv.id,
          state: "open",
          admin_assignee_id: null,
          team_assignee_id: null,
          source: { author: { type: "user" } },
          conversation_parts: {
            conversation_parts: [{ id: part.id, part_type: "comment", author: { type: "user" } }],
          },
        },
      },
    });
    expect(id).toMatch(/^notif_/);
    expect(typeof parsed.first_sent_at).toBe("number");
    expect(typeof parsed.created_at).toBe("number");
  });
});
