import type { Sql } from "./client";

/**
 * Escalations (migration 00014): a conversation handed to a person, from any channel, until a person
 * resolves it. One unresolved escalation per conversation (a unique index): a second handoff joins it.
 */

export type EscalationStatus = "open" | "claimed" | "resolved";

export interface EscalationRow {
  id: string;
  contactId: string | null;
  channel: string;
  conversationId: string;
  sessionId: string | null;
  reason: string;
  summary: string | null;
  status: EscalationStatus;
  claimedBy: string | null;
  claimedAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewEscalation {
  channel: string;
  conversationId: string;
  contactId: string | null;
  sessionId: string | null;
  reason: string;
  summary: string | null;
}

const COLUMNS = (sql: Sql) => sql`
  id::text, contact_id::text, channel, conversation_id, session_id::text, reason, summary, status,
  claimed_by, claimed_at, resolved_by, resolved_at, created_at, updated_at`;

/**
 * The conversation's unresolved escalation, or a new one; `created` tells which. One statement: the
 * insert yields to the unique index of unresolved escalations, so two handoffs at once open one.
 */
export async function openEscalation(
  sql: Sql,
  e: NewEscalation,
): Promise<{ row: EscalationRow; created: boolean }> {
  const [row] = await sql<(EscalationRow & { created: boolean })[]>`
    with created as (
      insert into escalations (channel, conversation_id, contact_id, session_id, reason, summary)
      values (${e.channel}, ${e.conversationId}, ${e.contactId}, ${e.sessionId}, ${e.reason}, ${e.summary})
      on conflict (tenant_id, channel, conversation_id) where status <> 'resolved' do nothing
      returning ${COLUMNS(sql)}, true as created
    )
    select * from created
    union all
    select ${COLUMNS(sql)}, false as created from escalations
    where channel = ${e.channel} and conversation_id = ${e.conversationId} and status <> 'resolved'
      and not exists (select 1 from created)`;
  if (!row) throw new Error("escalation upsert returned no row");
  const { created, ...escalation } = row;
  return { row: escalation, created };
}

export async function findEscalation(sql: Sql, id: string): Promise<EscalationRow | undefined> {
  const [row] = await sql<EscalationRow[]>`select ${COLUMNS(sql)} from escalations where id = ${id}`;
  return row;
}

/** The conversation's unresolved escalation's status, if it has one. */
export async function unresolvedStatus(
  sql: Sql,
  channel: string,
  conversationId: string,
): Promise<"open" | "claimed" | undefined> {
  const [row] = await sql<{ status: "open" | "claimed" }[]>`
    select status from escalations
    where channel = ${channel} and conversation_id = ${conversationId} and status <> 'resolved'`;
  return row?.status;
}

export interface EscalationFilter {
  status?: EscalationStatus | undefined;
  /** Rows created after this one (the previous page's last): oldest first, the queue's order. */
  afterId?: string | undefined;
  limit: number;
}

/** Oldest first: the escalation waiting longest is the first a person should take. */
export async function listEscalations(sql: Sql, filter: EscalationFilter): Promise<EscalationRow[]> {
  const status = filter.status ? sql`and status = ${filter.status}` : sql``;
  const after = filter.afterId
    ? sql`and (created_at, id) > (select created_at, id from escalations where id = ${filter.afterId})`
    : sql``;
  return sql<EscalationRow[]>`
    select ${COLUMNS(sql)} from escalations where true ${status} ${after}
    order by created_at, id limit ${filter.limit}`;
}

/**
 * Claims it for `actor`: an open escalation, or one `actor` claimed already (a retried claim). Undefined
 * when it is not to be claimed (gone, resolved, or someone else's): the caller reads it to tell which.
 */
export async function claimEscalation(
  sql: Sql,
  id: string,
  actor: string,
): Promise<EscalationRow | undefined> {
  const [row] = await sql<EscalationRow[]>`
    update escalations
    set status = 'claimed', claimed_by = ${actor}, claimed_at = coalesce(claimed_at, now()), updated_at = now()
    where id = ${id} and (status = 'open' or (status = 'claimed' and claimed_by = ${actor}))
    returning ${COLUMNS(sql)}`;
  return row;
}

/**
 * Resolves it (open or claimed) and, when `resumeBot`, hands the conversation back to the bot on the
 * channels whose silence is the conversation's mode (the pipeline's). Pass the transaction that records
 * the `escalation.resolved` event. Undefined when it was not unresolved.
 */
export async function resolveEscalation(
  sql: Sql,
  id: string,
  actor: string,
  resumeBot: boolean,
): Promise<EscalationRow | undefined> {
  const [row] = await sql<EscalationRow[]>`
    update escalations
    set status = 'resolved', resolved_by = ${actor}, resolved_at = now(), updated_at = now()
    where id = ${id} and status <> 'resolved'
    returning ${COLUMNS(sql)}`;
  if (row && resumeBot) {
    await sql`
      update intercom_conversations set mode = 'bot', updated_at = now()
      where channel = ${row.channel} and conversation_id = ${row.conversationId} and mode = 'human'`;
  }
  return row;
}
