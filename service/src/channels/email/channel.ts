import type { ParsedNotification, QueuedChannel } from "../pipeline/channel";
import { emailPolicy } from "./policy";
import { type EmailChannelDeps, EmailSender } from "./sender";
import { type EmailView, emailConversationId } from "./view";

export type { EmailChannelDeps } from "./sender";
export type { EmailView } from "./view";
export { emailConversationId } from "./view";

/**
 * The e-mail channel of one tenant, all its mailboxes. Gmail's pushes name only a mailbox and a history
 * id, so the mailbox sync worker reads the new mail, records each message, and hands it to the pipeline
 * with `acceptVerified` (`emailNotification`); the channel itself has no verifier or parser of its own.
 */
export function emailChannel(deps: EmailChannelDeps): QueuedChannel<EmailView> {
  return {
    name: "email",
    verifier: undefined,
    parser: {
      parse() {
        throw new Error("Gmail pushes are read by the mailbox sync, then recorded with acceptVerified");
      },
    },
    sender: new EmailSender(deps),
    policy: emailPolicy,
  };
}

/** An inbound Gmail message the sync worker recorded (email_messages) and hands to the pipeline. */
export interface SyncedMessage {
  gmailId: string;
  threadId: string;
  /** The customer's new words (parse.ts). */
  text: string;
  /** The sender's contact (merged by address), when known. */
  contactId: string | null;
  /** Gmail's internalDate plus the tenant's delay: the reply is a task scheduled for then. */
  notBefore?: Date | undefined;
}

/**
 * One Gmail message as the pipeline records it: delivery id `${connectionId}:${gmailId}` (a message is
 * answered once, whatever history range or push brought it), in its thread's conversation, replied to
 * through the mailbox it arrived at.
 */
export function emailNotification(connectionId: string, m: SyncedMessage): ParsedNotification {
  return {
    kind: "delivery",
    delivery: {
      id: `${connectionId}:${m.gmailId}`,
      topic: "message.received",
      conversations: [
        {
          id: emailConversationId(connectionId, m.threadId),
          contactId: m.contactId,
          messages: [{ id: m.gmailId, text: m.text, via: connectionId, notBefore: m.notBefore }],
        },
      ],
    },
  };
}
