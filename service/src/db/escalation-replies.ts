import type { Sql } from "./client";

/**
 * A person's replies to escalated conversations (migration 00019): the idempotency record written before
 * the send, keyed by the id the console's form made, and the agent's message in the conversation's session.
 */

export type ReplyStatus = "pending" | "sent" | "failed";

export interface EscalationReplyRow {
  id: string;
  escalationId: string;
  author: string;
  channel: string;
  status: ReplyStatus;
  outcome: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const COLUMNS = (sql: Sql) =>
  sql`id::text, escalation_id::text, author, channel, status, outcome, created_at, sent_at`;

/**
 * The reply's record before its send; `created` false when the id was used already (a double submit or
 * a retry), with the record as it stands. One statement: two submits at once write one row.
 */
export async function beginReply(
  sql: Sql,
  r: { id: string; escalationId: string; author: string; channel: string },
): Promise<{ row: EscalationReplyRow; created: boolean }> {
  const [row] = await sql<(EscalationReplyRow & { created: boolean })[]>`
    with created as (
      insert into escalation_replies (id, escalation_id, author, channel)
      values (${r.id}, ${r.escalationId}, ${r.author}, ${r.channel})
      on conflict (tenant_id, id) do nothing
      returning ${COLUMNS(sql)}, true as created
    )
    select * from created
    union all
    select ${COLUMNS(sql)}, false as created from escalation_replies
    where id = ${r.id} and not exists (select 1 from created)`;
  if (!row) throw new Error("escalation reply upsert returned no row");
  const { created, ...reply } = row;
  return { row: reply, created };
}

/** The send ended: `sent`, or `failed` with why (nothing reached the customer). */
export async function finishReply(
  sql: Sql,
  id: string,
  end: { status: "sent" } | { status: "failed"; outcome: string },
): Promise<EscalationReplyRow | undefined> {
  const outcome = end.status === "failed" ? end.outcome : null;
  const [row] = await sql<EscalationReplyRow[]>`
    update escalation_replies
    set status = ${end.status}, outcome = ${outcome}, sent_at = case when ${end.status} = 'sent' then now() end
    where id = ${id} and status = 'pending'
    returning ${COLUMNS(sql)}`;
  return row;
}

/**
 * Takes over a `pending` reply whose attempt began more than `afterSeconds` ago (the process that began it
 * died, or gave up waiting): one statement, so of two retries at once only one gets it. Undefined when the
 * reply is not pending or its attempt is recent (it may still be in flight).
 */
export async function resumeReply(
  sql: Sql,
  id: string,
  afterSeconds: number,
): Promise<EscalationReplyRow | undefined> {
  const [row] = await sql<EscalationReplyRow[]>`
    update escalation_replies set attempted_at = now()
    where id = ${id} and status = 'pending'
      and attempted_at <= now() - make_interval(secs => ${afterSeconds}::float8)
    returning ${COLUMNS(sql)}`;
  return row;
}

/** A record whose send the provider refused outright (nothing sent): it goes, so the same id may try again. */
export async function forgetReply(sql: Sql, id: string): Promise<void> {
  await sql`delete from escalation_replies where id = ${id} and status = 'pending'`;
}

/** The escalation's replies, oldest first (the escalation page lists who answered and how it went). */
export async function repliesOf(sql: Sql, escalationId: string): Promise<EscalationReplyRow[]> {
  return sql<EscalationReplyRow[]>`
    select ${COLUMNS(sql)} from escalation_replies where escalation_id = ${escalationId}
    order by created_at, id`;
}

/**
 * The agent's text in the conversation's session (created when the conversation has none yet: a handoff
 * before any turn), redacted as every stored message is. The widget's history shows it; the model reads
 * it as the assistant's turn.
 */
export async function saveAgentMessage(
  sql: Sql,
  m: {
    sessionId: string;
    identityId: string;
    channel: string;
    externalRef: string | null;
    content: string;
    tokens: number;
  },
): Promise<void> {
  await sql`
    with session as (
      insert into sessions (id, identity_id, channel, external_ref)
      values (${m.sessionId}, ${m.identityId}, ${m.channel}, ${m.externalRef})
      on conflict (id) do update set updated_at = now()
      returning id)
    insert into messages (session_id, role, content, tokens)
    select id, 'agent', ${m.content}, ${m.tokens} from session`;
}

/**
 * The conversation's newest customer message the pipeline took (its provider id and the connection it
 * arrived at): a person's reply goes out through that connection and answers that message.
 */
export async function lastInbound(
  sql: Sql,
  channel: string,
  conversationId: string,
): Promise<{ partId: string; replyVia: string | null } | undefined> {
  const [row] = await sql<{ partId: string; replyVia: string | null }[]>`
    select part_id, reply_via from outbox where channel = ${channel} and conversation_id = ${conversationId}
    order by created_at desc, id desc limit 1`;
  return row;
}
