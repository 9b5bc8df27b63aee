import type { Sql } from "./client";
import type { ConversationKey } from "./pipeline";

/** A handoff of a conversation to a person, and the steps of it already done. */
export interface HandoffRecord {
  id: string;
  steps: string[];
  /** A step that is not safe to repeat, begun and not recorded as done: the process died during it. */
  startedStep: string | null;
}

/** The conversation's unfinished handoff, resumed where it stopped, or a new one. */
export async function openHandoff(sql: Sql, key: ConversationKey, reason: string): Promise<HandoffRecord> {
  const [existing] = await sql<HandoffRecord[]>`
    select id::text, steps, started_step from handoffs
    where channel = ${key.channel} and conversation_id = ${key.conversationId} and completed_at is null
    order by handoffs.id desc limit 1`;
  if (existing) return existing;
  const [row] = await sql<HandoffRecord[]>`
    insert into handoffs (channel, conversation_id, reason)
    values (${key.channel}, ${key.conversationId}, ${reason})
    returning id::text, steps, started_step`;
  if (!row) throw new Error("handoff insert returned no row");
  return row;
}

/** Written before a step that must not run twice. */
export async function startHandoffStep(sql: Sql, id: string, step: string) {
  await sql`update handoffs set started_step = ${step} where id = ${id}`;
}

export async function handoffStepDone(sql: Sql, id: string, step: string) {
  await sql`
    update handoffs set steps = array_append(steps, ${step}), started_step = null
    where id = ${id} and not (${step} = any(steps))`;
}

/**
 * The end of a handoff in one statement: the conversation is a person's (the bot stays silent), the
 * handoff complete, and the outbox rows that led to it done.
 */
export async function finishHandoff(sql: Sql, key: ConversationKey, id: string, outboxIds: string[]) {
  await sql`
    with conversation as (
      insert into intercom_conversations (channel, conversation_id, mode)
      values (${key.channel}, ${key.conversationId}, 'human')
      on conflict (tenant_id, channel, conversation_id) do update set mode = 'human', updated_at = now()
    ),
    handoff as (
      update handoffs set completed_at = now() where id = ${id}
    )
    update outbox
    set status = 'done', outcome = 'handoff', completed_at = now(), lease_until = null, last_error = null,
        body = null
    where id = any(${outboxIds}::uuid[]) and status = 'pending'`;
}

export async function handoffCounts(sql: Sql, sinceHours: number) {
  return sql<{ reason: string; count: number }[]>`
    select reason, count(*)::int as count from handoffs
    where created_at > now() - ${`${sinceHours} hours`}::interval
    group by reason order by reason`;
}
