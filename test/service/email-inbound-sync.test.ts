import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { EmailDeliveryRecorder } from "../../service/src/channels/email/inbound-message";
import type { MailboxAccess } from "../../service/src/channels/email/mailbox-access";
import { mailboxSyncSweep } from "../../service/src/channels/email/sync-sweep";
import { mergeContact } from "../../service/src/db/contacts";
import { takeSyncLease } from "../../service/src/db/email-sync";
import { inTenant } from "../../service/src/db/tenant-scope";
import { GmailApiError, type GmailMailbox } from "../../service/src/ports/gmail";
import type { MailFields } from "../emulators/gmail";
import {
  connectMailbox,
  createTenant,
  type EmailWorld,
  emailOutbox,
  inboundRows,
  mailboxState,
  pushedRequest,
  runSyncTasks,
  signedPush,
  startEmailWorld,
} from "./email-inbound-world";

/**
 * The mailbox sync worker against the Gmail emulator (the real adapter) and the real pipeline: each new
 * mail is read once, recorded with its threading facts, skipped with a reason or handed to the pipeline as
 * one message of its thread's conversation, whatever pushes, overlaps, 404s and crashes bring. Each test
 * connects mailboxes of its own.
 */

let w: EmailWorld;
let tenantA: string;
let tenantB: string;
let seq = 0;

beforeAll(async () => {
  w = await startEmailWorld();
  tenantA = await createTenant(w, "sync-a");
  tenantB = await createTenant(w, "sync-b");
}, 60_000);
afterAll(async () => {
  await w?.close();
});
beforeEach(() => {
  w.queue.tasks = [];
});

/** A mailbox of its own for a test, connected in `tenantId`. */
async function mailbox(tenantId = tenantA) {
  const address = `support${++seq}@${tenantId === tenantA ? "alpha" : "bravo"}.example`;
  return { address, connectionId: await connectMailbox(w, tenantId, address), tenantId };
}

type Box = Awaited<ReturnType<typeof mailbox>>;

const customer = (over: Partial<MailFields> = {}): MailFields => ({
  from: '"Jane Doe" <Jane.Doe@customer.example>',
  to: "placeholder",
  subject: "Where is my order?",
  text: "Hello, my order 1234 has not arrived yet.\n\nOn Mon, Bob wrote:\n> an older message",
  ...over,
});

/** Mail arrives in the box and Gmail pushes about it; the push goes through the door. */
async function mailAndPush(box: Box, over: Partial<MailFields> = {}) {
  const notification = await w.emu.deliver(box.address, customer({ to: box.address, ...over }));
  expect(await w.push.receive(pushedRequest(await signedPush(w, notification)))).toEqual({
    status: "accepted",
  });
  return notification;
}

const ours = async (box: Box) => (await emailOutbox(w)).filter((r) => r.replyVia === box.connectionId);
const gets = (id: string) =>
  w.emu.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/messages/${id}`));

describe("a push, then its sync", () => {
  test("hands each new mail to the pipeline once, as its thread's conversation, after the tenant's delay", async () => {
    const box = await mailbox();
    w.settings.set(tenantA, { delaySeconds: 90 });
    const date = new Date(Math.floor(Date.now() / 1000) * 1000);
    await mailAndPush(box, { date, cc: "boss@customer.example" });
    await mailAndPush(box, {
      from: "Carl <carl@customer.example>",
      subject: "Refund",
      text: "I want a refund.",
      headers: { "Reply-To": "refunds@customer.example", References: "<older@customer.example>" },
    });
    expect(await runSyncTasks(w)).toEqual(["synced", "synced"]);
    w.settings.delete(tenantA);

    const [jane, carl] = w.emu.messages(box.address);
    if (!jane || !carl) throw new Error("the mail did not arrive");
    const rows = await ours(box);
    expect(rows).toEqual([
      {
        conversationId: `${box.connectionId}:${jane.threadId}`,
        partId: jane.id,
        body: "Hello, my order 1234 has not arrived yet.",
        replyVia: box.connectionId,
        leaseUntil: new Date(date.getTime() + 90_000),
        tenantId: tenantA,
      },
      expect.objectContaining({
        conversationId: `${box.connectionId}:${carl.threadId}`,
        partId: carl.id,
        body: "I want a refund.",
      }),
    ]);
    const [janeRow, carlRow] = await inboundRows(w, box.connectionId);
    expect(janeRow).toMatchObject({
      gmailId: jane.id,
      threadId: jane.threadId,
      tenantId: tenantA,
      status: "queued",
      reason: null,
      rfc822MessageId: w.emu.header(jane, "Message-ID"),
      fromAddress: "jane.doe@customer.example",
      fromName: "Jane Doe",
      toAddresses: [box.address],
      ccAddresses: ["boss@customer.example"],
      subject: "Where is my order?",
      receivedAt: date,
    });
    expect(carlRow).toMatchObject({
      replyTo: ["refunds@customer.example"],
      references: ["<older@customer.example>"],
    });
    const [contact] = await w.inspect<{ id: string; name: string; channels: string[] }[]>`
      select id, name, channels from contacts where tenant_id = ${tenantA} and email = 'jane.doe@customer.example'`;
    expect(contact).toMatchObject({ name: "Jane Doe", channels: ["email"] });
    expect(janeRow?.contactId).toBe(contact?.id);
    const state = await mailboxState(w, box.connectionId);
    expect(state?.historyId).toBe(String(w.emu.mailbox(box.address).historyId));
    expect(state?.syncLeaseUntil).toBeNull();
    expect(state?.syncedAt).not.toBeNull();
    // No customer address in the logs: only ids.
    expect(w.logs.raw.join("\n")).not.toContain("customer.example");
  });

  test("the same push twice, and two pushes whose ranges overlap, read each message once", async () => {
    const box = await mailbox();
    const start = (await mailboxState(w, box.connectionId))?.historyId ?? "";
    const first = await w.emu.deliver(box.address, customer({ to: box.address }));
    await w.emu.deliver(box.address, customer({ to: box.address, text: "Second question" }));
    const push = await signedPush(w, first);
    await w.push.receive(pushedRequest(push));
    expect(await w.push.receive(pushedRequest(push))).toEqual({ status: "duplicate" });
    expect(await runSyncTasks(w)).toEqual(["synced"]);
    // A second sync from the old position (another task's overlapping range): nothing is read again.
    await w.inspect`update email_mailboxes set history_id = ${start}::numeric where connection_id = ${box.connectionId}`;
    const sync = w.syncer();
    expect(await sync.run(box.connectionId, tenantA)).toBe("synced");
    const ids = w.emu.messages(box.address).map((m) => m.id);
    expect((await ours(box)).map((r) => r.partId)).toEqual(ids);
    expect((await inboundRows(w, box.connectionId)).map((r) => r.gmailId)).toEqual(ids);
    for (const id of ids) expect(gets(id)).toHaveLength(1);
  });

  test("history gone (404): recent INBOX mail is listed instead, and what was read is not read again", async () => {
    const box = await mailbox();
    await mailAndPush(box, { text: "First" });
    await runSyncTasks(w);
    const second = await mailAndPush(box, { text: "Second" });
    w.emu.expireHistory(box.address);
    expect(await runSyncTasks(w)).toEqual(["synced"]);
    expect((await ours(box)).map((r) => r.body)).toEqual(["First", "Second"]);
    const [firstMail] = w.emu.messages(box.address);
    expect(gets(firstMail?.id ?? "")).toHaveLength(1);
    expect((await mailboxState(w, box.connectionId))?.historyId).toBe(String(second.historyId));
    expect(w.logs.events("email.history_gone").length).toBeGreaterThan(0);
  });

  test("a mailbox never synced reads the mail received since it was connected", async () => {
    const box = await mailbox();
    await w.inspect`update email_mailboxes set history_id = null where connection_id = ${box.connectionId}`;
    await w.emu.deliver(box.address, customer({ to: box.address, text: "Anyone there?" }));
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    expect((await ours(box)).map((r) => r.body)).toEqual(["Anyone there?"]);
  });
});

describe("mail that must not be answered", () => {
  const skipped: [string, string, Partial<MailFields>][] = [
    [
      "an auto-reply",
      "auto_reply",
      { headers: { "Auto-Submitted": "auto-replied" }, subject: "Out of office" },
    ],
    ["bulk mail", "bulk", { headers: { "List-Unsubscribe": "<https://news.example/u>" } }],
    ["a bounce", "mailer_daemon", { from: "Mail Delivery Subsystem <MAILER-DAEMON@mx.customer.example>" }],
    ["a colleague's mail", "own_domain", { from: "Ann <ann@alpha.example>" }],
  ];
  test.each(
    skipped,
  )("%s is recorded skipped (%s), labelled, and never queued", async (_name, reason, over) => {
    const box = await mailbox();
    w.settings.set(tenantA, { ownDomains: ["alpha.example"] });
    await mailAndPush(box, over);
    await runSyncTasks(w);
    w.settings.delete(tenantA);
    expect(await ours(box)).toEqual([]);
    expect(await inboundRows(w, box.connectionId)).toMatchObject([
      { status: "skipped", reason, contactId: null },
    ]);
    const label = w.emu.mailbox(box.address).labels.find((l) => l.name === "Switchboard/Skipped");
    expect(w.emu.messages(box.address)[0]?.labelIds).toContain(label?.id);
  });

  test("a reply Switchboard sent itself (its Message-ID recorded) is skipped", async () => {
    const box = await mailbox();
    const messageId = `<sb.${randomUUID()}@alpha.example>`;
    await inTenant(
      tenantA,
      () =>
        w.sql`
        insert into email_messages (connection_id, direction, thread_id, rfc822_message_id, answers_gmail_id, status)
        values (${box.connectionId}, 'outbound', 't', ${messageId}, 'g', 'sent')`,
    );
    await mailAndPush(box, { messageId, from: "Jane <jane@customer.example>" });
    await runSyncTasks(w);
    expect(await inboundRows(w, box.connectionId)).toMatchObject([
      { status: "skipped", reason: "sent_by_switchboard" },
    ]);
    expect(await ours(box)).toEqual([]);
  });

  test("mail over the size limit is skipped without its body being decoded", async () => {
    const box = await mailbox();
    await mailAndPush(box, { text: `Please see below.\n${"x".repeat(8000)}` });
    await runSyncTasks(w, w.syncer({ maxBytes: 4096 }));
    expect(await inboundRows(w, box.connectionId)).toMatchObject([
      { status: "skipped", reason: "too_large", subject: "Where is my order?" },
    ]);
    expect(await ours(box)).toEqual([]);
  });
});

describe("failures", () => {
  test("a revoked grant during the sync hands the mailbox to MailboxAccess.revoked and reads nothing", async () => {
    const box = await mailbox();
    await mailAndPush(box);
    w.emu.revokeGrants(box.address);
    w.emu.expireAccessTokens();
    w.access.forget(box.connectionId);
    expect(await runSyncTasks(w)).toEqual(["revoked"]);
    expect(w.revoked).toContainEqual({ tenantId: tenantA, connectionId: box.connectionId });
    expect(await inboundRows(w, box.connectionId)).toEqual([]);
    expect((await mailboxState(w, box.connectionId))?.syncLeaseUntil).toBeNull();
  });

  test("Gmail's 'come back later' schedules the sync for the time it named", async () => {
    const box = await mailbox();
    const retryAt = new Date(Date.now() + 60_000);
    const limited: Pick<MailboxAccess, "open" | "revoked"> = {
      open: async (tenantId, connectionId) => {
        const opened = await w.access.open(tenantId, connectionId);
        if (!opened) return undefined;
        const refusal = new GmailApiError(
          "Gmail answered 429 (rateLimitExceeded)",
          429,
          "rateLimitExceeded",
          retryAt,
        );
        const gmail = Object.assign(Object.create(opened.gmail) as GmailMailbox, {
          history: () => Promise.reject(refusal),
        });
        return { row: opened.row, gmail };
      },
      revoked: (tenantId, row) => w.access.revoked(tenantId, row),
    };
    const before = (await mailboxState(w, box.connectionId))?.syncRequests ?? 0;
    expect(await w.syncer({ access: limited }).run(box.connectionId, tenantA)).toBe("rate_limited");
    // Counted with the replies' Gmail failures (switchboard_upstream_errors, upstream gmail).
    expect(w.logs.events("upstream.error").at(-1)).toMatchObject({
      upstream: "gmail",
      status: 429,
      task: "mailbox-sync",
      connectionId: box.connectionId,
    });
    expect(w.queue.tasks).toEqual([
      {
        id: box.connectionId,
        kind: "mailbox-sync",
        attempt: before + 1,
        tenantId: tenantA,
        notBefore: retryAt,
      },
    ]);
    expect((await mailboxState(w, box.connectionId))?.syncLeaseUntil).toBeNull();
  });

  test("a crash after some messages were recorded: the re-run takes each message once", async () => {
    const box = await mailbox();
    for (const text of ["One", "Two", "Three"]) await mailAndPush(box, { text });
    const [, second] = w.emu.messages(box.address);
    // A failure the client does not retry (it retries 5xx itself): the sync stops there, as if it crashed.
    w.emu.failNext({ code: 400, status: "FAILED_PRECONDITION", pathIncludes: `/messages/${second?.id}` });
    await expect(w.syncer().run(box.connectionId, tenantA)).rejects.toThrow(/400/);
    expect(w.logs.events("upstream.error").at(-1)).toMatchObject({ upstream: "gmail", status: 400 });
    expect((await ours(box)).map((r) => r.body)).toEqual(["One"]);
    const stuck = await mailboxState(w, box.connectionId);
    expect(stuck?.syncLeaseUntil).toBeNull();
    expect(Number(stuck?.historyId)).toBeLessThan(Number(stuck?.pushedHistoryId));
    w.queue.tasks = [];
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    expect((await ours(box)).map((r) => r.body)).toEqual(["One", "Two", "Three"]);
    expect((await inboundRows(w, box.connectionId)).map((r) => r.status)).toEqual([
      "queued",
      "queued",
      "queued",
    ]);
  });

  test("a crash between the record and the hand-over: the re-run hands the message over, once", async () => {
    const box = await mailbox();
    await mailAndPush(box, { text: "Are you open?" });
    const crashing: EmailDeliveryRecorder = {
      acceptVerified: () => Promise.reject(new Error("process died")),
    };
    w.queue.tasks = [];
    await expect(w.syncer({ pipeline: crashing }).run(box.connectionId, tenantA)).rejects.toThrow(
      "process died",
    );
    expect(await inboundRows(w, box.connectionId)).toMatchObject([{ status: "queued" }]);
    expect(await ours(box)).toEqual([]);
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    expect((await ours(box)).map((r) => r.body)).toEqual(["Are you open?"]);
  });

  test("a sync while another holds the mailbox leaves it to the holder, which reads what was pushed meanwhile", async () => {
    const box = await mailbox();
    await mailAndPush(box, { text: "First" });
    w.queue.tasks = [];
    const busy = await inTenant(tenantA, () => takeSyncLease(w.sql, box.connectionId, 60));
    expect(busy.kind).toBe("taken");
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("busy");
    await w.inspect`update email_mailboxes set sync_lease_until = null where connection_id = ${box.connectionId}`;
    // While the holder hands over the first mail, a second one arrives and is pushed.
    const late: EmailDeliveryRecorder = {
      acceptVerified: async (name, tenantId, parsed) => {
        const ack = await w.pipeline.acceptVerified(name, tenantId, parsed);
        if (w.emu.messages(box.address).length === 1) await mailAndPush(box, { text: "Second" });
        return ack;
      },
    };
    w.queue.tasks = [];
    expect(await w.syncer({ pipeline: late }).run(box.connectionId, tenantA)).toBe("synced");
    expect((await ours(box)).map((r) => r.body)).toEqual(["First", "Second"]);
    // The second push's own task finds nothing left to do.
    expect(await runSyncTasks(w)).toEqual(["synced"]);
    expect(await ours(box)).toHaveLength(2);
  });
});

describe("contacts", () => {
  test("the sender's contact folded into an older one keeps the mail's record (and so its one answer)", async () => {
    const box = await mailbox();
    const phone = await inTenant(tenantA, () =>
      mergeContact(w.sql, { phone: "+14155550199", channel: "sms" }),
    );
    await mailAndPush(box, { from: "Pat <pat@customer.example>", text: "Hi" });
    await runSyncTasks(w);
    // The caller gives the same e-mail on the phone: one person, the older contact kept.
    await inTenant(tenantA, () =>
      mergeContact(w.sql, { phone: "+14155550199", email: "pat@customer.example", channel: "voice" }),
    );
    expect(await inboundRows(w, box.connectionId)).toMatchObject([{ status: "queued", contactId: phone.id }]);
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    await w.inspect`update email_mailboxes set history_id = history_id - 1 where connection_id = ${box.connectionId}`;
    expect(await w.syncer().run(box.connectionId, tenantA)).toBe("synced");
    expect(await ours(box)).toHaveLength(1);
  });
});

describe("tenants", () => {
  test("two tenants' mailboxes with the same thread id keep their conversations apart", async () => {
    const a = await mailbox(tenantA);
    const b = await mailbox(tenantB);
    await w.emu.deliver(a.address, customer({ to: a.address, text: "From A's customer" }));
    await w.emu.deliver(b.address, customer({ to: b.address, text: "From B's customer" }));
    // Thread ids are unique per mailbox only: make B's the same as A's.
    const threadId = w.emu.messages(a.address)[0]?.threadId ?? "";
    const boxB = w.emu.mailbox(b.address);
    for (const m of boxB.messages) m.threadId = threadId;
    for (const h of boxB.history) h.message.threadId = threadId;
    expect(await w.syncer().run(a.connectionId, tenantA)).toBe("synced");
    expect(await w.syncer().run(b.connectionId, tenantB)).toBe("synced");
    expect((await ours(a)).map((r) => [r.conversationId, r.body, r.tenantId])).toEqual([
      [`${a.connectionId}:${threadId}`, "From A's customer", tenantA],
    ]);
    expect((await ours(b)).map((r) => [r.conversationId, r.body, r.tenantId])).toEqual([
      [`${b.connectionId}:${threadId}`, "From B's customer", tenantB],
    ]);
    // Each tenant's contact of the same customer is its own.
    const contacts = await w.inspect<{ tenantId: string }[]>`
      select tenant_id from contacts where email = 'jane.doe@customer.example' and tenant_id in (${tenantA}, ${tenantB})`;
    expect(contacts.map((c) => c.tenantId).sort()).toEqual([tenantA, tenantB].sort());
  });

  test("a task naming the wrong tenant finds no mailbox and touches nothing", async () => {
    const a = await mailbox(tenantA);
    await w.emu.deliver(a.address, customer({ to: a.address }));
    expect(await w.syncer().run(a.connectionId, tenantB)).toBe("gone");
    expect(await inboundRows(w, a.connectionId)).toEqual([]);
  });
});

describe("the catch-up sweep", () => {
  test("asks for a sync of a mailbox whose push was lost, or that was not synced lately, and of no other", async () => {
    const pushed = await mailbox(tenantA);
    const stale = await mailbox(tenantA);
    const fresh = await mailbox(tenantA);
    const suspended = await mailbox(tenantB);
    // Every other test's mailbox caught up and just synced: only this test's states are due.
    await w.inspect`update email_mailboxes set synced_at = now(), pushed_history_id = history_id`;
    // A push recorded, its task lost: pushed beyond the stored position.
    await w.inspect`
      update email_mailboxes set pushed_history_id = history_id + 5 where connection_id = ${pushed.connectionId}`;
    await w.inspect`
      update email_mailboxes set synced_at = now() - interval '11 minutes' where connection_id = ${stale.connectionId}`;
    await w.inspect`
      update email_mailboxes set synced_at = null where connection_id = ${suspended.connectionId}`;
    await w.inspect`update tenants set status = 'suspended' where id = ${tenantB}`;
    w.queue.tasks = [];
    try {
      const sweep = mailboxSyncSweep({ sql: w.sql, log: w.log, queue: w.queue });
      expect(await sweep.run()).toEqual({ due: 2, requested: 2 });
      const asked = w.queue.tasks.map((t) => [t.id, t.tenantId, t.kind]);
      expect(asked.sort()).toEqual(
        [
          [pushed.connectionId, tenantA, "mailbox-sync"],
          [stale.connectionId, tenantA, "mailbox-sync"],
        ].sort(),
      );
      expect(asked.map(([id]) => id)).not.toContain(fresh.connectionId);
      // Each request is numbered anew, so Cloud Tasks' names never repeat.
      const before = w.queue.tasks.map((t) => t.attempt);
      w.queue.tasks = [];
      await sweep.run();
      expect(w.queue.tasks.map((t) => t.attempt)).toEqual(before.map((n) => n + 1));
      // A mailbox a sync holds is left to it.
      await inTenant(tenantA, () => takeSyncLease(w.sql, pushed.connectionId, 60));
      w.queue.tasks = [];
      await sweep.run();
      expect(w.queue.tasks.map((t) => t.id)).toEqual([stale.connectionId]);
    } finally {
      await w.inspect`update tenants set status = 'active' where id = ${tenantB}`;
      await w.inspect`update email_mailboxes set sync_lease_until = null, synced_at = now()`;
    }
  });
});
