import type { Sql } from "./client";

/**
 * What the SMS channel keeps per tenant: consent (an append-only log; the latest row is a number's state)
 * and the texts it sent (the idempotency record of each send, moved along by delivery reports). Runs in
 * the caller's tenant scope.
 */

export type ConsentStatus = "opted_out" | "opted_in";

export interface ConsentChange {
  phone: string;
  status: ConsentStatus;
  source: "keyword" | "provider_error" | "admin";
  keyword?: string | undefined;
  provider: string;
  /** The number it came through; undefined when that number was disconnected since. */
  connectionId: string | undefined;
}

export async function recordConsent(sql: Sql, c: ConsentChange) {
  await sql`
    insert into sms_consent (phone, status, source, keyword, provider, connection_id)
    values (${c.phone}, ${c.status}, ${c.source}, ${c.keyword ?? null}, ${c.provider}, ${c.connectionId ?? null})`;
}

/** The number's latest consent change; undefined: it never opted out (texts are answers it asked for). */
export async function consentOf(sql: Sql, phone: string): Promise<ConsentStatus | undefined> {
  const [row] = await sql<{ status: ConsentStatus }[]>`
    select status from sms_consent where phone = ${phone} order by id desc limit 1`;
  return row?.status;
}

export type SmsKind = "reply" | "help" | "handoff" | "quota";
export type SmsStatus = "sending" | "queued" | "sent" | "delivered" | "undelivered" | "failed";

export interface OutboundText {
  connectionId: string;
  provider: string;
  customerPhone: string;
  businessPhone: string;
  kind: SmsKind;
  outboxIds: string[];
  bodySha256: string;
}

export interface SentText {
  id: string;
  providerMessageId: string | null;
  bodySha256: string;
  status: SmsStatus;
  createdAt: Date;
}

/** The record of a send, written before it: a crash after the send is then recognised, not repeated. */
export async function recordSending(sql: Sql, t: OutboundText): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into sms_messages (connection_id, provider, customer_phone, business_phone, kind, outbox_ids, body_sha256)
    values (${t.connectionId}, ${t.provider}, ${t.customerPhone}, ${t.businessPhone}, ${t.kind},
            ${t.outboxIds}::uuid[], ${t.bodySha256})
    returning id`;
  return (row as { id: string }).id;
}

/** The provider took the text: its id (delivery reports name it), status and billed segments. */
export async function recordSent(
  sql: Sql,
  id: string,
  sent: { providerMessageId: string; status: SmsStatus; segments?: number | undefined },
) {
  await sql`
    update sms_messages
    set provider_message_id = ${sent.providerMessageId}, status = ${sent.status},
        segments = ${sent.segments ?? null}, updated_at = now()
    where id = ${id}`;
}

/** The provider refused the text: nothing was sent; why is kept with it. */
export async function recordRefused(sql: Sql, id: string, errorCode: string) {
  await sql`
    update sms_messages set status = 'failed', error_code = ${errorCode}, updated_at = now() where id = ${id}`;
}

/** The latest send of a reply to these outbox rows, if one began. */
export async function lastSendOf(sql: Sql, outboxIds: string[]): Promise<SentText | undefined> {
  const [row] = await sql<SentText[]>`
    select id, provider_message_id, body_sha256, status, created_at from sms_messages
    where outbox_ids && ${outboxIds}::uuid[] and kind = 'reply'
    order by created_at desc limit 1`;
  return row;
}

/** Final states are never left for an earlier one: reports can arrive out of order. */
const RANK: Record<SmsStatus, number> = {
  sending: 0,
  queued: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
};

/**
 * A provider's delivery report: moves the text forward (never back: `sent` arriving after `delivered`
 * changes nothing). Returns the text as it now stands, or undefined when this tenant sent no such text or
 * nothing changed.
 */
export async function applyDeliveryReport(
  sql: Sql,
  report: { provider: string; providerMessageId: string; status: SmsStatus; errorCode?: string | undefined },
): Promise<{ id: string; customerPhone: string; status: SmsStatus } | undefined> {
  const earlier = Object.entries(RANK)
    .filter(([, rank]) => rank < RANK[report.status])
    .map(([status]) => status);
  const [row] = await sql<{ id: string; customerPhone: string; status: SmsStatus }[]>`
    update sms_messages
    set status = ${report.status}, error_code = coalesce(${report.errorCode ?? null}, error_code), updated_at = now()
    where provider = ${report.provider} and provider_message_id = ${report.providerMessageId}
      and status = any(${earlier}::text[])
    returning id, customer_phone, status`;
  return row;
}

/** Texts the tenant sent since the start of today and of this month (UTC), refused ones not counted. */
export async function textsSent(sql: Sql): Promise<{ day: number; month: number }> {
  const [row] = await sql<{ day: number; month: number }[]>`
    select count(*) filter (where created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc')::int as day,
           count(*)::int as month
    from sms_messages
    where created_at >= date_trunc('month', now() at time zone 'utc') at time zone 'utc' and status <> 'failed'`;
  return row ?? { day: 0, month: 0 };
}

/** Whether this number was already told the tenant's quota is reached, since `since`. */
export async function quotaNoticeSent(sql: Sql, phone: string, since: Date): Promise<boolean> {
  const [row] = await sql<{ sent: boolean }[]>`
    select exists (
      select 1 from sms_messages
      where customer_phone = ${phone} and kind = 'quota' and created_at >= ${since}
    ) as sent`;
  return row?.sent ?? false;
}
