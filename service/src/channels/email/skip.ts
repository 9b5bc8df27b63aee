/**
 * Which inbound messages the bot must leave alone. Answering the wrong mail is worse than missing one:
 * a reply to an auto-responder or a bounce starts a mail loop, a reply to a newsletter is spam, and a reply
 * to the business's own staff answers a colleague. So the rules err on the side of not answering; an agent
 * still sees every message in Gmail.
 */
import type { ParsedEmail } from "./parse";

export interface SkipContext {
  /** The connected address, lowercased. */
  mailbox: string;
  /** Tenant setting: never answer mail from these domains (lowercased). */
  ownDomains: readonly string[];
  /** Gmail labels of the message (SENT, DRAFT, SPAM, TRASH…). */
  labelIds: readonly string[];
  /** Gmail's sizeEstimate in bytes. */
  sizeEstimate: number;
  /** Size limit. */
  maxBytes: number;
  /** Its Message-ID is one Switchboard recorded for an outbound message. */
  sentBySwitchboard: boolean;
}

type Rule = (mail: ParsedEmail, ctx: SkipContext) => boolean;

/** In order: the first that matches is the reason given (the most specific cause first). */
const RULES: ReadonlyArray<readonly [reason: string, rule: Rule]> = [
  ["sent_by_switchboard", (_mail, ctx) => ctx.sentBySwitchboard],
  [
    "from_mailbox",
    (mail, ctx) => hasLabel(ctx, "SENT", "DRAFT") || mail.from?.address === ctx.mailbox.toLowerCase(),
  ],
  ["spam_or_trash", (_mail, ctx) => hasLabel(ctx, "SPAM", "TRASH")],
  ["too_large", (_mail, ctx) => ctx.sizeEstimate > ctx.maxBytes],
  ["no_sender", (mail) => mail.from === undefined],
  ["mailer_daemon", (mail) => isDeliveryReport(mail) || replyGoesNowhere(mail)],
  ["auto_reply", (mail) => isAutoReply(mail.headers)],
  ["bulk", (mail) => isBulk(mail.headers)],
  ["own_domain", (mail, ctx) => isOwnDomain(mail.from?.address ?? "", ctx.ownDomains)],
  ["empty", (mail) => mail.text.trim() === ""],
];

/** Why a message must not be answered (a short snake_case reason), or undefined to answer it. */
export function skipReason(mail: ParsedEmail, ctx: SkipContext): string | undefined {
  return RULES.find(([, rule]) => rule(mail, ctx))?.[0];
}

function hasLabel(ctx: SkipContext, ...labels: string[]): boolean {
  return ctx.labelIds.some((label) => labels.includes(label.toUpperCase()));
}

/** Bounces and delivery status notifications (RFC 3464) are multipart/report. */
function isDeliveryReport(mail: ParsedEmail): boolean {
  const contentType = mail.headers.get("content-type")?.toLowerCase() ?? "";
  return contentType.startsWith("multipart/report") || mail.headers.has("x-failed-recipients");
}

const DAEMONS = /^(mailer-daemon|postmaster)$/;
const NO_REPLY = /^(no-?reply|no_reply|noreply-.+|do-?not-?reply)$/;

/**
 * Bounces come from mailer-daemon@ or postmaster@. Nobody reads what goes to noreply@, so a reply there
 * is wasted — but a web form that sends From noreply@ with Reply-To the customer is answered.
 */
function replyGoesNowhere(mail: ParsedEmail): boolean {
  if (mail.from && DAEMONS.test(localPart(mail.from.address))) return true;
  const targets = mail.replyTo.length > 0 ? mail.replyTo : mail.from ? [mail.from] : [];
  return targets.every(
    ({ address }) => NO_REPLY.test(localPart(address)) || DAEMONS.test(localPart(address)),
  );
}

/** RFC 3834 `Auto-Submitted`, and the headers vacation responders and Exchange set. */
function isAutoReply(headers: ReadonlyMap<string, string>): boolean {
  const autoSubmitted = headers.get("auto-submitted");
  if (autoSubmitted !== undefined && firstToken(autoSubmitted) !== "no") return true;
  if (["x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply"].some((h) => headers.has(h))) {
    return true;
  }
  const suppress = (headers.get("x-auto-response-suppress") ?? "").toLowerCase().split(/[\s,]+/);
  if (suppress.some((token) => ["all", "oof", "autoreply"].includes(token))) return true;
  return firstToken(headers.get("precedence") ?? "") === "auto_reply";
}

function isBulk(headers: ReadonlyMap<string, string>): boolean {
  const precedence = firstToken(headers.get("precedence") ?? "");
  return (
    ["bulk", "list", "junk"].includes(precedence) || headers.has("list-unsubscribe") || headers.has("list-id")
  );
}

/** The domain itself and its subdomains: mail from support.example.com is as much the business's own. */
function isOwnDomain(address: string, ownDomains: readonly string[]): boolean {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  return ownDomains.some((own) => domain === own || domain.endsWith(`.${own}`));
}

function localPart(address: string): string {
  return address.slice(0, address.lastIndexOf("@")).toLowerCase();
}

/** A structured header's value before its parameters or comments: "auto-replied; owner=x" → "auto-replied". */
function firstToken(value: string): string {
  return value.split(/[;(\s]/, 1)[0]?.toLowerCase() ?? "";
}
