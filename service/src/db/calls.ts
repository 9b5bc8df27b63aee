import type { Sql } from "./client";

/**
 * Phone calls answered by a tenant's assistant (table `calls`, migration 00013), in the current tenant's
 * scope. A call is keyed by the assistant's call leg (`call_control_id`), which both of Telnyx's events
 * carry, so the end of the call and its insights meet in one row whichever arrives first, and a retried
 * event rewrites the same row.
 */

/** A message of a stored transcript, PII already redacted. */
export interface StoredTranscriptMessage {
  role: "user" | "assistant" | "tool";
  text: string;
  createdAt: string | null;
}

/** One group of Telnyx insights as received (`call.conversation_insights.generated`). */
export interface StoredInsightGroup {
  insightGroupId: string | null;
  results: { insightId: string | null; result: unknown }[];
  receivedAt: string;
}

export interface EndedCall {
  /** The tenant's Telnyx connection (null: a row not tied to one, as in tests). */
  connectionId: string | null;
  callControlId: string;
  conversationId: string;
  callSessionId: string | null;
  assistantId: string | null;
  fromNumber: string | null;
  toNumber: string | null;
  contactId: string | null;
  durationSec: number | null;
  reason: string | null;
  transcript: StoredTranscriptMessage[];
  endedAt: Date;
}

export interface CallRow {
  id: string;
  connectionId: string | null;
  conversationId: string | null;
  callControlId: string;
  callSessionId: string | null;
  assistantId: string | null;
  fromNumber: string | null;
  toNumber: string | null;
  contactId: string | null;
  durationSec: number | null;
  reason: string | null;
  transcript: StoredTranscriptMessage[];
  insights: StoredInsightGroup[];
  summary: string | null;
  endedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Stores the end of a call (numbers, duration, reason, transcript), keeping insights stored before it.
 * `firstEnd`: no earlier delivery of the end reached this row (what makes `call.completed` go out once).
 */
export async function recordEndedCall(sql: Sql, call: EndedCall): Promise<{ id: string; firstEnd: boolean }> {
  const [row] = await sql<{ id: string; firstEnd: boolean }[]>`
    with earlier as (select ended_at from calls where call_control_id = ${call.callControlId})
    insert into calls (connection_id, call_control_id, conversation_id, call_session_id, assistant_id,
                       from_number, to_number, contact_id, duration_sec, reason, transcript, ended_at)
    values (${call.connectionId}, ${call.callControlId}, ${call.conversationId}, ${call.callSessionId},
            ${call.assistantId}, ${call.fromNumber}, ${call.toNumber}, ${call.contactId}, ${call.durationSec},
            ${call.reason}, ${sql.json(call.transcript as never)}, ${call.endedAt})
    on conflict (tenant_id, call_control_id) do update set
      connection_id = excluded.connection_id, conversation_id = excluded.conversation_id,
      call_session_id = coalesce(excluded.call_session_id, calls.call_session_id),
      assistant_id = excluded.assistant_id, from_number = excluded.from_number,
      to_number = excluded.to_number, contact_id = coalesce(excluded.contact_id, calls.contact_id),
      duration_sec = excluded.duration_sec, reason = excluded.reason, transcript = excluded.transcript,
      ended_at = coalesce(calls.ended_at, excluded.ended_at), updated_at = now()
    returning id, (select ended_at from earlier) is null as first_end`;
  if (!row) throw new Error("call upsert returned no row");
  return row;
}

/**
 * Stores one group of insights with its call, creating the row when they arrive before the end of the call.
 * A group received again replaces its earlier copy (a retried event stores it once).
 */
export async function recordCallInsights(
  sql: Sql,
  call: { connectionId: string | null; callControlId: string; callSessionId: string | null },
  group: StoredInsightGroup,
): Promise<{ id: string }> {
  const [row] = await sql<{ id: string }[]>`
    insert into calls (connection_id, call_control_id, call_session_id, insights)
    values (${call.connectionId}, ${call.callControlId}, ${call.callSessionId}, ${sql.json([group] as never)})
    on conflict (tenant_id, call_control_id) do update set
      insights = (
        select coalesce(jsonb_agg(g), '[]'::jsonb) from jsonb_array_elements(calls.insights) g
        where g->>'insightGroupId' is distinct from ${group.insightGroupId}
      ) || excluded.insights,
      call_session_id = coalesce(calls.call_session_id, excluded.call_session_id),
      updated_at = now()
    returning id`;
  if (!row) throw new Error("call insights upsert returned no row");
  return row;
}

/** The contact's channels list names voice (the admin API's filter), once. */
export async function markContactChannel(sql: Sql, contactId: string, channel: string): Promise<void> {
  await sql`
    update contacts set channels = array_append(channels, ${channel}), updated_at = now()
    where id = ${contactId} and not (${channel} = any(channels))`;
}

const COLUMNS = (sql: Sql) => sql`
  id, connection_id, conversation_id, call_control_id, call_session_id, assistant_id, from_number,
  to_number, contact_id, duration_sec, reason, transcript, insights, summary, ended_at, created_at, updated_at`;

export function findCall(sql: Sql, id: string): Promise<CallRow | undefined> {
  return sql<CallRow[]>`select ${COLUMNS(sql)} from calls where id = ${id}`.then(([row]) => row);
}

export interface CallFilter {
  contactId?: string | undefined;
  /** The caller's or the called number (E.164). */
  number?: string | undefined;
  /** Calls created at or after / before these instants. */
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * Newest first. `beforeId`: the last call of the previous page (keyset on created_at, id, read from the
 * row itself so the database's microseconds are compared, not a rounded copy).
 */
export function listCalls(
  sql: Sql,
  filter: CallFilter,
  limit: number,
  beforeId?: string,
): Promise<CallRow[]> {
  const number = filter.number ?? null;
  const before = beforeId ?? null;
  return sql<CallRow[]>`
    select ${COLUMNS(sql)} from calls
    where (${filter.contactId ?? null}::uuid is null or contact_id = ${filter.contactId ?? null})
      and (${number}::text is null or from_number = ${number} or to_number = ${number})
      and (${filter.from ?? null}::timestamptz is null or created_at >= ${filter.from ?? null})
      and (${filter.to ?? null}::timestamptz is null or created_at < ${filter.to ?? null})
      and (${before}::uuid is null
           or (created_at, id) < (select b.created_at, b.id from calls b where b.id = ${before}))
    order by created_at desc, id desc
    limit ${limit}`;
}

/** What the tenant knows of a caller, for the assistant's greeting. */
export interface CallerContext {
  name: string | null;
  openEscalations: number;
  lastSummary: string | null;
}

/**
 * The caller's name, their unresolved escalations and the summary of their latest conversation (a call's,
 * or a chat/SMS session's), in ONE statement: the dynamic-variables webhook answers within Telnyx's 1 s.
 */
export async function callerContext(sql: Sql, phone: string): Promise<CallerContext> {
  const [row] = await sql<CallerContext[]>`
    with c as (select id, name from contacts where phone = ${phone})
    select (select name from c) as name,
      (select count(*)::int from escalations e
        where e.contact_id = (select id from c) and e.status <> 'resolved') as open_escalations,
      (select s.summary from (
          select summary, coalesce(ended_at, updated_at) as at from calls
          where contact_id = (select id from c) and summary is not null
          union all
          select summary, updated_at as at from sessions
          where contact_id = (select id from c) and summary is not null
        ) s order by s.at desc limit 1) as last_summary`;
  return row ?? { name: null, openEscalations: 0, lastSummary: null };
}
