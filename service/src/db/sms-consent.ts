import type { Sql } from "./client";

export type ConsentStatus = "opted_out" | "opted_in";

/** One consent event, appended (the log is kept for compliance: the runtime roles cannot change it). */
export interface ConsentEvent {
  phone: string;
  status: ConsentStatus;
  source: "keyword" | "provider_error" | "admin";
  keyword?: string | undefined;
  provider?: string | undefined;
  connectionId?: string | undefined;
}

export async function recordConsent(sql: Sql, event: ConsentEvent) {
  await sql`
    insert into sms_consent (phone, status, source, keyword, provider, connection_id)
    values (${event.phone}, ${event.status}, ${event.source}, ${event.keyword ?? null},
            ${event.provider ?? null}, ${event.connectionId ?? null})`;
}

/** The number's current consent in the tenant: its newest event; a number never seen is opted in. */
export async function consentOf(sql: Sql, phone: string): Promise<ConsentStatus> {
  const [row] = await sql<{ status: ConsentStatus }[]>`
    select status from sms_consent where phone = ${phone} order by at desc, id desc limit 1`;
  return row?.status ?? "opted_in";
}

/** The number's consent events, oldest first (an admin's or a compliance review's view). */
export async function consentHistory(sql: Sql, phone: string) {
  return sql<(ConsentEvent & { at: Date })[]>`
    select phone, status, source, keyword, provider, connection_id, at from sms_consent
    where phone = ${phone} order by at, id`;
}
