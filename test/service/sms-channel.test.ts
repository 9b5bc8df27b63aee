import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyDeliveryStatus, smsNotification } from "../../service/src/channels/sms/channel";
import { helpReply, quotaNotice } from "../../service/src/channels/sms/notices";
import type { Database, Sql } from "../../service/src/db/client";
import { eraseSubject } from "../../service/src/db/erasure";
import { migrate } from "../../service/src/db/migrate";
import { purgeSmsMessages } from "../../service/src/db/retention";
import { asPlatform, inTenant } from "../../service/src/db/tenant-scope";
import { smsUsageByDay } from "../../service/src/db/usage-report";
import { createLogger } from "../../service/src/logger";
import { LogCapture, testDatabase } from "./helpers";
import { createTenant, FakeSmsClient, type SmsWorld, smsWorld } from "./sms-fakes";

/**
 * The SMS channel on the inbound pipeline, on a real database, with a fake provider account (the port,
 * with scripted failures), a fake model and a task queue the test runs by hand. Each test texts from its
 * own customer number, so tests share the tenants without sharing conversations.
 */

let db: Database;
let inspect: Sql;
let drop: () => Promise<void>;
let tenantA: string;
let tenantB: string;
let seq = 0;

beforeAll(async () => {
  const t = await testDatabase();
  db = t.db;
  inspect = t.inspect;
  drop = t.drop;
  await migrate(db.sql);
  tenantA = await createTenant(inspect, "sms-a");
  tenantB = await createTenant(inspect, "sms-b");
});
afterAll(async () => {
  await drop?.();
});

/** A customer number no other test uses. */
const customer = () => `+1415555${String(1000 + ++seq).padStart(4, "0")}`;
/** A tenant number no other test uses (one number, one connection). */
const businessNumber = () => `+1212555${String(1000 + ++seq).padStart(4, "0")}`;

function world(
  tenantId = tenantA,
  opts: Omit<Parameters<typeof smsWorld<FakeSmsClient>>[2], "number"> = {},
): SmsWorld {
  return smsWorld<FakeSmsClient>(db, tenantId, { number: businessNumber(), ...opts });
}

const outcomes = (phone: string) =>
  inspect<{ outcome: string; status: string }[]>`
    select outcome, status from outbox where channel = 'sms' and conversation_id = ${phone} order by created_at`;

const consent = (tenantId: string, phone: string) =>
  inspect<{ status: string; source: string; keyword: string | null }[]>`
    select status, source, keyword from sms_consent where tenant_id = ${tenantId} and phone = ${phone} order by id`;

describe("answering a text", () => {
  test("a text is answered once through the number it was sent to, even when delivered twice", async () => {
    const w = world();
    const phone = customer();
    expect(await w.text(phone, "When are you open?", "SM-dup-1")).toMatchObject({
      status: "accepted",
      queued: 1,
    });
    expect(await w.text(phone, "When are you open?", "SM-dup-1")).toMatchObject({ status: "duplicate" });
    expect(await w.work()).toEqual(["answered"]);
    expect(w.client.sent.map((s) => [s.from, s.to, s.text])).toEqual([
      [w.number, phone, "Answer to: When are you open?"],
    ]);
    const [turn] = w.engine.turns;
    expect(turn).toMatchObject({
      channel: "sms",
      externalRef: phone,
      identity: { id: `phone:${phone}`, kind: "phone" },
    });
    const [contact] = await inspect<{ id: string }[]>`
      select id from contacts where tenant_id = ${tenantA} and phone = ${phone}`;
    expect(contact).toBeDefined();
    const records = await inspect<{ direction: string; status: string; providerMessageId: string }[]>`
      select direction, status, provider_message_id from sms_messages where customer_phone = ${phone} order by created_at`;
    expect(records).toEqual([
      { direction: "inbound", status: "received", providerMessageId: "SM-dup-1" },
      { direction: "outbound", status: "queued", providerMessageId: w.client.sent[0]?.id },
    ]);
    // The conversation id is the customer's number: the turn's log line names it only hashed.
    expect(w.logs.events("conversation.processed")).toHaveLength(1);
    expect(w.logs.raw.join("\n")).not.toContain(phone.slice(1));
  });

  test("a long Markdown reply goes out plain and within the tenant's segments", async () => {
    const w = world(tenantA, { settings: { maxSegments: 1 } });
    w.engine.reply = () =>
      `**Hours**: ${"we are open every day from nine to five, ".repeat(10)}see https://example.com/hours`;
    await w.text(customer(), "hours?");
    await w.work();
    const [sent] = w.client.sent;
    expect(sent?.text).not.toContain("**");
    expect(sent?.text.length).toBeLessThanOrEqual(160);
  });
});

describe("consent keywords", () => {
  test.each([
    "STOP",
    "stop",
    "StopAll",
    "unsubscribe",
    "Quit.",
  ])("%s records an opt-out, sends nothing, and later texts go unanswered", async (keyword) => {
    const w = world();
    const phone = customer();
    await w.text(phone, keyword);
    expect(await w.work()).toEqual(["skipped"]);
    await w.text(phone, "Are you still there?");
    await w.work();
    expect(w.client.sent).toEqual([]);
    expect(w.engine.turns).toEqual([]);
    expect(await outcomes(phone)).toEqual([
      { outcome: "opted_out", status: "done" },
      { outcome: "opted_out", status: "skipped" },
    ]);
    expect(await consent(tenantA, phone)).toEqual([
      { status: "opted_out", source: "keyword", keyword: expect.stringMatching(/^[A-Z ]+$/) },
    ]);
    expect(w.logs.events("sms.consent")).toMatchObject([{ outcome: "opted_out", provider: "twilio" }]);
  });

  test("START after STOP is recorded without a reply, and the next question is answered again", async () => {
    const w = world();
    const phone = customer();
    await w.text(phone, "STOP");
    await w.work();
    await w.text(phone, "start");
    await w.work();
    expect(w.client.sent).toEqual([]);
    await w.text(phone, "Back again: do you deliver?");
    await w.work();
    expect(w.client.sent.map((s) => s.text)).toEqual(["Answer to: Back again: do you deliver?"]);
    expect((await consent(tenantA, phone)).map((c) => c.status)).toEqual(["opted_out", "opted_in"]);
  });

  test("HELP is answered with the tenant's help text, not by the model", async () => {
    const w = world(tenantA, {
      settings: { helpText: "Acme support: call 555-0100. Reply STOP to opt out." },
    });
    const phone = customer();
    await w.text(phone, "help");
    expect(await w.work()).toEqual(["answered"]);
    expect(w.client.sent.map((s) => s.text)).toEqual([helpReply(w.settings)]);
    expect(w.client.sent[0]?.text).toContain("555-0100");
    expect(w.engine.turns).toEqual([]);
  });
});

describe("provider failures", () => {
  test("a 429 then success: one reply, and the model asked once", async () => {
    const w = world();
    const phone = customer();
    w.client.script.push({ fail: "rate_limited", status: 429, code: "20429" });
    await w.text(phone, "What's the price?");
    expect(await w.work()).toEqual(["retry"]);
    expect(w.queue.tasks).toHaveLength(1);
    expect(await w.work()).toEqual(["answered"]);
    expect(w.client.sent.map((s) => s.text)).toEqual(["Answer to: What's the price?"]);
    expect(w.engine.turns).toHaveLength(1);
    const [row] = await inspect<{ reply: string | null; outcome: string }[]>`
      select reply, outcome from outbox where conversation_id = ${phone}`;
    expect(row).toEqual({ reply: null, outcome: "answered" });
  });

  test("the provider's opt-out error records an opt-out and is not retried", async () => {
    const w = world();
    const phone = customer();
    w.client.script.push({ fail: "opted_out", status: 400, code: "21610" });
    await w.text(phone, "hello?");
    expect(await w.work()).toEqual(["skipped"]);
    expect(w.queue.tasks).toEqual([]);
    expect(await outcomes(phone)).toEqual([{ outcome: "opted_out", status: "skipped" }]);
    expect(await consent(tenantA, phone)).toEqual([
      { status: "opted_out", source: "provider_error", keyword: null },
    ]);
    const [record] = await inspect<{ status: string; errorCode: string }[]>`
      select status, error_code from sms_messages where customer_phone = ${phone} and direction = 'outbound'`;
    expect(record).toEqual({ status: "failed", errorCode: "21610" });
  });

  test("an invalid number ends the attempt with that outcome", async () => {
    const w = world();
    const phone = customer();
    w.client.script.push({ fail: "invalid_number", status: 400, code: "21211" });
    await w.text(phone, "hi");
    expect(await w.work()).toEqual(["skipped"]);
    expect(w.queue.tasks).toEqual([]);
    expect(await outcomes(phone)).toEqual([{ outcome: "invalid_number", status: "skipped" }]);
  });
});

describe("a crash between the send and its record", () => {
  const crash = async (client: FakeSmsClient, die: "before" | "after") => {
    const first = world(tenantA, { client, leaseSeconds: 1 });
    const phone = customer();
    client.script.push({ die });
    await first.text(phone, "Is it in stock?");
    void first.work(); // this process dies inside the provider call
    await new Promise((r) => setTimeout(r, 1300));
    const second = first.restart();
    const [row] = await inspect<{ id: string }[]>`select id from outbox where conversation_id = ${phone}`;
    await second.pipeline.process(row?.id as string, tenantA);
    return { phone, second };
  };

  test("the provider has the message: the next attempt finds it and sends nothing again", async () => {
    const client = new FakeSmsClient();
    const { phone, second } = await crash(client, "after");
    expect(client.sent).toHaveLength(1);
    expect(second.engine.turns).toEqual([]);
    expect(await outcomes(phone)).toEqual([{ outcome: "already_answered", status: "done" }]);
    const [record] = await inspect<{ providerMessageId: string | null }[]>`
      select provider_message_id from sms_messages where customer_phone = ${phone} and direction = 'outbound'`;
    expect(record?.providerMessageId).toBe(client.sent[0]?.id);
  });

  test("the provider never got it: the stored reply is sent once, without asking the model again", async () => {
    const client = new FakeSmsClient();
    const { phone, second } = await crash(client, "before");
    expect(client.sent.map((s) => s.text)).toEqual(["Answer to: Is it in stock?"]);
    expect(second.engine.turns).toEqual([]);
    expect(await outcomes(phone)).toEqual([{ outcome: "answered", status: "done" }]);
  });

  test("a provider that cannot be asked: nothing is sent again (at most once)", async () => {
    const client = new FakeSmsClient({ listable: false });
    const { phone } = await crash(client, "after");
    expect(client.sent).toHaveLength(1);
    expect(await outcomes(phone)).toEqual([{ outcome: "already_answered", status: "done" }]);
  });
});

describe("quota", () => {
  test("over the daily quota the customer gets one notice, then silence, and usage shows it", async () => {
    const tenant = await createTenant(inspect, `sms-quota-${++seq}`);
    const w = world(tenant, { settings: { dailyLimit: 1 } });
    const phone = customer();
    for (const text of ["first question", "second question", "third question"]) {
      await w.text(phone, text);
      await w.work();
    }
    expect(w.client.sent.map((s) => s.text)).toEqual([
      "Answer to: first question",
      quotaNotice(w.settings, "day"),
    ]);
    expect(w.engine.turns).toHaveLength(1);
    expect((await outcomes(phone)).map((o) => o.outcome)).toEqual([
      "answered",
      "sms_quota_reached",
      "sms_quota_reached",
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const usage = await inTenant(tenant, () => smsUsageByDay(db.sql, { from: today, to: today }));
    expect(usage).toEqual([{ day: today, sent: 2, failed: 0, optedOut: 0, quotaHits: 2 }]);
  });
});

describe("delivery status", () => {
  test("status reports move a message forward only, keep a failure's code, and an opt-out code opts out", async () => {
    const w = world();
    const phone = customer();
    await w.text(phone, "q1");
    await w.work();
    const id = w.client.sent[0]?.id as string;
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const report = (status: "sent" | "delivered" | "failed", errorCode?: string, to = phone) =>
      inTenant(tenantA, () =>
        applyDeliveryStatus(db.sql, log, w.connectionId, {
          kind: "status",
          providerMessageId: id,
          status,
          errorCode,
          from: w.number,
          to,
        }),
      );
    await report("delivered");
    await report("sent");
    const status = async () =>
      (
        await inspect<{ status: string; errorCode: string | null }[]>`
        select status, error_code from sms_messages where provider_message_id = ${id}`
      )[0];
    expect(await status()).toEqual({ status: "delivered", errorCode: null });
    expect(logs.events("sms.delivery")).toMatchObject([
      { provider: "twilio", deliveryStatus: "delivered" },
      { provider: "twilio", deliveryStatus: "sent" },
    ]);

    await w.text(phone, "q2");
    await w.work();
    const second = w.client.sent[1]?.id as string;
    await inTenant(tenantA, () =>
      applyDeliveryStatus(db.sql, log, w.connectionId, {
        kind: "status",
        providerMessageId: second,
        status: "failed",
        errorCode: "21610",
        from: w.number,
        to: phone,
      }),
    );
    expect(
      (await inspect`select status, error_code from sms_messages where provider_message_id = ${second}`)[0],
    ).toEqual({ status: "failed", errorCode: "21610" });
    expect(await consent(tenantA, phone)).toEqual([
      { status: "opted_out", source: "provider_error", keyword: null },
    ]);
    // Another tenant's report about this message changes nothing of tenant A's.
    await inTenant(tenantB, () =>
      applyDeliveryStatus(db.sql, log, w.connectionId, {
        kind: "status",
        providerMessageId: id,
        status: "failed",
        errorCode: "30003",
        from: w.number,
        to: phone,
      }),
    );
    expect(await status()).toEqual({ status: "delivered", errorCode: null });
  });
});

describe("tenants", () => {
  test("the same customer texting two businesses has two threads, two contacts and separate consent", async () => {
    const a = world(tenantA);
    const b = world(tenantB);
    const phone = customer();
    await a.text(phone, "STOP");
    await a.work();
    await b.text(phone, "Do you ship to Canada?");
    await b.work();
    expect(a.client.sent).toEqual([]);
    expect(b.client.sent.map((s) => [s.from, s.text])).toEqual([
      [b.number, "Answer to: Do you ship to Canada?"],
    ]);
    const contacts = await inspect<{ tenantId: string }[]>`
      select tenant_id from contacts where phone = ${phone} order by tenant_id`;
    expect(contacts.map((c) => c.tenantId).sort()).toEqual([tenantA, tenantB].sort());
    expect(await consent(tenantB, phone)).toEqual([]);
    // Tenant B's scope sees none of A's contacts, consent or delivery records of this customer.
    const seenByB = await inTenant(tenantB, async () => ({
      consent: await db.sql`select 1 from sms_consent where phone = ${phone}`,
      contacts: await db.sql<{ tenantId: string }[]>`select tenant_id from contacts where phone = ${phone}`,
      messages: await db.sql<
        { tenantId: string }[]
      >`select tenant_id from sms_messages where customer_phone = ${phone}`,
    }));
    expect(seenByB.consent).toHaveLength(0);
    expect(seenByB.contacts.map((c) => c.tenantId)).toEqual([tenantB]);
    expect(new Set(seenByB.messages.map((m) => m.tenantId))).toEqual(new Set([tenantB]));
  });
});

describe("handoff", () => {
  test("asking for a person hands over with one notice and the bot then stays silent", async () => {
    const w = world();
    const phone = customer();
    await w.text(phone, "Can I talk to a person please");
    expect(await w.work()).toEqual(["handoff"]);
    expect(w.client.sent).toHaveLength(1);
    expect(w.client.sent[0]?.text).toMatch(/person/i);
    await w.text(phone, "hello?");
    await w.work();
    expect(w.client.sent).toHaveLength(1);
    expect(w.engine.turns).toEqual([]);
  });
});

describe("erasure", () => {
  test("erasing a texting customer removes their thread, contact and delivery records but keeps their opt-out", async () => {
    const a = world(tenantA);
    const b = world(tenantB);
    const phone = customer();
    await a.text(phone, "my order is late");
    await a.work();
    await a.text(phone, "STOP");
    await a.work();
    await b.text(phone, "hello B");
    await b.work();
    const { counts } = await inTenant(tenantA, () =>
      eraseSubject(
        db.sql,
        { identityIds: [], contactId: null, phone },
        { actor: "test", requestId: "req-1", subjectRef: "ref-1", deletedUpstream: false },
      ),
    );
    expect(counts).toMatchObject({ contacts: 1, smsMessages: 3, outbox: 2 });
    const left = async (tenantId: string) => ({
      contacts: (await inspect`select 1 from contacts where tenant_id = ${tenantId} and phone = ${phone}`)
        .length,
      messages: (
        await inspect`select 1 from sms_messages where tenant_id = ${tenantId} and customer_phone = ${phone}`
      ).length,
      outbox: (
        await inspect`select 1 from outbox where tenant_id = ${tenantId} and conversation_id = ${phone}`
      ).length,
    });
    expect(await left(tenantA)).toEqual({ contacts: 0, messages: 0, outbox: 0 });
    // Kept for compliance: without it the number could be texted again after opting out.
    expect((await consent(tenantA, phone)).map((c) => c.status)).toEqual(["opted_out"]);
    expect(await left(tenantB)).toEqual({ contacts: 1, messages: 2, outbox: 1 });
  });
});

describe("smsNotification", () => {
  test("a webhook without texts records nothing; texts become one delivery keyed by the number and the provider's id", () => {
    const status = {
      kind: "status" as const,
      providerMessageId: "SM-out",
      status: "delivered" as const,
      from: "+12125550100",
      to: "+14155550100",
    };
    expect(smsNotification("conn-1", [status, { kind: "other", type: "message.finalized" }])).toEqual({
      kind: "probe",
    });
    const text = (id: string, from: string) => ({
      kind: "message" as const,
      providerMessageId: id,
      from,
      to: "+12125550100",
      text: `hi ${id}`,
      media: [],
    });
    expect(
      smsNotification("conn-1", [
        text("SM-1", "+14155550100"),
        text("SM-2", "+14155550100"),
        text("SM-3", "+4930"),
      ]),
    ).toEqual({
      kind: "delivery",
      delivery: {
        // Provider ids are unique per provider account only (Voxie's are small integers).
        id: "conn-1:SM-1",
        topic: "message.received",
        conversations: [
          {
            id: "+14155550100",
            contactId: null,
            messages: [
              { id: "SM-1", text: "hi SM-1", via: "conn-1" },
              { id: "SM-2", text: "hi SM-2", via: "conn-1" },
            ],
          },
          { id: "+4930", contactId: null, messages: [{ id: "SM-3", text: "hi SM-3", via: "conn-1" }] },
        ],
      },
    });
  });
});

describe("retention", () => {
  test("old delivery records are purged, except a pending one a crash may still need", async () => {
    const tenant = await createTenant(inspect, `sms-retention-${++seq}`);
    const record = (status: string, age: string) =>
      inspect.unsafe(
        `insert into sms_messages (tenant_id, direction, provider, customer_phone, business_phone, status, created_at)
         values ($1, 'outbound', 'twilio', '+14155550100', '+12125550100', $2, now() - $3::interval)`,
        [tenant, status, age],
      );
    await record("delivered", "40 days");
    await record("pending", "40 days");
    await record("delivered", "1 day");
    const purged = await asPlatform(() => purgeSmsMessages(db.sql, 30, 1000));
    expect(purged).toBeGreaterThanOrEqual(1);
    const left = await inspect<{ status: string }[]>`
      select status from sms_messages where tenant_id = ${tenant} order by created_at`;
    expect(left.map((r) => r.status)).toEqual(["pending", "delivered"]);
  });
});
