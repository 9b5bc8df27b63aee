import type { Sql } from "./client";

/**
 * What the inbound pipeline keeps (channels/pipeline/): the delivery ids already accepted, the outbox of
 * customer messages waiting for an answer, and per conversation its lease and state. Every row carries its
 * channel; a conversation is known by its channel and the provider's id for it.
 */
export interface ConversationKey {
  channel: string;
  conversationId: string;
}

export interface OutboxRow {
  id: string;
  channel: string;
  conversationId: string;
  /** The channel's id of the customer message (an Intercom conversation part, an SMS message id). */
  partId: string;
  /** The message's text, when the notification carried it; null when the channel reads it when answering. */
  body: string | null;
  status: "pending" | "done" | "skipped";
  attempts: number;
  leaseUntil: Date | null;
  /** Set before a reply is sent; still set on a pending row, the process died between the send and its record. */
  sendStartedAt: Date | null;
  /** The connection the reply goes out through (the one the message arrived at); null: the channel's own. */
  replyVia: string | null;
  /** The reply generated for this row and not yet confirmed sent: a retry sends it instead of asking again. */
  reply: string | null;
  createdAt: Date;
}

/** A row to create: a customer message of a conversation. */
export interface QueuedMessage {
  id: string;
  conversationId: string;
  partId: string;
  body: string | null;
  /** The connection the message arrived at, which the reply goes out through (SMS: the number texted). */
  via?: string | null | undefined;
  /** Not answered before this (a tenant's reply delay): the row is leased until then, so no sweep takes it. */
  notBefore?: Date | null | undefined;
}

/** A conversation a notification is about: its contact (for erasure) and whether it changed hands. */
export interface NotifiedConversation {
  conversationId: string;
  contactId: string | null;
  /** `human`: a person took it over; `bot`: it was handed back; null: neither. */
  handover: "human" | "bot" | null;
}

/** What dispatching a new row needs: its task runs not before `notBefore` (a reply delay). */
export type QueuedRow = Pick<OutboxRow, "id" | "attempts"> & { notBefore?: Date | undefined };

/**
 * Records a delivery with all it asks for in one statement (one round trip: the webhook acknowledgement
 * waits for nothing else): the delivery id, the conversations' contact and hands, and an outbox row per
 * customer message. Returns null for a delivery seen before (nothing is written), else the rows created; a
 * message already queued by the poller or another delivery is not queued twice.
 */
export async function recordDelivery(
  sql: Sql,
  channel: string,
  delivery: { id: string; topic: string },
  conversations: NotifiedConversation[],
  messages: QueuedMessage[],
): Promise<QueuedRow[] | null> {
  const rows = await sql<{ id: string | null; attempts: number | null; leaseUntil: Date | null }[]>`
    with delivery as (
      insert into webhook_deliveries (channel, notification_id, topic)
      values (${channel}, ${delivery.id}, ${delivery.topic})
      on conflict do nothing
      returning 1
    ),
    notified as (
      select * from unnest(
        ${conversations.map((c) => c.conversationId)}::text[],
        ${conversations.map((c) => c.contactId)}::text[],
        ${conversations.map((c) => c.handover)}::text[]
      ) as n (conversation_id, contact_id, handover)
    ),
    conversation as (
      insert into intercom_conversations as c (channel, conversation_id, mode, contact_id)
      select ${channel}, n.conversation_id, coalesce(n.handover, 'bot'), n.contact_id
      from notified n
      where exists (select 1 from delivery) and (n.handover is not null or n.contact_id is not null)
      on conflict (tenant_id, channel, conversation_id) do update
        set mode = coalesce(
              (select n.handover from notified n where n.conversation_id = excluded.conversation_id), c.mode),
            -- Handed back: the count of unsure answers starts again.
            low_confidence_answers = case
              when (select n.handover from notified n where n.conversation_id = excluded.conversation_id) = 'bot'
              then 0 else c.low_confidence_answers end,
            contact_id = coalesce(excluded.contact_id, c.contact_id),
            updated_at = now()
        -- A reply in a conversation whose contact is known already changes nothing: no write at all.
        where (excluded.contact_id is not null and excluded.contact_id is distinct from c.contact_id)
           or (select n.handover from notified n where n.conversation_id = excluded.conversation_id) is not null
      returning 1
    ),
    queued as (
      insert into outbox (id, channel, conversation_id, part_id, body, reply_via, lease_until)
      select m.id, ${channel}, m.conversation_id, m.part_id, m.body, m.via, m.not_before
      from unnest(
        ${messages.map((m) => m.id)}::uuid[],
        ${messages.map((m) => m.conversationId)}::text[],
        ${messages.map((m) => m.partId)}::text[],
        ${messages.map((m) => m.body)}::text[],
        ${messages.map((m) => m.via ?? null)}::text[],
        ${messages.map((m) => m.notBefore?.toISOString() ?? null)}::timestamptz[]
      ) as m (id, conversation_id, part_id, body, via, not_before)
      where exists (select 1 from delivery)
      on conflict do nothing
      returning id, attempts, lease_until
    )
    select queued.id, queued.attempts, queued.lease_until from delivery left join queued on true`;
  if (rows.length === 0) return null;
  return rows.flatMap((r) =>
    r.id === null
      ? []
      : [
          {
            id: r.id,
            attempts: r.attempts ?? 0,
            ...(r.leaseUntil ? { notBefore: new Date(r.leaseUntil) } : {}),
          },
        ],
  );
}

/**
 * Queues messages found without a notification (the catch-up poll), recording the conversation's contact
 * in the same statement; returns the rows created (a message queued before is not queued again).
 */
export async function queueMessages(
  sql: Sql,
  channel: string,
  conversation: { conversationId: string; contactId: string | null },
  messages: QueuedMessage[],
): Promise<QueuedRow[]> {
  const { conversationId, contactId } = conversation;
  return sql<QueuedRow[]>`
    with contact as (
      insert into intercom_conversations (channel, conversation_id, contact_id)
      select ${channel}, ${conversationId}, ${contactId}
      where ${contactId}::text is not null
      on conflict (tenant_id, channel, conversation_id) do update set contact_id = excluded.contact_id
      where intercom_conversations.contact_id is distinct from excluded.contact_id
    )
    insert into outbox (id, channel, conversation_id, part_id, body, reply_via)
    select m.id, ${channel}, ${conversationId}, m.part_id, m.body, m.via
    from unnest(
      ${messages.map((m) => m.id)}::uuid[],
      ${messages.map((m) => m.partId)}::text[],
      ${messages.map((m) => m.body)}::text[],
      ${messages.map((m) => m.via ?? null)}::text[]
    ) as m (id, part_id, body, via)
    on conflict do nothing
    returning id, attempts`;
}

/** What a task got when it asked for its row's conversation. */
export type Claim =
  /** The row is finished, unknown, or of a channel not run here: nothing to do. */
  | { kind: "gone" }
  /** Another task holds the conversation; `attempts` is the row's. */
  | { kind: "busy"; attempts: number }
  | { kind: "claimed"; key: ConversationKey; state: ConversationState; rows: OutboxRow[] };

/**
 * A task's claim on its row's conversation, in one statement: the per-conversation lock and the lease of
 * every pending row of the conversation (the task answers them together), with the conversation's state.
 * The lock is a lease in a row rather than a session advisory lock: it survives no crash longer than
 * `seconds`, and needs no connection held for the seconds a model call takes.
 */
export async function claimConversation(
  sql: Sql,
  outboxId: string,
  channels: string[],
  lease: { holder: string; seconds: number },
): Promise<Claim> {
  const until = sql`now() + ${`${lease.seconds} seconds`}::interval`;
  const found = await sql<ClaimRow[]>`
    with target as (
      select channel, conversation_id, attempts from outbox
      where id = ${outboxId} and status = 'pending' and channel = any(${channels}::text[])
    ),
    locked as (
      insert into intercom_conversations as c (channel, conversation_id, locked_until, locked_by)
      select channel, conversation_id, ${until}, ${lease.holder} from target
      on conflict (tenant_id, channel, conversation_id) do update
        set locked_until = excluded.locked_until, locked_by = excluded.locked_by, updated_at = now()
        where c.locked_until is null or c.locked_until < now()
      returning c.channel, c.conversation_id, c.mode, c.low_confidence_answers, c.contact_id
    ),
    leased as (
      update outbox o set lease_until = ${until}, attempts = o.attempts + 1
      from locked l
      where o.channel = l.channel and o.conversation_id = l.conversation_id and o.status = 'pending'
      returning o.*
    )
    select t.attempts as target_attempts, to_json(l) as locked, to_json(x) as row
    from target t left join locked l on true left join leased x on true`;
  const [first] = found;
  if (!first) return { kind: "gone" };
  const locked = first.locked;
  if (!locked) return { kind: "busy", attempts: first.targetAttempts };
  const { channel, conversationId, ...state } = locked;
  const rows = found.flatMap((r) => (r.row ? [outboxRowFromJson(r.row)] : []));
  return { kind: "claimed", key: { channel, conversationId }, state, rows };
}

interface ClaimRow {
  targetAttempts: number;
  locked: (ConversationKey & ConversationState) | null;
  row: OutboxRowJson | null;
}

/** An outbox row as `to_json` gives it: timestamps are strings. */
type OutboxRowJson = Omit<OutboxRow, "leaseUntil" | "sendStartedAt" | "createdAt"> & {
  leaseUntil: string | null;
  sendStartedAt: string | null;
  createdAt: string;
};

const dateOrNull = (v: string | null) => (v === null ? null : new Date(v));

function outboxRowFromJson(row: OutboxRowJson): OutboxRow {
  return {
    ...row,
    leaseUntil: dateOrNull(row.leaseUntil),
    sendStartedAt: dateOrNull(row.sendStartedAt),
    createdAt: new Date(row.createdAt),
  };
}

export async function unlockConversation(sql: Sql, key: ConversationKey, holder: string) {
  await sql`
    update intercom_conversations set locked_until = null, locked_by = null
    where channel = ${key.channel} and conversation_id = ${key.conversationId} and locked_by = ${holder}`;
}

export interface ConversationState {
  /** `human`: a person has the conversation; the bot stays silent until it is handed back. */
  mode: "bot" | "human";
  /** Answers in a row the model was not sure of. */
  lowConfidenceAnswers: number;
  /** The customer's contact at the provider (null: not known yet). */
  contactId: string | null;
}

export async function conversationState(sql: Sql, key: ConversationKey): Promise<ConversationState> {
  const [row] = await sql<ConversationState[]>`
    select mode, low_confidence_answers, contact_id from intercom_conversations
    where channel = ${key.channel} and conversation_id = ${key.conversationId}`;
  return row ?? { mode: "bot", lowConfidenceAnswers: 0, contactId: null };
}

/** Records whose conversation this is, so a GDPR erasure of the contact finds it. */
export async function rememberContact(sql: Sql, key: ConversationKey, contactId: string) {
  await sql`
    insert into intercom_conversations (channel, conversation_id, contact_id)
    values (${key.channel}, ${key.conversationId}, ${contactId})
    on conflict (tenant_id, channel, conversation_id) do update set contact_id = excluded.contact_id`;
}

/**
 * The idempotency record, written before a reply is sent, with the reply itself: a send the provider
 * refused (429/5xx) is retried with this text, without asking the model again.
 */
export async function markSending(sql: Sql, ids: string[], reply: string | null = null) {
  await sql`
    update outbox set send_started_at = now(), reply = coalesce(${reply}::text, reply)
    where id in ${sql(ids)} and status = 'pending'`;
}

/** Finishes rows (answered, handed over, or deliberately left); their text is not kept past this. */
export async function completeOutbox(sql: Sql, ids: string[], status: "done" | "skipped", outcome: string) {
  if (ids.length === 0) return;
  await sql`
    update outbox
    set status = ${status}, outcome = ${outcome}, completed_at = now(), lease_until = null, last_error = null,
        body = null, reply = null
    where id in ${sql(ids)} and status = 'pending'`;
}

/**
 * The outcome of an answered turn in one statement: the rows done, and the conversation's count of answers
 * in a row the model was not sure of (reset by a confident one).
 */
export async function recordAnswer(sql: Sql, key: ConversationKey, ids: string[], confident: boolean) {
  await sql`
    with counted as (
      update intercom_conversations
      set low_confidence_answers = case when ${confident} then 0 else low_confidence_answers + 1 end
      where channel = ${key.channel} and conversation_id = ${key.conversationId}
    )
    update outbox
    set status = 'done', outcome = 'answered', completed_at = now(), lease_until = null, last_error = null,
        body = null, reply = null
    where id in ${sql(ids)} and status = 'pending'`;
}

/**
 * Gives the rows back to the queue: retried once `retryAt` has passed. `refused`: the provider answered
 * the send with an error, so nothing was sent and the send record is cleared.
 */
export async function releaseOutbox(
  sql: Sql,
  ids: string[],
  retry: { at: Date; error: string; refused: boolean },
) {
  if (ids.length === 0) return;
  await sql`
    update outbox
    set lease_until = ${retry.at}, last_error = ${retry.error.slice(0, 500)},
        send_started_at = case when ${retry.refused} then null else send_started_at end
    where id in ${sql(ids)} and status = 'pending'`;
}

export async function outboxStats(sql: Sql) {
  const [row] = await sql<{ pending: number; oldestSeconds: number | null }[]>`
    select count(*)::int as pending,
           extract(epoch from now() - min(created_at))::float8 as oldest_seconds
    from outbox where status = 'pending'`;
  return row ?? { pending: 0, oldestSeconds: null };
}
