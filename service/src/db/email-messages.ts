import type { Sql } from "./client";

/**
 * The e-mail channel's Gmail messages (migration 00016, `email_messages`), as the reply sender reads and
 * writes them: the inbound messages a turn answers (written by the mailbox sync, before the pipeline
 * queues them), and the outbound replies, drafts and handoff notices, each recorded with its Message-ID
 * BEFORE Gmail is called, so a retry after a crash searches the mailbox for it instead of sending again.
 */

/** An inbound message's threading facts, as the sync worker recorded them. */
export interface InboundEmail {
  id: string;
  connectionId: string;
  gmailId: string;
  threadId: string;
  /** With its angle brackets; null when the mail had none. */
  rfc822MessageId: string | null;
  /** Lowercased. */
  fromAddress: string | null;
  fromName: string | null;
  /** Addresses as recorded: `a@x` or `Name <a@x>`. */
  replyTo: string[];
  toAddresses: string[];
  ccAddresses: string[];
  subject: string;
  references: string[];
  contactId: string | null;
  status: string;
  receivedAt: Date | null;
  createdAt: Date;
}

export type OutboundStatus = "sending" | "sent" | "drafted" | "failed";

/** A reply, draft or notice the channel wrote into a mailbox. */
export interface OutboundEmail {
  id: string;
  connectionId: string;
  threadId: string;
  /** Gmail's id once sent or drafted; null while `sending`. */
  gmailId: string | null;
  rfc822MessageId: string;
  /** The inbound message a reply answers; null for a handoff notice. */
  answersGmailId: string | null;
  status: OutboundStatus;
  reason: string | null;
  createdAt: Date;
}

/** What is recorded of an outbound message before Gmail is called. */
export interface NewOutbound {
  connectionId: string;
  threadId: string;
  rfc822MessageId: string;
  /** Null for a message that answers none (a handoff notice: `reason` says what it is). */
  answersGmailId: string | null;
  fromAddress: string;
  fromName: string;
  toAddresses: string[];
  ccAddresses: string[];
  subject: string;
  references: string[];
  contactId: string | null;
  reason?: string | undefined;
}

const inboundColumns = (sql: Sql) => sql`
  id, connection_id, gmail_id, thread_id, rfc822_message_id, from_address, from_name, reply_to,
  to_addresses, cc_addresses, subject, "references", contact_id::text as contact_id, status, received_at,
  created_at`;

const outboundColumns = (sql: Sql) => sql`
  id, connection_id, thread_id, gmail_id, rfc822_message_id, answers_gmail_id, status, reason, created_at`;

/** The inbound rows of these Gmail messages in one thread of one mailbox, oldest first. */
export function inboundMessages(
  sql: Sql,
  connectionId: string,
  threadId: string,
  gmailIds: readonly string[],
): Promise<InboundEmail[]> {
  if (gmailIds.length === 0) return Promise.resolve([]);
  return sql<InboundEmail[]>`
    select ${inboundColumns(sql)} from email_messages
    where connection_id = ${connectionId} and direction = 'inbound' and thread_id = ${threadId}
      and gmail_id = any(${gmailIds as string[]}::text[])
    order by received_at nulls first, created_at, gmail_id`;
}

/** The replies recorded for any of these inbound messages (one at most each). */
export function outboundAnswers(
  sql: Sql,
  connectionId: string,
  gmailIds: readonly string[],
): Promise<OutboundEmail[]> {
  if (gmailIds.length === 0) return Promise.resolve([]);
  return sql<OutboundEmail[]>`
    select ${outboundColumns(sql)} from email_messages
    where connection_id = ${connectionId} and direction = 'outbound'
      and answers_gmail_id = any(${gmailIds as string[]}::text[])
    order by created_at`;
}

/**
 * The outbound message with this Message-ID, in the current tenant: the sync worker skips what Switchboard
 * sent itself, and a retry finds what it recorded.
 */
export async function findOutbound(sql: Sql, rfc822MessageId: string): Promise<OutboundEmail | undefined> {
  const [row] = await sql<OutboundEmail[]>`
    select ${outboundColumns(sql)} from email_messages
    where direction = 'outbound' and rfc822_message_id = ${rfc822MessageId}`;
  return row;
}

/**
 * Records an outbound message as `sending`, before Gmail is called. A message recorded before (same
 * Message-ID, or a reply to the same inbound message) is returned as it is, `created: false`: the retry
 * of a send that may have gone out. Undefined when the mailbox is not the current tenant's (nothing is
 * written: a row never points at another tenant's mailbox).
 */
export async function recordOutbound(
  sql: Sql,
  m: NewOutbound,
): Promise<{ row: OutboundEmail; created: boolean } | undefined> {
  // One statement: the insert's own rows are invisible to the outer select, which finds an earlier one.
  const [row] = await sql<(OutboundEmail & { created: boolean })[]>`
    with inserted as (
      insert into email_messages (connection_id, direction, thread_id, rfc822_message_id, answers_gmail_id,
        from_address, from_name, to_addresses, cc_addresses, subject, "references", contact_id, status, reason)
      select m.connection_id, 'outbound', ${m.threadId}, ${m.rfc822MessageId}, ${m.answersGmailId},
        ${m.fromAddress}, ${m.fromName}, ${m.toAddresses}::text[], ${m.ccAddresses}::text[], ${m.subject},
        ${m.references}::text[], ${m.contactId}::uuid, 'sending', ${m.reason ?? null}
      from email_mailboxes m where m.connection_id = ${m.connectionId}
      on conflict do nothing
      returning ${outboundColumns(sql)}
    )
    select *, true as created from inserted
    union all
    select ${outboundColumns(sql)}, false as created from email_messages
    where connection_id = ${m.connectionId} and direction = 'outbound'
      and (rfc822_message_id = ${m.rfc822MessageId}
        or (${m.answersGmailId}::text is not null and answers_gmail_id = ${m.answersGmailId}))
      and not exists (select 1 from inserted)
    limit 1`;
  if (!row) return undefined;
  const { created, ...outbound } = row;
  return { row: outbound, created };
}

/** Gmail took it: its id, and whether it went out or waits as a draft. */
export async function markOutbound(
  sql: Sql,
  id: string,
  done: { gmailId: string; status: "sent" | "drafted" },
) {
  await sql`
    update email_messages set gmail_id = ${done.gmailId}, status = ${done.status}, updated_at = now()
    where id = ${id} and direction = 'outbound'`;
}

/** Gmail refused it for good (or the mailbox is gone): the record says why; nothing was sent. */
export async function failOutbound(sql: Sql, id: string, reason: string) {
  await sql`
    update email_messages set status = 'failed', reason = ${reason}, updated_at = now()
    where id = ${id} and direction = 'outbound' and status = 'sending'`;
}
