import type { Sql } from "./client";

/** What extraction reads of a chat, SMS or Intercom session, and the handles its channel knows. */
export interface SessionForInsights {
  id: string;
  channel: string;
  identityId: string;
  externalRef: string | null;
  contactId: string | null;
  /** The newest message's id (text: bigint), or null for a session without messages. */
  lastMessageId: string | null;
  /** The Intercom contact of an Intercom conversation, as the pipeline recorded it. */
  intercomContactId: string | null;
}

export async function findSessionForInsights(sql: Sql, id: string): Promise<SessionForInsights | undefined> {
  const [row] = await sql<SessionForInsights[]>`
    select s.id, s.channel, s.identity_id, s.external_ref, s.contact_id,
      (select max(m.id)::text from messages m where m.session_id = s.id) as last_message_id,
      (select ic.contact_id from intercom_conversations ic
       where s.channel = 'intercom' and ic.channel = 'intercom' and ic.conversation_id = s.external_ref) as intercom_contact_id
    from sessions s where s.id = ${id}`;
  return row;
}

/** The session's messages up to `through`, oldest first, at most `limit` of the newest. */
export async function sessionLines(
  sql: Sql,
  sessionId: string,
  through: string,
  limit: number,
): Promise<{ role: "user" | "assistant"; text: string }[]> {
  const rows = await sql<{ role: "user" | "assistant"; text: string }[]>`
    select case when role = 'agent' then 'assistant' else role end as role, content as text from messages
    where session_id = ${sessionId} and id <= ${through}::bigint
    order by messages.id desc limit ${limit}`;
  return rows.reverse();
}

/** Links the session to its contact (the contact's conversations list it; erasure finds it). */
export async function linkSessionContact(sql: Sql, sessionId: string, contactId: string): Promise<void> {
  await sql`
    update sessions set contact_id = ${contactId}
    where id = ${sessionId} and contact_id is distinct from ${contactId}::uuid`;
}

/**
 * Links a new texting session to the contact of its number, which the SMS channel created when the text
 * arrived: one statement, nothing when the number has no contact (yet) or the session has one.
 */
export async function linkSessionToPhoneContact(sql: Sql, sessionId: string, phone: string): Promise<void> {
  await sql`
    update sessions set contact_id = c.id from contacts c
    where sessions.id = ${sessionId} and sessions.contact_id is null and c.phone = ${phone}`;
}
