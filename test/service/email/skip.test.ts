import { describe, expect, test } from "vitest";
import { parseEmail } from "../../../service/src/channels/email/parse";
import { type SkipContext, skipReason } from "../../../service/src/channels/email/skip";
import { composeMail, type MailFields } from "../../emulators/gmail-mime";

const ctx: SkipContext = {
  mailbox: "support@acme.test",
  ownDomains: ["acme.test"],
  labelIds: ["INBOX", "UNREAD"],
  sizeEstimate: 4_000,
  maxBytes: 1_000_000,
  sentBySwitchboard: false,
};

const customer: MailFields = {
  from: "Jane Doe <jane@example.test>",
  to: "support@acme.test",
  subject: "Where is my order?",
  text: "Hello, order 4411 has not arrived yet.",
};

async function reason(fields: Partial<MailFields>, context: Partial<SkipContext> = {}) {
  const mail = await parseEmail(Buffer.from(await composeMail({ ...customer, ...fields })));
  return skipReason(mail, { ...ctx, ...context });
}

async function reasonRaw(lines: string[], context: Partial<SkipContext> = {}) {
  return skipReason(await parseEmail(Buffer.from(lines.join("\r\n"))), { ...ctx, ...context });
}

describe("skipReason", () => {
  test("a customer's message is answered", async () => {
    expect(await reason({})).toBeUndefined();
  });

  test("a message Switchboard sent itself", async () => {
    expect(await reason({}, { sentBySwitchboard: true })).toBe("sent_by_switchboard");
  });

  test("mail from the mailbox itself, or labelled SENT or DRAFT", async () => {
    expect(await reason({ from: "Acme <Support@Acme.test>" }, { ownDomains: [] })).toBe("from_mailbox");
    expect(await reason({}, { labelIds: ["SENT"] })).toBe("from_mailbox");
    expect(await reason({}, { labelIds: ["DRAFT"] })).toBe("from_mailbox");
  });

  test("spam and trash", async () => {
    expect(await reason({}, { labelIds: ["SPAM"] })).toBe("spam_or_trash");
    expect(await reason({}, { labelIds: ["TRASH", "INBOX"] })).toBe("spam_or_trash");
  });

  test("auto-replies: Auto-Submitted (unless 'no'), X-Autoreply, X-Autorespond, X-Auto-Response-Suppress", async () => {
    expect(await reason({ headers: { "Auto-Submitted": "auto-replied" } })).toBe("auto_reply");
    expect(
      await reason({ headers: { "Auto-Submitted": "auto-generated; owner-email=x@example.test" } }),
    ).toBe("auto_reply");
    expect(await reason({ headers: { "Auto-Submitted": "no" } })).toBeUndefined();
    expect(await reason({ headers: { "X-Autoreply": "yes" } })).toBe("auto_reply");
    expect(await reason({ headers: { "X-Autorespond": "Out of office" } })).toBe("auto_reply");
    expect(await reason({ headers: { "X-Auto-Response-Suppress": "All" } })).toBe("auto_reply");
    expect(await reason({ headers: { "X-Auto-Response-Suppress": "DR, RN, NRN, OOF, AutoReply" } })).toBe(
      "auto_reply",
    );
    expect(await reason({ headers: { "X-Auto-Response-Suppress": "DR" } })).toBeUndefined();
  });

  test("bulk mail: Precedence bulk/list/junk, List-Unsubscribe, List-Id", async () => {
    for (const precedence of ["bulk", "list", "junk", "Bulk"]) {
      expect(await reason({ headers: { Precedence: precedence } })).toBe("bulk");
    }
    expect(await reason({ headers: { "List-Unsubscribe": "<mailto:unsub@news.example.test>" } })).toBe(
      "bulk",
    );
    expect(await reason({ headers: { "List-Id": "Product news <news.example.test>" } })).toBe("bulk");
    expect(await reason({ headers: { Precedence: "first-class" } })).toBeUndefined();
  });

  test("bounces and mail nobody reads the reply to", async () => {
    expect(await reason({ from: "Mail Delivery Subsystem <mailer-daemon@googlemail.com>" })).toBe(
      "mailer_daemon",
    );
    expect(await reason({ from: "postmaster@example.test" })).toBe("mailer_daemon");
    for (const from of [
      "noreply@shop.example.test",
      "no-reply@shop.example.test",
      "donotreply@shop.example.test",
    ]) {
      expect(await reason({ from })).toBe("mailer_daemon");
    }
    const report = await reasonRaw([
      "From: Mail Server <server@example.test>",
      "Subject: Undeliverable",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered.",
      "--b--",
    ]);
    expect(report).toBe("mailer_daemon");
  });

  test("a web form sending from noreply@ with Reply-To the customer is answered", async () => {
    expect(
      await reason({ from: "noreply@forms.example.test", headers: { "Reply-To": "jane@example.test" } }),
    ).toBe(undefined);
  });

  test("mail from the business's own domains (and their subdomains)", async () => {
    expect(await reason({ from: "bob@acme.test" })).toBe("own_domain");
    expect(await reason({ from: "bob@eu.acme.test" })).toBe("own_domain");
    expect(await reason({ from: "bob@notacme.test" })).toBeUndefined();
    expect(await reason({ from: "bob@acme.test" }, { ownDomains: [] })).toBeUndefined();
  });

  test("too large", async () => {
    expect(await reason({}, { sizeEstimate: 1_000_001 })).toBe("too_large");
    expect(await reason({}, { sizeEstimate: 1_000_000 })).toBeUndefined();
  });

  test("no sender", async () => {
    expect(await reasonRaw(["To: support@acme.test", "Subject: hi", "", "hello"])).toBe("no_sender");
  });

  test("nothing new after the quote is removed", async () => {
    const text = "On Mon, Jan 1, 2024 at 10:00 AM Acme <support@acme.test> wrote:\n\n> Anything else?\n";
    expect(await reason({ text })).toBe("empty");
    expect(await reason({ text: "  \n" })).toBe("empty");
  });
});
