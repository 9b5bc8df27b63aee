import type { Sql } from "./client";
import type { EscalationRow, EscalationStatus } from "./escalations";

/**
 * The console's reads of the escalation queue (issue 16): each escalation with its customer as known, in
 * one statement per page, and the cheap change marker the live queue polls.
 */

export interface QueueEntry extends EscalationRow {
  contactName: string | null;
  contactPhone: string | null;
  contactEmail: string | null;
}

const ENTRY = (sql: Sql) => sql`
  e.id::text, e.contact_id::text, e.channel, e.conversation_id, e.session_id::text, e.reason, e.summary,
  e.status, e.claimed_by, e.claimed_at, e.resolved_by, e.resolved_at, e.created_at, e.updated_at,
  c.name as contact_name, c.phone as contact_phone, c.email as contact_email`;

/**
 * The queue as an agent works it: open ones first, then claimed, oldest first in each (the longest
 * waiting is the first to take), then the most recently resolved; or one status only.
 */
export async function queueEntries(
  sql: Sql,
  opts: { status?: EscalationStatus | undefined; limit: number },
): Promise<QueueEntry[]> {
  const only = opts.status ? sql`where e.status = ${opts.status}` : sql``;
  return sql<QueueEntry[]>`
    select ${ENTRY(sql)} from escalations e left join contacts c on c.id = e.contact_id
    ${only}
    order by case e.status when 'open' then 0 when 'claimed' then 1 else 2 end,
      case when e.status = 'resolved' then null else e.created_at end,
      e.resolved_at desc nulls last, e.id
    limit ${opts.limit}`;
}

/** One escalation with its customer, for its page. */
export async function queueEntry(sql: Sql, id: string): Promise<QueueEntry | undefined> {
  const [row] = await sql<QueueEntry[]>`
    select ${ENTRY(sql)} from escalations e left join contacts c on c.id = e.contact_id where e.id = ${id}`;
  return row;
}

/**
 * What changes when the queue changes (an escalation opened, claimed or resolved): the open and claimed
 * counts and the newest change of any escalation, as one string, and the open count. One read in the
 * tenant's scope.
 */
export async function queueMarker(sql: Sql): Promise<{ marker: string; open: number }> {
  const [row] = await sql<{ marker: string; open: number }[]>`
    select count(*) filter (where status = 'open')::int as open,
      count(*) filter (where status = 'open') || ':' || count(*) filter (where status = 'claimed') || ':' ||
      coalesce(extract(epoch from max(updated_at))::text, '0') as marker
    from escalations`;
  return row ?? { marker: "0:0:0", open: 0 };
}
