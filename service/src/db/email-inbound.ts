import type { Sql } from "./client";

/**
 * The current tenant's inbound Gmail messages as the sync worker records them (email_messages, migration
 * 00016): written before a message is handed to the pipeline, so the reply finds its threading facts, and
 * unique per mailbox and Gmail id, so overlapping history ranges and re-runs look at a message once.
 */

/** The pipeline's delivery id of an inbound Gmail message: one per message, whatever range or push brought it. */
export const emailDeliveryId = (connectionId: string, gmailId: string) => `${connectionId}:${gmailId}`;

/**
 * Of these Gmail ids, the ones there is nothing more to do for: recorded and skipped, recorded and handed
 * to the pipeline (its delivery id is recorded), or a message of ours. A message recorded `queued` whose
 * hand-over a crash cut off is not settled: the next sync hands it over again.
 */
export async function settledGmailIds(
  sql: Sql,
  connectionId: string,
  gmailIds: string[],
): Promise<Set<string>> {
  if (gmailIds.length === 0) return new Set();
  const rows = await sql<{ gmailId: string }[]>`
    select m.gmail_id from email_messages m
    where m.connection_id = ${connectionId} and m.gmail_id = any(${gmailIds}::text[])
      and (m.direction = 'outbound' or m.status <> 'queued' or exists (
        select 1 from webhook_deliveries d
        where d.channel = 'email' and d.notification_id = ${connectionId} || ':' || m.gmail_id))`;
  return new Set(rows.map((r) => r.gmailId));
}

/** A Message-ID Switchboard gave a reply or draft of this tenant's (so that mail is its own). */
export async function isOwnMessageId(sql: Sql, rfc822MessageId: string): Promise<boolean> {
  const [row] = await sql<{ own: boolean }[]>`
    select exists (
      select 1 from email_messages where direction = 'outbound' and rfc822_message_id = ${rfc822MessageId}
    ) as own`;
  return row?.own ?? false;
}

export interface InboundEmailRow {
  connectionId: string;
  gmailId: string;
  threadId: string;
  rfc822MessageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  replyTo: string[];
  to: string[];
  cc: string[];
  subject: string;
  references: string[];
  contactId: string | null;
  status: "queued" | "skipped";
  reason: string | null;
  receivedAt: Date;
}

/**
 * Records an inbound message once; returns the status of its row, this one or the one recorded before
 * (a re-run keeps the first decision), or undefined when the current tenant has no such mailbox.
 */
export async function recordInboundEmail(sql: Sql, row: InboundEmailRow): Promise<string | undefined> {
  const [found] = await sql<{ status: string }[]>`
    with inserted as (
      insert into email_messages (connection_id, direction, gmail_id, thread_id, rfc822_message_id,
        from_address, from_name, reply_to, to_addresses, cc_addresses, subject, "references", contact_id,
        status, reason, received_at)
      select ${row.connectionId}::uuid, 'inbound', ${row.gmailId}, ${row.threadId}, ${row.rfc822MessageId},
        ${row.fromAddress}, ${row.fromName}, ${row.replyTo}::text[], ${row.to}::text[], ${row.cc}::text[],
        ${row.subject}, ${row.references}::text[], ${row.contactId}::uuid, ${row.status}, ${row.reason},
        ${row.receivedAt}::timestamptz
      -- A foreign key is checked past row-level security: the mailbox must be the tenant's own.
      where exists (select 1 from email_mailboxes where connection_id = ${row.connectionId})
      on conflict (connection_id, gmail_id) where gmail_id is not null do nothing
      returning status
    )
    select status from inserted
    union all
    select status from email_messages
    where connection_id = ${row.connectionId} and gmail_id = ${row.gmailId}
      and not exists (select 1 from inserted)`;
  return found?.status;
}
