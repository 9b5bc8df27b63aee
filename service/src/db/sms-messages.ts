import type { Sql } from "./client";

export type SmsMessageStatus =
  | "received"
  | "pending"
  | "queued"
  | "sending"
  | "sent"
  | "delivered"
  | "undelivered"
  | "failed"
  | "skipped";

export type SmsPurpose = "inbound" | "reply" | "help" | "handoff" | "quota_notice";

export interface SmsMessageRow {
  id: string;
  connectionId: string | null;
  direction: "inbound" | "outbound";
  provider: string;
  providerMessageId: string | null;
  customerPhone: string;
  businessPhone: string;
  purpose: SmsPurpose;
  replyTo: string | null;
  status: SmsMessageStatus;
  errorCode: string | null;
  segments: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewSmsMessage {
  connectionId: string | null;
  direction: "inbound" | "outbound";
  provider: string;
  providerMessageId?: string | undefined;
  customerPhone: string;
  businessPhone: string;
  purpose: SmsPurpose;
  replyTo?: string | undefined;
  status: SmsMessageStatus;
  errorCode?: string | undefined;
  segments?: number | undefined;
}

/** Writes a delivery record (an outbound one before the provider is called); an inbound one seen before is kept. */
export async function insertSmsMessage(sql: Sql, m: NewSmsMessage): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into sms_messages (connection_id, direction, provider, provider_message_id, customer_phone,
                              business_phone, purpose, reply_to, status, error_code, segments)
    values (${m.connectionId}, ${m.direction}, ${m.provider}, ${m.providerMessageId ?? null}, ${m.customerPhone},
            ${m.businessPhone}, ${m.purpose}, ${m.replyTo ?? null}, ${m.status}, ${m.errorCode ?? null},
            ${m.segments ?? null})
    on conflict do nothing
    returning id`;
  return row?.id;
}

/** What the provider said of a send: its id, state and billed segments. */
export async function recordSmsSent(
  sql: Sql,
  id: string,
  sent: { providerMessageId: string; status: SmsMessageStatus; segments: number },
) {
  await sql`
    update sms_messages
    set provider_message_id = ${sent.providerMessageId}, status = ${sent.status}, segments = ${sent.segments},
        updated_at = now()
    where id = ${id}`;
}

/** A send the provider refused for good (invalid number, opted out): the record says why. */
export async function recordSmsFailed(sql: Sql, id: string, errorCode: string) {
  await sql`update sms_messages set status = 'failed', error_code = ${errorCode}, updated_at = now() where id = ${id}`;
}

/** A record whose send never reached the provider (refused with a status, or absent after a crash). */
export async function deleteSmsMessage(sql: Sql, id: string) {
  await sql`delete from sms_messages where id = ${id} and provider_message_id is null`;
}

/** The newest outbound record answering one of these inbound messages (the idempotency record of a turn). */
export async function outboundFor(
  sql: Sql,
  replyTo: string[],
  purpose: SmsPurpose,
): Promise<SmsMessageRow | undefined> {
  const [row] = await sql<SmsMessageRow[]>`
    select * from sms_messages
    where direction = 'outbound' and reply_to = any(${replyTo}::text[]) and purpose = ${purpose}
    order by created_at desc limit 1`;
  return row;
}

/** Delivery states in order; the final ones share the top rank, so the first final state reported stays. */
const STATUS_RANK: Record<SmsMessageStatus, number> = {
  pending: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  received: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
  skipped: 4,
};

/**
 * A provider's status report, applied only when it moves the message forward (callbacks arrive out of
 * order: `sent` after `delivered` changes nothing). Returns the row as it is now, or undefined when the
 * message is not the tenant's or unknown.
 */
export async function applySmsStatus(
  sql: Sql,
  update: { providerMessageId: string; status: SmsMessageStatus; errorCode?: string | undefined },
): Promise<SmsMessageRow | undefined> {
  const [updated] = await sql<SmsMessageRow[]>`
    update sms_messages m
    set status = ${update.status}, error_code = coalesce(${update.errorCode ?? null}, m.error_code),
        updated_at = now()
    where m.provider_message_id = ${update.providerMessageId} and m.direction = 'outbound'
      and ${STATUS_RANK[update.status]}::int > case m.status
        when 'pending' then 0 when 'queued' then 1 when 'sending' then 2 when 'sent' then 3 else 4 end
    returning m.*`;
  if (updated) return updated;
  const [current] = await sql<SmsMessageRow[]>`
    select * from sms_messages where provider_message_id = ${update.providerMessageId} and direction = 'outbound'`;
  return current;
}

/** A customer's texts with the tenant, newest first: each one's direction, purpose and delivery state. */
export async function textsOf(sql: Sql, customerPhone: string, limit: number): Promise<SmsMessageRow[]> {
  return sql<SmsMessageRow[]>`
    select id, connection_id, direction, provider, provider_message_id, customer_phone, business_phone,
           purpose, reply_to, status, error_code, segments, created_at, updated_at
    from sms_messages where customer_phone = ${customerPhone}
    order by created_at desc, id limit ${limit}`;
}
