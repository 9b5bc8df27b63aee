import fc from "fast-check";
import { simpleParser } from "mailparser";
import { describe, expect, test } from "vitest";
import { type ParsedEmail, parseEmail } from "../../../service/src/channels/email/parse";
import {
  composeReply,
  outboundMessageId,
  type ReplyDraft,
  referencesOf,
  replyHtml,
  replyRecipients,
  replySubject,
} from "../../../service/src/channels/email/reply-mime";
import { composeMail, type MailFields } from "../../emulators/gmail-mime";

const MAILBOX = "support@acme.test";

async function inbound(fields: Partial<MailFields> = {}): Promise<ParsedEmail> {
  const raw = await composeMail({
    from: "Jane Doe <jane@example.test>",
    to: [MAILBOX, "Bob <bob@example.test>"],
    cc: ["carol@example.test", "Jane Doe <JANE@example.test>"],
    subject: "Where is my order?",
    text: "Order 4411 has not arrived.",
    messageId: "<m2@example.test>",
    headers: { "In-Reply-To": "<m1@acme.test>", References: "<m0@example.test> <m1@acme.test>" },
    ...fields,
  });
  return await parseEmail(Buffer.from(raw));
}

function draftFor(original: ParsedEmail, text: string): ReplyDraft {
  return {
    from: { address: MAILBOX, name: "Acme Café" },
    ...replyRecipients(original, MAILBOX, "sender"),
    subject: replySubject(original.subject),
    inReplyTo: original.messageId ?? "",
    references: referencesOf(original),
    messageId: outboundMessageId("18c0ffee", "conn-1", MAILBOX),
    text,
  };
}

describe("composeReply: a threaded reply, read back as a mail client would", () => {
  test("threading headers, Re: subject, our Message-ID, Auto-Submitted and a Date", async () => {
    const original = await inbound();
    const now = new Date("2024-01-01T10:00:00Z");
    const reply = await parseEmail(await composeReply(draftFor(original, "It ships today."), now));
    expect(reply.messageId).toBe(outboundMessageId("18c0ffee", "conn-1", MAILBOX));
    expect(reply.inReplyTo).toBe("<m2@example.test>");
    expect(reply.references).toEqual(["<m0@example.test>", "<m1@acme.test>", "<m2@example.test>"]);
    expect(reply.subject).toBe("Re: Where is my order?");
    expect(reply.from).toEqual({ address: MAILBOX, name: "Acme Café" });
    expect(reply.to).toEqual([{ address: "jane@example.test", name: "Jane Doe" }]);
    expect(reply.headers.get("auto-submitted")).toBe("auto-replied");
    expect(reply.date).toEqual(now);
    expect(reply.text).toBe("It ships today.");
  });

  test("a reply to a reply does not become 'Re: Re:'", async () => {
    const original = await inbound({ subject: "RE: Re: Where is my order?" });
    const reply = await parseEmail(await composeReply(draftFor(original, "Yes.")));
    expect(reply.subject).toBe("Re: Where is my order?");
  });

  test("both parts are there, UTF-8; the HTML part escapes what the model wrote", async () => {
    const text = 'Grüße! **Важно**: <script>alert("x")</script> & see https://acme.test/track?id=1&x=2.';
    const bytes = await composeReply(draftFor(await inbound(), text));
    const mail = await simpleParser(bytes);
    expect(mail.text?.trim()).toBe(text);
    expect(mail.html).toContain("<strong>Важно</strong>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; see");
    expect(mail.html).toContain(
      '<a href="https://acme.test/track?id=1&amp;x=2">https://acme.test/track?id=1&amp;x=2</a>.',
    );
    expect(mail.html).not.toContain("<script");
    expect(bytes.toString("latin1")).toMatch(/Content-Type: multipart\/alternative/);
    expect(bytes.toString("latin1")).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    expect(bytes.toString("latin1")).toMatch(/Content-Type: text\/html; charset=utf-8/);
  });
});

describe("replyRecipients", () => {
  test("'sender': the From address only", async () => {
    expect(replyRecipients(await inbound(), MAILBOX, "sender")).toEqual({
      to: [{ address: "jane@example.test", name: "Jane Doe" }],
      cc: [],
    });
  });

  test("'sender' with Reply-To: the Reply-To address", async () => {
    const original = await inbound({
      from: "noreply@forms.example.test",
      headers: { "Reply-To": "Jane <jane@example.test>" },
    });
    expect(replyRecipients(original, MAILBOX, "sender").to).toEqual([
      { address: "jane@example.test", name: "Jane" },
    ]);
  });

  test("'all': the original To and Cc in copy, without the mailbox and without duplicates", async () => {
    const { to, cc } = replyRecipients(await inbound(), "Support@Acme.test", "all");
    expect(to.map((a) => a.address)).toEqual(["jane@example.test"]);
    expect(cc.map((a) => a.address)).toEqual(["bob@example.test", "carol@example.test"]);
  });
});

describe("referencesOf", () => {
  test("with no References, the parent's In-Reply-To stands in (RFC 5322 3.6.4)", async () => {
    const original = await inbound({ headers: { "In-Reply-To": "<m1@acme.test>" } });
    expect(referencesOf(original)).toEqual(["<m1@acme.test>", "<m2@example.test>"]);
  });

  test("a first message: just its own Message-ID", async () => {
    expect(referencesOf(await inbound({ headers: {} }))).toEqual(["<m2@example.test>"]);
  });

  test("the parent's Message-ID already among its References is not repeated", async () => {
    const original = await inbound({ headers: { References: "<m0@example.test> <m2@example.test>" } });
    expect(referencesOf(original)).toEqual(["<m0@example.test>", "<m2@example.test>"]);
  });
});

describe("replySubject", () => {
  test("Re: exactly once, whatever the spelling; '(no subject)' when empty", () => {
    expect(replySubject("Order")).toBe("Re: Order");
    expect(replySubject("Re: Order")).toBe("Re: Order");
    expect(replySubject("RE: re: Re[2]: Order")).toBe("Re: Order");
    expect(replySubject("Re : Order")).toBe("Re: Order");
    expect(replySubject("Fwd: Order")).toBe("Re: Fwd: Order");
    expect(replySubject("Refund")).toBe("Re: Refund");
    expect(replySubject("")).toBe("Re: (no subject)");
    expect(replySubject("  Re:  ")).toBe("Re: (no subject)");
  });

  test("property: replying to the reply changes nothing", () => {
    fc.assert(
      fc.property(fc.string(), (subject) => {
        const once = replySubject(subject);
        expect(replySubject(once)).toBe(once);
        expect(once.startsWith("Re: ")).toBe(true);
        expect(once).not.toMatch(/^Re: re\s?:/i);
      }),
    );
  });
});

describe("replyHtml", () => {
  test("paragraphs, line breaks, bold and bare https links; nothing else", () => {
    const html = replyHtml(
      "Hello Jane,\n\nYour order:\n**4411** ships today, see https://acme.test/t/4411.\n\nAcme",
    );
    expect(html).toContain("<p>Hello Jane,</p>");
    expect(html).toContain(
      '<p>Your order:<br>\n<strong>4411</strong> ships today, see <a href="https://acme.test/t/4411">https://acme.test/t/4411</a>.</p>',
    );
    expect(html).toContain("<p>Acme</p>");
    expect(replyHtml("http://insecure.test and javascript:alert(1)")).not.toContain("<a ");
  });

  const ALLOWED_TAG = /^<(\/?(p|strong|a|html|body)|br|!doctype html|a href="https:\/\/[^"<>]*")>$/;

  test("property: only our own tags come out, whatever the input holds", () => {
    const markupish = fc.oneof(
      fc.string(),
      fc.constantFrom(
        "<",
        ">",
        "&",
        '"',
        "'",
        "**",
        "\n",
        "\n\n",
        "https://",
        "<script>",
        "<a href=x>",
        "</p>",
        "<img src=x onerror=1>",
      ),
    );
    fc.assert(
      fc.property(fc.array(markupish, { maxLength: 30 }), (pieces) => {
        const html = replyHtml(pieces.join(""));
        for (const tag of html.match(/<[^>]*>/g) ?? []) expect(tag).toMatch(ALLOWED_TAG);
        expect(html).not.toMatch(/<(script|img|iframe)/i);
      }),
    );
  });
});

describe("outboundMessageId", () => {
  test("the same inbound message always yields the same id, on the mailbox's domain", () => {
    const id = outboundMessageId("18c0ffee", "conn-1", "Support@Acme.TEST");
    expect(id).toMatch(/^<sb\.[0-9a-f]{32}@acme\.test>$/);
    expect(outboundMessageId("18c0ffee", "conn-1", "support@acme.test")).toBe(id);
    expect(outboundMessageId("18c0fffe", "conn-1", "support@acme.test")).not.toBe(id);
    expect(outboundMessageId("18c0ffee", "conn-2", "support@acme.test")).not.toBe(id);
  });
});
