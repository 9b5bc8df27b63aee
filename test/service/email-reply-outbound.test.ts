import { describe, expect, test } from "vitest";
import { outgoing } from "../../service/src/channels/email/outbound";
import { emailSettingsOf } from "../../service/src/channels/email/settings";
import type { InboundEmail } from "../../service/src/db/email-messages";

/**
 * What the channel writes into a thread, from the inbound row it answers (pure): recipients as the sync
 * recorded them (bare or with a display name), the handoff notice to the sender alone, and a Message-ID
 * per purpose that stays the same on every attempt.
 */

const inbound: InboundEmail = {
  id: "row-1",
  connectionId: "conn-1",
  gmailId: "18c0000000000001",
  threadId: "18c0000000000001",
  rfc822MessageId: "<abc@customer.example>",
  fromAddress: "jane@customer.example",
  fromName: "Jane Doe",
  replyTo: [],
  toAddresses: ["Support <support@acme.example>", "Ops Team <ops@customer.example>"],
  ccAddresses: ["bob@customer.example", "not an address"],
  subject: "Order",
  references: [],
  contactId: null,
  status: "queued",
  receivedAt: null,
  createdAt: new Date(),
};

const settings = { ...emailSettingsOf({}, "Acme"), replyTo: "all" as const };
const base = { connectionId: "conn-1", mailbox: "support@acme.example", settings, inbound, text: "Hi" };

describe("an outgoing message", () => {
  test("a reply to all keeps the recorded names and leaves out the mailbox and what is no address", () => {
    const { draft, record } = outgoing({ ...base, audience: "configured" });
    expect(draft.to).toEqual([{ address: "jane@customer.example", name: "Jane Doe" }]);
    expect(draft.cc).toEqual([
      { address: "ops@customer.example", name: "Ops Team" },
      { address: "bob@customer.example" },
    ]);
    expect(draft.inReplyTo).toBe("<abc@customer.example>");
    expect(draft.references).toEqual(["<abc@customer.example>"]);
    expect(record).toMatchObject({
      answersGmailId: inbound.gmailId,
      ccAddresses: ["ops@customer.example", "bob@customer.example"],
    });
  });

  test("a handoff notice goes to the sender only, answers no message, and has a Message-ID of its own", () => {
    const reply = outgoing({ ...base, audience: "configured" });
    const notice = outgoing({ ...base, audience: "sender", purpose: "handoff_notice" });
    expect(notice.draft.cc).toEqual([]);
    expect(notice.record).toMatchObject({ answersGmailId: null, reason: "handoff_notice" });
    expect(notice.draft.messageId).not.toBe(reply.draft.messageId);
    expect(outgoing({ ...base, audience: "configured" }).draft.messageId).toBe(reply.draft.messageId);
    expect(reply.draft.messageId).toMatch(/^<sb\.[0-9a-f]{32}@acme\.example>$/);
  });
});
