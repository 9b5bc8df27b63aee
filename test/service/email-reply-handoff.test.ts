import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseWeeklyHours, type WeeklyHours } from "../../service/src/domain/business-hours";
import { TenantEscalations } from "../../service/src/engine/escalations";
import { createLogger } from "../../service/src/logger";
import {
  connectedMailbox,
  emailRows,
  emailTestbed,
  FakeQueue,
  headerOf,
  labelIdOf,
  outboxOf,
  partOf,
  replyWorld,
  type Testbed,
} from "./email-reply-world";
import { FakeOutboundEvents } from "./escalation-fakes";
import { LogCapture } from "./helpers";

/**
 * A customer who asks for a person: the escalation is opened for the tenant's team (channel `email`), the
 * customer gets one short acknowledgement in their thread, the message is labelled `<label>/Handoff`, and
 * the bot stays silent in that thread afterwards.
 */

let bed: Testbed;

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

describe("handing an e-mail thread to a person", () => {
  test("opens an escalation, acknowledges once in the thread, labels it, and the bot stays silent", async () => {
    const box = await connectedMailbox(bed, "handoff-1", "desk@acme.example");
    const w = replyWorld(bed, box, { escalations: escalations(), hours: always });
    const inbound = await w.receive({
      from: "Jane <jane@customer.example>",
      to: box.address,
      subject: "Broken order",
      text: "This is the third time. I want to talk to a person. Call me on +1 415 555 0100.",
    });
    expect(await w.work()).toEqual(["handoff"]);
    expect(w.engine.turns).toEqual([]);

    const [escalation, ...others] = await bed.inspect<
      { channel: string; conversationId: string; contactId: string | null; summary: string | null }[]
    >`
      select channel, conversation_id, contact_id::text as contact_id, summary
      from escalations where tenant_id = ${box.tenantId}`;
    expect(others).toEqual([]);
    expect(escalation).toMatchObject({
      channel: "email",
      conversationId: `${box.connectionId}:${inbound.threadId}`,
    });
    // Handed over before any turn: the team reads what the customer wrote, redacted like everything stored.
    expect(escalation?.summary).toMatch(
      /^The customer wrote: "This is the third time\. I want to talk to a person\./,
    );
    expect(escalation?.summary).not.toContain("555 0100");
    expect(escalation?.contactId).toMatch(/^[0-9a-f-]{36}$/);

    const [notice, ...more] = bed.emu.messages(box.address, "SENT");
    expect(more).toEqual([]);
    expect(notice?.threadId).toBe(inbound.threadId);
    expect(headerOf(bed, notice, "In-Reply-To")).toBe(inbound.messageIdHeader);
    expect(headerOf(bed, notice, "To")).toBe("Jane <jane@customer.example>");
    expect(partOf(notice, "text/plain")).toContain(
      "A person from our team will reply to your e-mail shortly.",
    );
    const handoff = labelIdOf(bed, box.address, "Switchboard/Handoff");
    expect(bed.emu.messages(box.address).find((m) => m.id === inbound.id)?.labelIds).toContain(handoff);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      direction: "outbound",
      status: "sent",
      reason: "handoff_notice",
      answersGmailId: null,
    });
    // Counted apart from the replies on the e-mail dashboard (switchboard_email_replies by purpose).
    expect(w.logs.events("email.reply_written")).toMatchObject([
      { outcome: "sent", purpose: "handoff_notice", gmailId: notice?.id },
    ]);

    // The person has the thread now: the customer's next mail gets no bot reply, and no second notice.
    await w.receive({
      from: "jane@customer.example",
      to: box.address,
      subject: "Re: Broken order",
      text: "Hello?",
      headers: { "In-Reply-To": inbound.messageIdHeader, References: inbound.messageIdHeader },
    });
    expect(await w.work()).toEqual(["skipped"]);
    expect(bed.emu.messages(box.address, "SENT")).toHaveLength(1);
    expect((await outboxOf(bed, box.connectionId)).map((r) => r.outcome)).toEqual(["handoff", "human"]);
  });

  test("out of hours, the acknowledgement says when the team is back", async () => {
    const box = await connectedMailbox(bed, "handoff-2", "care@acme.example");
    const weekdays = { ...(parseWeeklyHours("Mon-Fri 09:00-17:00") as WeeklyHours), timeZone: "UTC" };
    // Friday evening.
    const w = replyWorld(bed, box, {
      escalations: escalations(),
      hours: weekdays,
      now: new Date("2026-03-06T18:30:00Z"),
    });
    await w.receive({
      from: "jane@customer.example",
      to: box.address,
      subject: "Help",
      text: "Can a human call me?",
    });
    expect(await w.work()).toEqual(["handoff"]);
    const [notice] = bed.emu.messages(box.address, "SENT");
    expect(partOf(notice, "text/plain")).toContain(
      "Our team is away now; a person will reply to your e-mail once we open at 09:00 UTC on Monday.",
    );
  });
});
