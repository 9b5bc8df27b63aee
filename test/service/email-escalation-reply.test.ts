import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentReplies } from "../../service/src/channels/pipeline/agent-reply";
import { findEscalation } from "../../service/src/db/escalations";
import { inTenant } from "../../service/src/db/tenant-scope";
import { parseWeeklyHours, type WeeklyHours } from "../../service/src/domain/business-hours";
import { TenantEscalations } from "../../service/src/engine/escalations";
import { createLogger } from "../../service/src/logger";
import type { GmailMailbox } from "../../service/src/ports/gmail";
import type { StoredMessage } from "../emulators/gmail";
import {
  type ConnectedMailbox,
  connectedMailbox,
  emailRows,
  emailTestbed,
  FakeQueue,
  headerOf,
  partOf,
  type ReplyWorld,
  replyWorld,
  type Testbed,
  type WorldOptions,
} from "./email-reply-world";
import { FakeOutboundEvents } from "./escalation-fakes";
import { eventually, LogCapture } from "./helpers";

/**
 * A person answers an escalated e-mail thread (the console's reply, AgentReplies through the e-mail
 * channel's sender, the real Gmail adapter against the emulator): sent in the customer's thread, exactly once
 * per replyId, also through a crash between the record and Gmail's call.
 */

let bed: Testbed;
let n = 0;

beforeAll(async () => {
  bed = await emailTestbed();
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

const always = { ...(parseWeeklyHours("Mon-Sun 00:00-24:00") as WeeklyHours), timeZone: "UTC" };

function escalations() {
  return new TenantEscalations({
    sql: bed.db.sql,
    events: new FakeOutboundEvents(),
    queue: new FakeQueue(),
    log: createLogger({ level: "info", destination: new LogCapture() }),
    settings: async () => ({ emails: [], resumeBotOnResolve: true, intercomInbox: true, hours: always }),
    mailer: false,
  });
}

/** A customer mails the tenant's mailbox and asks for a person: the escalation, and their message. */
async function escalatedThread(opts: WorldOptions = {}) {
  n++;
  const box = await connectedMailbox(bed, `esc-mail-${n}`, `desk${n}@acme.example`);
  const w = replyWorld(bed, box, { escalations: escalations(), hours: always, ...opts });
  const inbound = await w.receive({
    from: "Jane <jane@customer.example>",
    to: box.address,
    subject: "Broken order",
    text: "My order arrived broken. I want to talk to a person.",
  });
  expect(await w.work()).toEqual(["handoff"]);
  const [row] = await bed.inspect<{ id: string }[]>`
    select id::text from escalations where tenant_id = ${box.tenantId} and channel = 'email'`;
  return { box, w, inbound, escalationId: row?.id as string };
}

/** The console's reply, as the admin route runs it: in the tenant's scope, through a process's channels. */
function answer(
  box: ConnectedMailbox,
  w: ReplyWorld,
  escalationId: string,
  reply: { id: string; text: string },
  resumeAfterSeconds?: number,
) {
  const replies = new AgentReplies({ sql: bed.db.sql, channels: w.pipeline, resumeAfterSeconds });
  return inTenant(box.tenantId, async () => {
    const escalation = await findEscalation(bed.db.sql, escalationId);
    if (!escalation) throw new Error("no escalation");
    return replies.send(box.tenantId, escalation, { ...reply, author: "sam@acme.example" });
  });
}

const withText = (address: string, text: string) =>
  bed.emu.messages(address, "SENT").filter((m) => partOf(m, "text/plain")?.includes(text));

/** Gmail's client in a process that dies in its next send: after Gmail took it, or before. */
function dying(when: "after" | "before") {
  const never = () => new Promise<never>(() => {});
  return (gmail: GmailMailbox): GmailMailbox =>
    Object.assign(Object.create(gmail) as GmailMailbox, {
      send: (raw: Uint8Array, threadId: string) =>
        when === "before" ? never() : gmail.send(raw, threadId).then(() => never()),
    });
}

describe("an agent's answer to an escalated e-mail", () => {
  test("is sent once in the customer's thread, from the mailbox, and joins the conversation", async () => {
    const { box, w, inbound, escalationId } = await escalatedThread();
    const reply = { id: randomUUID(), text: "Hi Jane, Sam here: a replacement ships today." };

    expect(await answer(box, w, escalationId, reply)).toMatchObject({
      duplicate: false,
      row: { status: "sent", channel: "email", outcome: null },
    });
    expect(await answer(box, w, escalationId, reply)).toMatchObject({
      duplicate: true,
      row: { status: "sent" },
    });

    const sent = withText(box.address, "a replacement ships today");
    expect(sent).toHaveLength(1);
    const mail = sent[0] as StoredMessage;
    expect(mail.threadId).toBe(inbound.threadId);
    expect(headerOf(bed, mail, "In-Reply-To")).toBe(inbound.messageIdHeader);
    expect(headerOf(bed, mail, "References")).toContain(inbound.messageIdHeader);
    expect(headerOf(bed, mail, "Subject")).toBe("Re: Broken order");
    expect(headerOf(bed, mail, "To")).toBe("Jane <jane@customer.example>");
    expect(headerOf(bed, mail, "From")).toContain(box.address);
    // A person wrote it: not marked as an automatic reply (RFC 3834), unlike the bot's.
    expect(headerOf(bed, mail, "Auto-Submitted")).toBeUndefined();
    expect(headerOf(bed, bed.emu.messages(box.address, "SENT")[0], "Auto-Submitted")).toBe("auto-replied");
    // The handoff notice and this answer: nothing else went out.
    expect(bed.emu.messages(box.address, "SENT")).toHaveLength(2);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      direction: "outbound",
      status: "sent",
      reason: "agent_reply",
      answersGmailId: null,
      gmailId: mail.id,
    });
    const [message] = await bed.inspect<{ role: string; content: string }[]>`
      select m.role, m.content from messages m join sessions s on s.id = m.session_id
      where s.tenant_id = ${box.tenantId} and s.channel = 'email' order by m.id desc limit 1`;
    expect(message).toEqual({ role: "agent", content: reply.text });
  });

  test("a second answer (another replyId) is a second mail in the same thread", async () => {
    const { box, w, inbound, escalationId } = await escalatedThread();
    await answer(box, w, escalationId, { id: randomUUID(), text: "First: we are looking." });
    await answer(box, w, escalationId, { id: randomUUID(), text: "Second: it is on its way." });
    const replies = [...withText(box.address, "First:"), ...withText(box.address, "Second:")];
    expect(replies.map((m) => m.threadId)).toEqual([inbound.threadId, inbound.threadId]);
  });

  test("in draft mode it is still sent: the agent wrote it and chose to send it", async () => {
    const { box, w, escalationId } = await escalatedThread({ settings: { mode: "draft" } });
    const drafts = bed.emu.mailbox(box.address).drafts.length;
    const sent = await answer(box, w, escalationId, { id: randomUUID(), text: "Sent, not drafted." });
    expect(sent.row.status).toBe("sent");
    expect(withText(box.address, "Sent, not drafted.")).toHaveLength(1);
    expect(bed.emu.mailbox(box.address).drafts).toHaveLength(drafts);
  });
});

describe("an agent's e-mail answer through a crash", () => {
  /** The first process dies inside Gmail's send; returns once its record is written (and Gmail took it). */
  async function dies(when: "after" | "before", text: string) {
    const thread = await escalatedThread();
    const { box } = thread;
    const dyingWorld = replyWorld(bed, box, { gmail: dying(when) });
    const reply = { id: randomUUID(), text };
    void answer(box, dyingWorld, thread.escalationId, reply);
    await eventually(
      () => emailRows(bed, box.connectionId),
      (rows) => rows.some((r) => r.reason === "agent_reply"),
    );
    if (when === "after")
      await eventually(
        () => withText(box.address, text),
        (m) => m.length === 1,
      );
    return { ...thread, reply };
  }

  test("while the attempt may be in flight, a retry sends nothing", async () => {
    const { box, w, escalationId, reply } = await dies("before", "Still on it.");
    expect(await answer(box, w, escalationId, reply, 60)).toMatchObject({
      duplicate: true,
      row: { status: "pending" },
    });
    expect(withText(box.address, "Still on it.")).toEqual([]);
  });

  test("after Gmail sent it: the retry finds it by its Message-ID and sends nothing", async () => {
    const { box, w, escalationId, reply } = await dies("after", "Found, not resent.");
    await new Promise((r) => setTimeout(r, 300));
    expect(await answer(box, w, escalationId, reply, 0.2)).toMatchObject({
      duplicate: false,
      row: { status: "sent" },
    });
    const sent = withText(box.address, "Found, not resent.");
    expect(sent).toHaveLength(1);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      status: "sent",
      gmailId: sent[0]?.id,
    });
    // Resumed once: a further retry is a duplicate.
    expect(await answer(box, w, escalationId, reply, 0)).toMatchObject({ duplicate: true });
    expect(withText(box.address, "Found, not resent.")).toHaveLength(1);
  });

  test("before Gmail was called: the retry finds nothing and sends it once", async () => {
    const { box, w, escalationId, reply, inbound } = await dies("before", "Sent on the retry.");
    await new Promise((r) => setTimeout(r, 300));
    expect(await answer(box, w, escalationId, reply, 0.2)).toMatchObject({ row: { status: "sent" } });
    const sent = withText(box.address, "Sent on the retry.");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.threadId).toBe(inbound.threadId);
  });
});
