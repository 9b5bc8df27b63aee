import type { InboundEmail, NewOutbound } from "../../db/email-messages";
import type { MailAddress, ParsedEmail } from "./parse";
import {
  outboundMessageId,
  type ReplyDraft,
  referencesOf,
  replyRecipients,
  replySubject,
} from "./reply-mime";
import type { EmailSettings } from "./settings";

/**
 * What the channel writes into a thread (a reply, a draft, a handoff notice), built from the inbound row it
 * answers: threaded to it (In-Reply-To, References, "Re:" subject), from the mailbox under the business's
 * name, to whom the tenant's `replyTo` says, signed. Pure: the sender records and sends it.
 */
export interface Outgoing {
  draft: ReplyDraft;
  record: NewOutbound;
}

/** `replyTo: "all"` for a reply; a handoff notice goes to the sender only. */
export type Audience = "configured" | "sender";

export function outgoing(m: {
  connectionId: string;
  mailbox: string;
  settings: EmailSettings;
  inbound: InboundEmail;
  text: string;
  audience: Audience;
  /**
   * What it is, besides the bot's reply: `handoff_notice`, or `agent_reply` (a person's answer). Then it
   * answers no message of its own: the inbound message's one answer stays the bot's.
   */
  purpose?: "handoff_notice" | "agent_reply" | undefined;
  /** What its Message-ID derives from, when not the inbound message (an agent reply: its replyId). */
  key?: string | undefined;
}): Outgoing {
  const { connectionId, mailbox, settings, inbound } = m;
  const original = asParsed(inbound);
  const mode = m.audience === "sender" ? "sender" : settings.replyTo;
  const { to, cc } = replyRecipients(original, mailbox, mode);
  // Deterministic: the same message always gets the same Message-ID, which a retry searches Gmail for.
  const seed = m.key ?? (m.purpose ? `${inbound.gmailId}/${m.purpose}` : inbound.gmailId);
  const messageId = outboundMessageId(seed, connectionId, mailbox);
  const subject = replySubject(inbound.subject);
  const references = referencesOf(original);
  const from = { address: mailbox, name: settings.businessName };
  const text = signed(m.text, settings.signature);
  return {
    draft: {
      ...{ from, to, cc, subject, inReplyTo: inbound.rfc822MessageId ?? "", references, messageId, text },
      byPerson: m.purpose === "agent_reply",
    },
    record: {
      connectionId,
      threadId: inbound.threadId,
      rfc822MessageId: messageId,
      answersGmailId: m.purpose ? null : inbound.gmailId,
      fromAddress: mailbox,
      fromName: settings.businessName,
      toAddresses: to.map((a) => a.address),
      ccAddresses: cc.map((a) => a.address),
      subject,
      references,
      contactId: inbound.contactId,
      reason: m.purpose,
    },
  };
}

/** The text with the tenant's signature under the standard "-- " delimiter (mail clients fold it away). */
export function signed(text: string, signature: string): string {
  const body = text.trim();
  const sig = signature.trim();
  return sig ? `${body}\n\n-- \n${sig}` : body;
}

/** An inbound row as the reply helpers read a parsed message (only its threading and addresses). */
function asParsed(m: InboundEmail): ParsedEmail {
  return {
    messageId: m.rfc822MessageId ?? undefined,
    inReplyTo: undefined,
    references: m.references,
    subject: m.subject,
    from: m.fromAddress ? { address: m.fromAddress, name: m.fromName ?? undefined } : undefined,
    replyTo: m.replyTo.flatMap(addressOf),
    to: m.toAddresses.flatMap(addressOf),
    cc: m.ccAddresses.flatMap(addressOf),
    date: m.receivedAt ?? undefined,
    headers: new Map(),
    text: "",
  };
}

/** `a@x` or `Name <a@x>` (as recorded) as an address; nothing for a value without one. */
export function addressOf(value: string): MailAddress[] {
  const angle = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  if (angle) {
    const name = angle[1]?.trim();
    return [{ address: (angle[2] ?? "").toLowerCase(), ...(name ? { name } : {}) }];
  }
  const bare = value.trim();
  return /^[^\s@<>]+@[^\s@<>]+$/.test(bare) ? [{ address: bare.toLowerCase() }] : [];
}
