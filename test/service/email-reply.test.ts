import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseEmail } from "../../service/src/channels/email/parse";
import type { StoredMessage } from "../emulators/gmail";
import {
  type ConnectedMailbox,
  connectedMailbox,
  emailRows,
  emailTestbed,
  headerOf,
  labelIdOf,
  outboxOf,
  partOf,
  replyWorld,
  type Testbed,
} from "./email-reply-world";

/**
 * Answering e-mail: a customer's mail handed to the pipeline (as the mailbox sync does) is answered by a
 * threaded reply through the real Gmail adapter against the emulator: the right headers and recipients,
 * both MIME parts, labels, drafts instead in draft mode, Gmail's refusals retried, a revoked grant ending
 * the work, a disconnected mailbox answering nothing.
 */

let bed: Testbed;
let n = 0;

beforeAll(async () => {
  bed = await emailTestbed();
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

/** A tenant with its own mailbox per test: the emulator's mailboxes and labels start empty. */
async function mailbox(): Promise<ConnectedMailbox> {
  n++;
  return connectedMailbox(bed, `reply-${n}`, `support${n}@acme.example`);
}

const sentBy = (address: string) => bed.emu.messages(address, "SENT");
const header = (m: StoredMessage | undefined, name: string) => headerOf(bed, m, name);

describe("a customer's mail", () => {
  test("gets exactly one reply in its Gmail thread, threaded, from the business, to the sender", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    const inbound = await w.receive({
      from: "Jane Doe <jane@customer.example>",
      to: box.address,
      subject: "Re: Refund for order 12",
      text: "Hello, can I get a refund for order 12?",
      headers: { References: "<earlier@customer.example>" },
    });
    expect(await w.work()).toEqual(["answered"]);
    expect(await w.work()).toEqual([]);

    const [reply, ...more] = sentBy(box.address);
    expect(more).toEqual([]);
    expect(reply?.threadId).toBe(inbound.threadId);
    expect(header(reply, "In-Reply-To")).toBe(inbound.messageIdHeader);
    expect(header(reply, "References")?.split(/\s+/)).toEqual([
      "<earlier@customer.example>",
      inbound.messageIdHeader,
    ]);
    expect(header(reply, "Subject")).toBe("Re: Refund for order 12");
    expect(header(reply, "From")).toBe(`Acme Support <${box.address}>`);
    expect(header(reply, "To")).toBe("Jane Doe <jane@customer.example>");
    expect(header(reply, "Cc")).toBeUndefined();
    expect(header(reply, "Auto-Submitted")).toBe("auto-replied");
    const text = partOf(reply, "text/plain") ?? "";
    expect(text).toContain("Answer to: Hello, can I get a refund for order 12?");
    expect(text).toMatch(/\r?\n-- \r?\nAcme Support\s*$/);
    expect(partOf(reply, "text/html")).toContain("<p>Answer to: Hello, can I get a refund for order 12?</p>");
    expect(w.engine.turns.map((t) => t.identity.id)).toEqual(["email:jane@customer.example"]);

    // Labelled so agents see what the bot answered, and what it wrote.
    const answered = labelIdOf(bed, box.address, "Switchboard/Answered");
    const written = labelIdOf(bed, box.address, "Switchboard");
    expect(bed.emu.messages(box.address).find((m) => m.id === inbound.id)?.labelIds).toContain(answered);
    expect(reply?.labelIds).toContain(written);

    expect(await outboxOf(bed, box.connectionId)).toMatchObject([{ status: "done", outcome: "answered" }]);
    // The customer's address is personal data: no log line names it.
    expect(w.logs.raw.join("\n")).not.toContain("jane@customer.example");
    const rows = await emailRows(bed, box.connectionId);
    expect(rows.at(-1)).toMatchObject({
      direction: "outbound",
      status: "sent",
      gmailId: reply?.id,
      answersGmailId: inbound.id,
      rfc822MessageId: reply?.messageIdHeader,
      toAddresses: ["jane@customer.example"],
      subject: "Re: Refund for order 12",
    });
  });

  test("Reply-To is honoured; with replyTo 'all' the original To and Cc are copied, minus the mailbox", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box, { settings: { replyTo: "all" } });
    await w.receive({
      from: "Jane <jane@customer.example>",
      to: [box.address, "ops@customer.example"],
      cc: ["Bob <bob@customer.example>", box.address.toUpperCase()],
      subject: "Delivery",
      text: "Where is my parcel?",
      headers: { "Reply-To": "orders@customer.example" },
    });
    expect(await w.work()).toEqual(["answered"]);
    const [reply] = sentBy(box.address);
    expect(header(reply, "To")).toBe("orders@customer.example");
    expect(header(reply, "Cc")).toBe("ops@customer.example, bob@customer.example");
    expect(header(reply, "Subject")).toBe("Re: Delivery");
  });

  test("HTML in the model's reply is text in the HTML part", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    w.engine.reply = () => 'Try <script>alert("x")</script> & **this**: https://acme.example/help';
    await w.receive({ from: "jane@customer.example", to: box.address, subject: "Help", text: "Help me" });
    expect(await w.work()).toEqual(["answered"]);
    const html = partOf(sentBy(box.address)[0], "text/html") ?? "";
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <strong>this</strong>");
    expect(html).toContain('<a href="https://acme.example/help">');
    // What the customer's mail client shows as text is what the model wrote.
    const parsed = await parseEmail(Buffer.from(sentBy(box.address)[0]?.raw ?? ""));
    expect(parsed.text).toContain('Try <script>alert("x")</script> & **this**');
  });

  test("several mails of one thread waiting together get one reply, to the newest", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    const first = await w.receive({
      from: "jane@customer.example",
      to: box.address,
      subject: "Order",
      text: "Hi",
    });
    const second = await w.receive({
      from: "jane@customer.example",
      to: box.address,
      subject: "Re: Order",
      text: "It is order 7.",
      headers: { "In-Reply-To": first.messageIdHeader, References: first.messageIdHeader },
    });
    expect(second.threadId).toBe(first.threadId);
    expect(await w.work()).toEqual(["answered", "noop"]);
    const sent = sentBy(box.address);
    expect(sent).toHaveLength(1);
    expect(header(sent[0], "In-Reply-To")).toBe(second.messageIdHeader);
    expect(w.engine.turns.map((t) => t.message)).toEqual(["Hi\n\nIt is order 7."]);
  });
});

describe("labels", () => {
  test("a label Gmail refuses is logged, and the reply is neither failed nor sent again", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    await w.receive({ from: "jane@customer.example", to: box.address, subject: "Hi", text: "Hello" });
    bed.emu.failNext({ code: 500, status: "INTERNAL", pathIncludes: "/modify" });
    expect(await w.work()).toEqual(["answered"]);
    expect(await w.work()).toEqual([]);
    expect(sentBy(box.address)).toHaveLength(1);
    expect(w.logs.events("email.label_failed")).toMatchObject([{ label: "Switchboard/Answered" }]);
    expect(await outboxOf(bed, box.connectionId)).toMatchObject([{ status: "done", outcome: "answered" }]);
  });
});

describe("draft mode", () => {
  test("leaves a draft in the thread for an agent and sends nothing", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box, { settings: { mode: "draft" } });
    const inbound = await w.receive({
      from: "jane@customer.example",
      to: box.address,
      subject: "Hours",
      text: "When are you open?",
    });
    expect(await w.work()).toEqual(["answered"]);
    expect(sentBy(box.address)).toEqual([]);
    const drafts = bed.emu.mailbox(box.address).drafts;
    expect(drafts).toHaveLength(1);
    expect(drafts[0]?.message.threadId).toBe(inbound.threadId);
    expect(header(drafts[0]?.message, "In-Reply-To")).toBe(inbound.messageIdHeader);
    const draftLabel = labelIdOf(bed, box.address, "Switchboard/Draft");
    expect(bed.emu.messages(box.address).find((m) => m.id === inbound.id)?.labelIds).toContain(draftLabel);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      status: "drafted",
      gmailId: drafts[0]?.message.id,
    });
  });
});

describe("Gmail refusing the send", () => {
  test.each([
    [429, "RESOURCE_EXHAUSTED", "rateLimitExceeded"],
    [500, "INTERNAL", "backendError"],
  ])("a %i is retried later, and the customer gets one reply in the end", async (code, status, reason) => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    await w.receive({ from: "jane@customer.example", to: box.address, subject: "Stock", text: "In stock?" });
    bed.emu.failNext({ code, status, reason, pathIncludes: "messages/send" });
    expect(await w.work()).toEqual(["retry"]);
    expect(sentBy(box.address)).toEqual([]);
    expect(w.logs.events("upstream.error")).toMatchObject([{ upstream: "gmail", status: code }]);
    expect(await w.work()).toEqual(["answered"]);
    expect(sentBy(box.address)).toHaveLength(1);
    // The reply was kept with the row: the model was asked once.
    expect(w.engine.turns).toHaveLength(1);
    // Gmail may have taken a refused send: before sending again, the mailbox was searched for it.
    const id = sentBy(box.address)[0]?.messageIdHeader.replace(/[<>]/g, "");
    expect(bed.emu.requests.filter((r) => r.query.q === `rfc822msgid:${id}`).length).toBeGreaterThan(0);
  });

  test("a revoked grant sends nothing, hands the mailbox to its owner, and ends the rows", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    await w.receive({ from: "jane@customer.example", to: box.address, subject: "Hi", text: "Anyone there?" });
    bed.emu.revokeGrants(box.address);
    expect(await w.work()).toEqual(["skipped"]);
    expect(sentBy(box.address)).toEqual([]);
    expect(w.revoked.map((r) => r.connectionId)).toEqual([box.connectionId]);
    expect(await outboxOf(bed, box.connectionId)).toMatchObject([
      { status: "skipped", outcome: "mailbox_disconnected" },
    ]);
    expect((await emailRows(bed, box.connectionId)).at(-1)).toMatchObject({
      direction: "outbound",
      status: "failed",
      reason: "mailbox_disconnected",
    });
    expect(w.queue.tasks).toEqual([]);
  });

  test("a disconnected mailbox answers nothing, and the model is not asked", async () => {
    const box = await mailbox();
    const w = replyWorld(bed, box);
    await w.receive({ from: "jane@customer.example", to: box.address, subject: "Hi", text: "Hello?" });
    await bed.inspect`update email_mailboxes set status = 'disconnected' where connection_id = ${box.connectionId}`;
    expect(await w.work()).toEqual(["skipped"]);
    expect(w.engine.turns).toEqual([]);
    expect(sentBy(box.address)).toEqual([]);
    expect(await outboxOf(bed, box.connectionId)).toMatchObject([{ outcome: "mailbox_disconnected" }]);
  });
});
