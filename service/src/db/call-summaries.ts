import type { Sql } from "./client";

/** What extraction reads of a stored call (migration 00013). */
export interface CallForInsights {
  id: string;
  fromNumber: string | null;
  toNumber: string | null;
  contactId: string | null;
  summary: string | null;
  /** `[{ role, text, createdAt }]`, oldest first, as the voice channel stored it. */
  transcript: { role?: string; text?: string }[];
}

export async function findCallForInsights(sql: Sql, callId: string): Promise<CallForInsights | undefined> {
  const [row] = await sql<CallForInsights[]>`
    select id, from_number, to_number, contact_id, summary, transcript from calls where id = ${callId}`;
  return row;
}

/** The call's summary and contact, once its extraction succeeded. */
export async function saveCallInsights(
  sql: Sql,
  callId: string,
  insights: { summary: string; contactId: string | null },
): Promise<void> {
  await sql`
    update calls set summary = ${insights.summary},
      contact_id = coalesce(${insights.contactId}::uuid, contact_id), updated_at = now()
    where id = ${callId}`;
}
