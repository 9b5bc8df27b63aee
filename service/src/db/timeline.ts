import type { Sql } from "./client";

/**
 * One person's conversations across channels as one timeline (the console's conversation and contact
 * pages): the messages of a session and of every other session of its contact (web, SMS, e-mail,
 * Intercom), the contact's phone calls' transcripts, and the escalations of either, merged by time.
 */

export interface TimelineEntry {
  kind: "message" | "call" | "escalation";
  at: Date;
  /** The session the entry belongs to (messages, escalations); null for a call's. */
  sessionId: string | null;
  /** The call of a transcript line; the escalation's id. */
  ref: string;
  channel: string;
  /** user | assistant | agent (messages, transcripts); the escalation's status. */
  author: string;
  text: string;
  /** An escalation's summary and who claimed or resolved it. */
  summary: string | null;
  claimedBy: string | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
}

export interface TimelineOf {
  /** A session, or none (a contact's page). */
  sessionId?: string | undefined;
  contactId?: string | null | undefined;
  /** The newest entries kept (the timeline is read oldest first). */
  limit: number;
}

/**
 * The timeline, oldest first, in one statement: at most `limit` entries, the newest ones. A transcript
 * line without its own time takes the call's; a tool call of the voice assistant is not the customer's
 * conversation and is left out.
 */
export async function timelineOf(sql: Sql, of: TimelineOf): Promise<TimelineEntry[]> {
  const session = of.sessionId ?? null;
  const contact = of.contactId ?? null;
  const rows = await sql<(TimelineEntry & { n: string })[]>`
    with who as (
      select coalesce(${contact}::uuid, (select s.contact_id from sessions s where s.id = ${session}::uuid)) as id
    ), convo as (
      select s.id, s.channel from sessions s, who
      where s.id = ${session}::uuid or (who.id is not null and s.contact_id = who.id)
    )
    select * from (
      select 'message' as kind, m.created_at as at, m.id as n, m.session_id::text as session_id,
        m.id::text as ref, cv.channel, m.role as author, m.content as text,
        null::text as summary, null::text as claimed_by, null::text as resolved_by, null::timestamptz as resolved_at
      from messages m join convo cv on cv.id = m.session_id
      union all
      select 'call', case when t.line->>'createdAt' ~ '^\\d{4}-\\d{2}-\\d{2}T' then (t.line->>'createdAt')::timestamptz
                          else k.created_at end,
        t.n, null, k.id::text, 'voice', t.line->>'role', coalesce(t.line->>'text', ''), null, null, null, null
      from who, calls k cross join lateral jsonb_array_elements(k.transcript) with ordinality as t(line, n)
      where k.contact_id = who.id and t.line->>'role' <> 'tool'
      union all
      select 'escalation', e.created_at, 0, e.session_id::text, e.id::text, e.channel, e.status, e.reason,
        e.summary, e.claimed_by, e.resolved_by, e.resolved_at
      from who, escalations e
      where e.session_id in (select id from convo) or e.contact_id = who.id
      order by at desc, n desc
      limit ${of.limit}
    ) newest
    order by at, n`;
  return rows.map(({ n: _n, ...entry }) => entry);
}

/** A conversation's own row: its channel, contact and times (undefined: not one of this tenant's). */
export interface ConversationHead {
  id: string;
  channel: string;
  contactId: string | null;
  contactName: string | null;
  contactPhone: string | null;
  contactEmail: string | null;
  turns: number;
  summary: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export async function findConversation(sql: Sql, id: string): Promise<ConversationHead | undefined> {
  const [row] = await sql<ConversationHead[]>`
    select s.id, s.channel, s.contact_id, c.name as contact_name, c.phone as contact_phone,
      c.email as contact_email, s.turns, s.summary, s.created_at, s.updated_at
    from sessions s left join contacts c on c.id = s.contact_id
    where s.id = ${id}`;
  return row;
}
