import type { Sql } from "./client";

export interface OutboxRow {
  id: string;
  conversationId: string;
  partId: string;
  status: "pending" | "done" | "skipped";
  attempts: number;
  leaseUntil: Date | null;
  createdAt: Date;
}

/** The conversation a notification is about: its contact (for erasure) and whether a person took it over. */
export interface NotifiedConversation {
  id: string;
  contactId: string | null;
  humanTookOver: boolean;
}

/**
 * Records the notification and queues its customer messages atomically, in one statement (one round
 * trip: the webhook acknowledgement waits for nothing else). Returns null for a notification seen before
 * (nothing is written), else the outbox rows created; a part already queued by the poller or another
 * notification is not queued twice.
 */
export async function acceptNotification(
  sql: Sql,
  notification: { id: string; topic: string },
  messages: { id: string; conversationId: string; partId: string }[],
  conversation: NotifiedConversation | null,
): Promise<OutboxRow[] | null> {
  const conversationId = conversation?.id ?? null;
  const contactId = conversation?.contactId ?? null;
  const human = conversation?.humanTookOver ?? false;
  const ids = messages.map((m) => m.id);
  const conversations = messages.map((m) => m.conversationId);
  const parts = messages.map((m) => m.partId);
  const rows = await sql<(OutboxRow & { fresh: boolean })[]>`
    with delivery as (
      insert into webhook_deliveries (notification_id, topic) values (${notification.id}, ${notification.topic})
      on conflict do nothing
      returning 1
    ),
    conversation as (
      insert into intercom_conversations (conversation_id, mode, contact_id)
      select ${conversationId}, case when ${human} then 'human' else 'bot' end, ${contactId}
      from delivery
      where ${conversationId}::text is not null and (${human} or ${contactId}::text is not null)
      on conflict (conversation_id) do update
        set mode = case when ${human} then 'human' else intercom_conversations.mode end,
            contact_id = coalesce(excluded.contact_id, intercom_conversations.contact_id),
            updated_at = now()
      returning 1
    ),
    queued as (
      insert into outbox (id, conversation_id, part_id)
      select m.id, m.conversation_id, m.part_id
      from unnest(${ids}::uuid[], ${conversations}::text[], ${parts}::text[]) as m (id, conversation_id, part_id)
      where exists (select 1 from delivery)
      on conflict (conversation_id, part_id) do nothing
      returning *
    )
    select true as fresh, queued.* from delivery left join queued on true`;
  if (rows.length === 0) return null;
  return rows.filter((r) => r.id !== null).map(({ fresh: _fresh, ...row }) => row);
}

export async function queueMessages(
  sql: Sql,
  messages: { id: string; conversationId: string; partId: string }[],
): Promise<OutboxRow[]> {
  if (messages.length === 0) return [];
  return sql<OutboxRow[]>`
    insert into outbox ${sql(messages, "id", "conversationId", "partId")}
    on conflict (conversation_id, part_id) do nothing
    returning *`;
}

export async function findOutbox(sql: Sql, id: string): Promise<OutboxRow | undefined> {
  const [row] = await sql<OutboxRow[]>`select * from outbox where id = ${id}`;
  return row;
}

/** Pending rows nobody holds: never leased, or whose lease ran out (the processor crashed or the task was lost). */
export async function dispatchableOutbox(sql: Sql, limit: number): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    select * from outbox
    where status = 'pending' and (lease_until is null or lease_until < now())
    order by created_at
    limit ${limit}`;
}

/**
 * The per-conversation lock, as a lease in a row rather than a session advisory lock: it survives no
 * crash longer than `seconds`, and needs no connection held for the seconds a model call takes.
 */
export async function lockConversation(
  sql: Sql,
  conversationId: string,
  holder: string,
  seconds: number,
): Promise<boolean> {
  const rows = await sql`
    insert into intercom_conversations (conversation_id, locked_until, locked_by)
    values (${conversationId}, now() + ${`${seconds} seconds`}::interval, ${holder})
    on conflict (conversation_id) do update
      set locked_until = excluded.locked_until, locked_by = excluded.locked_by, updated_at = now()
      where intercom_conversations.locked_until is null or intercom_conversations.locked_until < now()
    returning 1`;
  return rows.length === 1;
}

export async function unlockConversation(sql: Sql, conversationId: string, holder: string) {
  await sql`
    update intercom_conversations set locked_until = null, locked_by = null
    where conversation_id = ${conversationId} and locked_by = ${holder}`;
}

export interface ConversationState {
  mode: "bot" | "human";
  lowConfidenceAnswers: number;
  /** The Intercom contact recorded for the conversation (null: not known yet). */
  contactId: string | null;
}

export async function conversationState(sql: Sql, conversationId: string): Promise<ConversationState> {
  const [row] = await sql<ConversationState[]>`
    select mode, low_confidence_answers, contact_id from intercom_conversations
    where conversation_id = ${conversationId}`;
  return row ?? { mode: "bot", lowConfidenceAnswers: 0, contactId: null };
}

/** Records whose conversation this is, so a GDPR erasure of the contact finds it. */
export async function rememberContact(sql: Sql, conversationId: string, contactId: string) {
  await sql`
    insert into intercom_conversations (conversation_id, contact_id) values (${conversationId}, ${contactId})
    on conflict (conversation_id) do update set contact_id = excluded.contact_id`;
}

export async function setConversationMode(sql: Sql, conversationId: string, mode: "bot" | "human") {
  await sql`
    insert into intercom_conversations (conversation_id, mode) values (${conversationId}, ${mode})
    on conflict (conversation_id) do update
      set mode = excluded.mode,
          low_confidence_answers = case when excluded.mode = 'bot' then 0 else intercom_conversations.low_confidence_answers end,
          updated_at = now()`;
}

export async function countLowConfidence(
  sql: Sql,
  conversationId: string,
  confident: boolean,
): Promise<number> {
  const [row] = await sql<{ lowConfidenceAnswers: number }[]>`
    update intercom_conversations
    set low_confidence_answers = case when ${confident} then 0 else low_confidence_answers + 1 end
    where conversation_id = ${conversationId}
    returning low_confidence_answers`;
  return row?.lowConfidenceAnswers ?? 0;
}

/** Takes the lease of every pending row of the conversation; returns those rows. */
export async function leasePending(sql: Sql, conversationId: string, seconds: number): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    update outbox set lease_until = now() + ${`${seconds} seconds`}::interval, attempts = attempts + 1
    where conversation_id = ${conversationId} and status = 'pending'
    returning *`;
}

export async function completeOutbox(sql: Sql, ids: string[], status: "done" | "skipped", outcome: string) {
  if (ids.length === 0) return;
  await sql`
    update outbox set status = ${status}, outcome = ${outcome}, completed_at = now(), lease_until = null, last_error = null
    where id in ${sql(ids)} and status = 'pending'`;
}

/** Gives the rows back to the queue: retried once `retryAt` has passed. */
export async function releaseOutbox(sql: Sql, ids: string[], retryAt: Date, error: string) {
  if (ids.length === 0) return;
  await sql`
    update outbox set lease_until = ${retryAt}, last_error = ${error.slice(0, 500)}
    where id in ${sql(ids)} and status = 'pending'`;
}

export async function outboxStats(sql: Sql) {
  const [row] = await sql<{ pending: number; oldestSeconds: number | null }[]>`
    select count(*)::int as pending,
           extract(epoch from now() - min(created_at))::float8 as oldest_seconds
    from outbox where status = 'pending'`;
  return row ?? { pending: 0, oldestSeconds: null };
}

export async function openHandoff(
  sql: Sql,
  conversationId: string,
  reason: string,
): Promise<{ id: string; steps: string[] }> {
  // An unfinished handoff of this conversation is resumed, not started again.
  const [existing] = await sql<{ id: string; steps: string[] }[]>`
    select id::text, steps from handoffs
    where conversation_id = ${conversationId} and completed_at is null
    order by handoffs.id desc limit 1`;
  if (existing) return existing;
  const [row] = await sql<{ id: string; steps: string[] }[]>`
    insert into handoffs (conversation_id, reason) values (${conversationId}, ${reason}) returning id::text, steps`;
  if (!row) throw new Error("handoff insert returned no row");
  return row;
}

export async function handoffStep(sql: Sql, id: string, step: string) {
  await sql`update handoffs set steps = array_append(steps, ${step}) where id = ${id} and not (${step} = any(steps))`;
}

export async function completeHandoff(sql: Sql, id: string) {
  await sql`update handoffs set completed_at = now() where id = ${id}`;
}

export async function handoffCounts(sql: Sql, sinceHours: number) {
  return sql<{ reason: string; count: number }[]>`
    select reason, count(*)::int as count from handoffs
    where created_at > now() - ${`${sinceHours} hours`}::interval
    group by reason order by reason`;
}

export async function getCursor(sql: Sql, key: string): Promise<string | null> {
  const [row] = await sql<{ value: string }[]>`select value from app_state where key = ${key}`;
  return row?.value ?? null;
}

export async function setCursor(sql: Sql, key: string, value: string) {
  await sql`
    insert into app_state (key, value) values (${key}, ${value})
    on conflict (key) do update set value = excluded.value, updated_at = now()`;
}
