import type { InboundEmail, OutboundEmail } from "../../db/email-messages";
import type { OpenMailbox } from "./mailbox-access";
import type { EmailSettings } from "./settings";

/**
 * An e-mail conversation for one turn: one Gmail thread of one of the tenant's mailboxes. Its pipeline
 * id is `${connectionId}:${threadId}` (thread ids are per mailbox: two mailboxes may share one).
 */
export interface EmailView {
  tenantId: string;
  connectionId: string;
  threadId: string;
  settings: EmailSettings;
  /**
   * The mailbox with its Gmail API; undefined when it is gone or disconnected (nothing can be sent). Set
   * to undefined during the turn when Gmail says the grant was revoked.
   */
  mailbox: OpenMailbox | undefined;
  /** The inbound rows of the turn's messages that exist, oldest first. */
  inbound: InboundEmail[];
  /** The replies already recorded for any of them. */
  answers: OutboundEmail[];
  /** The customer's contact, as the sync worker merged it. */
  contactId: string | null;
  /** Outbound records this turn searched the mailbox for and did not find (not searched twice). */
  notInMailbox: Set<string>;
}

const SEPARATOR = ":";

/** The pipeline's conversation id of a Gmail thread of a mailbox. */
export function emailConversationId(connectionId: string, threadId: string): string {
  return `${connectionId}${SEPARATOR}${threadId}`;
}

/** The mailbox and thread a conversation id names; undefined for one that is not an e-mail thread's. */
export function parseConversationId(id: string): { connectionId: string; threadId: string } | undefined {
  const at = id.indexOf(SEPARATOR);
  if (at <= 0 || at === id.length - 1) return undefined;
  return { connectionId: id.slice(0, at), threadId: id.slice(at + 1) };
}

/** The inbound message a reply of this turn answers: its newest. */
export const answering = (view: EmailView): InboundEmail | undefined => view.inbound.at(-1);

/** The customer: the sender of the newest message (lowercased), as the engine's identity names them. */
export const customerAddress = (view: EmailView): string | undefined =>
  view.inbound.findLast((m) => m.fromAddress)?.fromAddress?.toLowerCase() ?? undefined;
