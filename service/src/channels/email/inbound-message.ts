import type { Sql } from "../../db/client";
import { mergeContact } from "../../db/contacts";
import { emailDeliveryId, isOwnMessageId, recordInboundEmail } from "../../db/email-inbound";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { GmailMailbox, GmailMessage, GmailMessageRef } from "../../ports/gmail";
import type { ParsedNotification } from "../pipeline/channel";
import type { Acknowledgement } from "../pipeline/pipeline";
import { type ParsedEmail, parseEmail } from "./parse";
import type { EmailSettings } from "./settings";
import { skipReason } from "./skip";

/** What the sync worker needs of the inbound pipeline: recording a message it verified itself. */
export interface EmailDeliveryRecorder {
  acceptVerified(name: "email", tenantId: string, parsed: ParsedNotification): Promise<Acknowledgement>;
}

/** A tenant's mailbox as one sync sees it. */
export interface SyncedMailbox {
  tenantId: string;
  connectionId: string;
  /** The mailbox's own address, lowercased. */
  address: string;
  gmail: GmailMailbox;
  /** Read once per sync. */
  settings: EmailSettings;
}

export interface InboundMessageDeps {
  sql: Sql;
  log: Logger;
  pipeline: EmailDeliveryRecorder;
  /** EMAIL_MAX_BYTES: larger mail is recorded and skipped, never answered. */
  maxBytes: number;
}

export type Taken = "queued" | "skipped" | "missing" | "recorded";

/**
 * One new Gmail message: read, decided (answer or skip, and why), recorded with its threading facts, and,
 * when it is to be answered, handed to the pipeline as one message of its thread's conversation. The
 * record comes first, so the reply always finds it; a crash between the two leaves a `queued` row the next
 * sync hands over again (the pipeline's delivery id keeps that to one answer).
 */
export async function takeInboundMessage(
  deps: InboundMessageDeps,
  box: SyncedMailbox,
  ref: GmailMessageRef,
): Promise<Taken> {
  const message = await box.gmail.message(ref.id);
  if (!message) return "missing"; // deleted between the change and this read
  const oversize = message.sizeEstimate > deps.maxBytes;
  // An over-size message is never answered: its headers say all its record needs, its body is not decoded.
  const mail = await parseEmail(oversize ? headerBlock(message.raw) : message.raw);
  const reason = await decide(deps, box, message, mail);
  // Only people the bot answers become contacts: newsletters, robots and colleagues would crowd them out.
  const contact =
    reason === undefined && mail.from
      ? await mergeContact(deps.sql, {
          email: mail.from.address,
          name: mail.from.name ?? null,
          channel: "email",
        })
      : undefined;
  const contactId = contact?.id ?? null;
  const status = await recordInboundEmail(deps.sql, inboundRow(box, message, mail, contactId, reason));
  if (status === "skipped") {
    // Skipped by an earlier take when this one would answer it (a rule changed meanwhile): it stays skipped.
    const why = reason ?? "recorded_before";
    deps.log.info(
      {
        event: LOG_EVENT.emailMessageSkipped,
        connectionId: box.connectionId,
        gmailId: message.id,
        reason: why,
      },
      `inbound mail not answered (${why})`,
    );
    await labelSkipped(deps.log, box, message.id);
    return "skipped";
  }
  if (status !== "queued") return "recorded";
  const ack = await deps.pipeline.acceptVerified(
    "email",
    box.tenantId,
    notification(box, message, mail, contactId),
  );
  deps.log.info(
    {
      event: LOG_EVENT.emailMessageQueued,
      connectionId: box.connectionId,
      gmailId: message.id,
      status: ack.status,
    },
    `inbound mail handed to the pipeline (${ack.status})`,
  );
  return "queued";
}

async function decide(
  deps: InboundMessageDeps,
  box: SyncedMailbox,
  message: GmailMessage,
  mail: ParsedEmail,
) {
  const sentBySwitchboard = mail.messageId ? await isOwnMessageId(deps.sql, mail.messageId) : false;
  return skipReason(mail, {
    mailbox: box.address,
    ownDomains: box.settings.ownDomains,
    labelIds: message.labelIds,
    sizeEstimate: message.sizeEstimate,
    maxBytes: deps.maxBytes,
    sentBySwitchboard,
  });
}

function inboundRow(
  box: SyncedMailbox,
  message: GmailMessage,
  mail: ParsedEmail,
  contactId: string | null,
  reason: string | undefined,
) {
  return {
    connectionId: box.connectionId,
    gmailId: message.id,
    threadId: message.threadId,
    rfc822MessageId: mail.messageId ?? null,
    fromAddress: mail.from?.address ?? null,
    fromName: mail.from?.name ?? null,
    replyTo: mail.replyTo.map((a) => a.address),
    to: mail.to.map((a) => a.address),
    cc: mail.cc.map((a) => a.address),
    subject: mail.subject,
    references: mail.references,
    contactId,
    status: reason === undefined ? ("queued" as const) : ("skipped" as const),
    reason: reason ?? null,
    receivedAt: message.internalDate,
  };
}

/**
 * The pipeline's view of the message (COMMON.md's design): the thread is the conversation (per mailbox:
 * thread ids are unique per mailbox only), the Gmail id the message and, with the mailbox, the delivery;
 * the reply goes out through the mailbox it arrived at, not before the tenant's delay.
 */
function notification(
  box: SyncedMailbox,
  message: GmailMessage,
  mail: ParsedEmail,
  contactId: string | null,
): ParsedNotification {
  const { connectionId } = box;
  const notBefore = new Date(message.internalDate.getTime() + box.settings.delaySeconds * 1000);
  return {
    kind: "delivery",
    delivery: {
      id: emailDeliveryId(connectionId, message.id),
      topic: "gmail.message_added",
      conversations: [
        {
          id: `${connectionId}:${message.threadId}`,
          contactId,
          messages: [{ id: message.id, text: mail.text, via: connectionId, notBefore }],
        },
      ],
    },
  };
}

/** Agents see in Gmail why the bot left a message alone. Best effort: a label is no reason to fail a sync. */
async function labelSkipped(log: Logger, box: SyncedMailbox, gmailId: string) {
  try {
    const label = await box.gmail.labelId(`${box.settings.label}/Skipped`);
    await box.gmail.addLabels(gmailId, [label]);
  } catch (error) {
    log.warn(
      { event: "email.label_failed", connectionId: box.connectionId, gmailId, error },
      "could not label a skipped message",
    );
  }
}

/** The header block of a raw message (up to and including the blank line), or all of it when it has none. */
function headerBlock(raw: Uint8Array): Uint8Array {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const crlf = bytes.indexOf("\r\n\r\n");
  if (crlf >= 0) return raw.subarray(0, crlf + 4);
  const lf = bytes.indexOf("\n\n");
  return lf >= 0 ? raw.subarray(0, lf + 2) : raw;
}
