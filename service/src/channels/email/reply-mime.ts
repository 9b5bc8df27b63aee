/**
 * The bot's answer as a threaded e-mail reply: RFC 2822 built by nodemailer's MailComposer (encodings,
 * folding, UTF-8 names and subjects), with the headers that keep it in the customer's thread
 * (In-Reply-To, References, "Re:" subject) and that keep other robots from answering it (RFC 3834).
 */
import { createHash } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import type { MailAddress, ParsedEmail } from "./parse";

export interface ReplyDraft {
  /** The mailbox, with the business name as display name. */
  from: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  /** Already "Re: …". */
  subject: string;
  /** The original Message-ID. */
  inReplyTo: string;
  /** Original References + original Message-ID (dedupe, keep order). */
  references: string[];
  /** Ours, decided before sending (exactly-once). */
  messageId: string;
  /** Plain text with light Markdown (the model's reply). */
  text: string;
  /** A person wrote it (an agent's answer from the console): not marked as an automatic reply. */
  byPerson?: boolean | undefined;
}

/** RFC 2822 bytes: text/plain with a text/html alternative, UTF-8, ready for Gmail's messages.send `raw`. */
export async function composeReply(draft: ReplyDraft, now: Date = new Date()): Promise<Buffer> {
  const node = new MailComposer({
    from: draft.from,
    to: draft.to,
    cc: draft.cc,
    subject: draft.subject,
    text: draft.text,
    html: replyHtml(draft.text),
    messageId: draft.messageId,
    inReplyTo: draft.inReplyTo,
    references: draft.references,
    date: now,
    headers: {
      // RFC 3834: an automatic answer. Vacation responders and well-behaved bots do not answer it back.
      ...(draft.byPerson ? {} : { "Auto-Submitted": "auto-replied" }),
      // Exchange's equivalent: no out-of-office or delivery receipts back to the support mailbox.
      "X-Auto-Response-Suppress": "All",
      // Our id again, where nothing rewrites it: whether Gmail keeps a sender's Message-ID on messages.send
      // is undocumented, and a retry after a crash finds its reply by this header in the thread if not.
      "X-Switchboard-Id": draft.messageId,
    },
  }).compile();
  return await new Promise<Buffer>((resolve, reject) =>
    node.build((error, message) => (error ? reject(error) : resolve(message))),
  );
}

/** Leading "Re:" prefixes, however many and however spelled (Re, RE, re, "Re :", "Re[2]:"). */
const REPLY_PREFIX = /^(re(\[\d+\])?\s?:\s*)+/i;

/** "Re: x" exactly once; "Re: (no subject)" when the original had none. */
export function replySubject(subject: string): string {
  const bare = subject.replace(/\s+/g, " ").trim().replace(REPLY_PREFIX, "").trim();
  return `Re: ${bare || "(no subject)"}`;
}

/**
 * Who the reply goes to: Reply-To when the sender set one (web forms, shared inboxes), else From. With
 * "all", the original To and Cc are copied, except the mailbox itself and anyone already addressed.
 */
export function replyRecipients(
  original: ParsedEmail,
  mailbox: string,
  mode: "sender" | "all",
): { to: MailAddress[]; cc: MailAddress[] } {
  const self = mailbox.toLowerCase();
  const senders = original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
  const to = uniqueAddresses(senders, new Set([self]));
  if (mode === "sender") return { to, cc: [] };
  const taken = new Set([self, ...to.map((a) => a.address)]);
  return { to, cc: uniqueAddresses([...original.to, ...original.cc], taken) };
}

function uniqueAddresses(addresses: readonly MailAddress[], taken: Set<string>): MailAddress[] {
  const unique: MailAddress[] = [];
  for (const address of addresses) {
    const key = address.address.toLowerCase();
    if (taken.has(key)) continue;
    taken.add(key);
    unique.push({ ...address, address: key });
  }
  return unique;
}

/**
 * RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID (or, when it had no
 * References, its In-Reply-To), so every client files the reply in the same thread.
 */
export function referencesOf(original: ParsedEmail): string[] {
  const parents = original.references.length > 0 ? original.references : [original.inReplyTo];
  const all = [...parents, original.messageId].filter((id): id is string => id !== undefined);
  return [...new Set(all)];
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** **bold** or a bare https link; anything else is text. Found on the raw text, escaped piece by piece. */
const INLINE = /\*\*(?=\S)([^*]*?\S)\*\*|https:\/\/[^\s<>"'`]+/g;
/** Sentence punctuation after a link belongs to the sentence. */
const LINK_TRAILER = /[.,;:!?)\]]+$/;

/**
 * A simple, safe HTML alternative of the plain text: every character escaped, blank lines make paragraphs,
 * single newlines line breaks, **bold** becomes <strong>, bare https links become links. Nothing else:
 * the model's text is never markup.
 */
export function replyHtml(text: string): string {
  const paragraphs = text
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const body = paragraphs.map((p) => `<p>${p.split("\n").map(inlineHtml).join("<br>\n")}</p>`).join("\n");
  return `<!doctype html>\n<html><body>\n${body}\n</body></html>\n`;
}

function inlineHtml(line: string): string {
  let html = "";
  let last = 0;
  for (const match of line.matchAll(INLINE)) {
    const [whole, bold] = match;
    html += escapeHtml(line.slice(last, match.index));
    if (bold !== undefined) {
      html += `<strong>${linksHtml(bold)}</strong>`;
      last = match.index + whole.length;
      continue;
    }
    const url = whole.replace(LINK_TRAILER, "");
    html += linkHtml(url);
    last = match.index + url.length;
  }
  return html + escapeHtml(line.slice(last));
}

function linksHtml(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(/https:\/\/[^\s<>"'`]+/g)) {
    const url = match[0].replace(LINK_TRAILER, "");
    html += escapeHtml(text.slice(last, match.index)) + linkHtml(url);
    last = match.index + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

function linkHtml(url: string): string {
  const escaped = escapeHtml(url);
  return `<a href="${escaped}">${escaped}</a>`;
}

/**
 * Our Message-ID for the answer to one inbound message, the same on every attempt: recorded before the
 * send, so a retry after a crash can search the mailbox for it (`rfc822msgid:`) instead of sending twice.
 */
export function outboundMessageId(inboundGmailId: string, connectionId: string, mailbox: string): string {
  const digest = createHash("sha256").update(`${connectionId}:${inboundGmailId}`).digest("hex").slice(0, 32);
  const domain = mailbox.slice(mailbox.lastIndexOf("@") + 1).toLowerCase();
  return `<sb.${digest}@${domain}>`;
}
