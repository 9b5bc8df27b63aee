import type { Sql } from "./client";
import { PROVIDER_SESSION_PREFIX } from "./provider-sessions";
import { asPlatform } from "./tenant-scope";

/**
 * One batch of the retention purge per kind of data: at most `limit` rows, in one short statement, so a
 * purge never holds locks for long. Rows another transaction holds are skipped (`skip locked`), not
 * waited for; the next batch or the next call takes them. Ages are measured on the database's clock,
 * the one that wrote the timestamps.
 */
export type PurgeBatch = (sql: Sql, age: number, limit: number) => Promise<number>;

const days = (sql: Sql, n: number) => sql`(now() - make_interval(days => ${n}::int))`;

/**
 * The session cutoff of the tenant `t` (a `tenants` row in the query): its own `retention.sessionsDays`
 * setting (domain/tenant.ts) when it has one, else the deployment's.
 */
const tenantSessionCutoff = (sql: Sql, n: number) =>
  sql`(now() - make_interval(days => coalesce((t.settings #>> '{retention,sessionsDays}')::int, ${n}::int)))`;

/**
 * Messages older than the limit, of sessions idle for longer than the limit, or already folded into the
 * summary of a session still in use (the engine never reads those again; the summary keeps their gist).
 * Unsummarized messages of a live session stay: they are its context window.
 */
export const purgeMessages: PurgeBatch = async (sql, age, limit) => {
  const cutoff = tenantSessionCutoff(sql, age);
  const result = await sql`
    delete from messages where id in (
      select m.id from messages m join sessions s on s.id = m.session_id join tenants t on t.id = s.tenant_id
      where m.created_at < ${cutoff} and (s.updated_at < ${cutoff} or m.id <= s.summarized_through)
      limit ${limit}
      for update of m skip locked)`;
  return result.count;
};

/**
 * Sessions idle for longer than the limit, once their messages are gone (so no batch cascades into an
 * unbounded number of messages), with the GPT-trainer session kept for each (db/provider-sessions.ts).
 * The outer `updated_at` test is re-checked on the row as it is when locked: a session that a turn
 * just used again is kept.
 */
export const purgeSessions: PurgeBatch = async (sql, age, limit) => {
  const cutoff = tenantSessionCutoff(sql, age);
  const [row] = await sql<{ n: number }[]>`
    with gone as (
      delete from sessions g using tenants t
      where t.id = g.tenant_id and g.updated_at < ${cutoff} and g.id in (
        select s.id from sessions s join tenants t on t.id = s.tenant_id
        where s.updated_at < ${cutoff} and not exists (select 1 from messages m where m.session_id = s.id)
        limit ${limit}
        for update of s skip locked)
      returning g.id, g.tenant_id
    ), provider_sessions as (
      delete from app_state a using gone
      where a.tenant_id = gone.tenant_id and a.key = ${PROVIDER_SESSION_PREFIX}::text || gone.id::text
    )
    select count(*)::int as n from gone`;
  return row?.n ?? 0;
};

export const purgeUsageLedger: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from usage_ledger where id in (
      select id from usage_ledger where created_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * Budget counters of periods that ended before the limit. The current day and month always end after
 * it (the limit is at least a day), so a budget keeps refusing after a purge.
 */
export const purgeUsageCounters: PurgeBatch = async (sql, age, limit) => {
  const cutoff = sql`(${days(sql, age)} at time zone 'UTC')`;
  const result = await sql`
    delete from usage_counters where (tenant_id, identity_id, period, period_start) in (
      select tenant_id, identity_id, period, period_start from usage_counters
      where period_start < ${cutoff}::date
        and (period = 'day' or period_start < date_trunc('month', ${cutoff})::date)
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

export const purgeWebhookDeliveries: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from webhook_deliveries where (channel, notification_id) in (
      select channel, notification_id from webhook_deliveries where received_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/** Outbox rows answered or skipped before the limit. Pending rows are work still to do: never purged. */
export const purgeOutbox: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from outbox where status <> 'pending' and id in (
      select id from outbox where status <> 'pending' and completed_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * Outbound events (signed webhooks out) older than the limit whose deliveries are all settled (delivered
 * or failed for good), with their deliveries and attempt logs. An event still pending somewhere stays.
 */
export const purgeOutboundEvents: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from outbound_events where id in (
      select e.id from outbound_events e
      where e.created_at < ${days(sql, age)}
        and not exists (select 1 from event_deliveries d where d.event_id = e.id and d.status = 'pending')
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/** Finished handoffs; an unfinished one is resumed by the next attempt, so it stays. */
export const purgeHandoffs: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from handoffs where id in (
      select id from handoffs where completed_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * The pipeline's state of conversations idle for longer than the limit, unless work on them is still open (a
 * held lock, a pending outbox row, an unfinished handoff). A conversation that comes back afterwards
 * starts again in bot mode; a person assigned in Intercom still keeps the bot silent.
 */
export const purgeConversations: PurgeBatch = async (sql, age, limit) => {
  const cutoff = days(sql, age);
  const result = await sql`
    delete from intercom_conversations where updated_at < ${cutoff} and (tenant_id, channel, conversation_id) in (
      select c.tenant_id, c.channel, c.conversation_id from intercom_conversations c
      where c.updated_at < ${cutoff}
        and (c.locked_until is null or c.locked_until < now())
        and not exists (
          select 1 from outbox o
          where o.tenant_id = c.tenant_id and o.channel = c.channel and o.conversation_id = c.conversation_id
            and o.status = 'pending')
        and not exists (
          select 1 from handoffs h
          where h.tenant_id = c.tenant_id and h.channel = c.channel and h.conversation_id = c.conversation_id
            and h.completed_at is null)
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/** Rate-limit windows, by hours: the counters only matter while their window is current. */
export const purgeRateLimitWindows: PurgeBatch = async (sql, hours, limit) => {
  const result = await sql`
    delete from rate_limit_windows where (key, window_start) in (
      select key, window_start from rate_limit_windows
      where window_start < now() - make_interval(hours => ${hours}::int)
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * The deployment's model-quota windows (00006), by hours like the rate-limit windows: a window only
 * matters while it is the current minute.
 */
export const purgeModelQuotaWindows: PurgeBatch = async (sql, hours, limit) => {
  const result = await sql`
    delete from model_quota_windows where (quota, window_start) in (
      select quota, window_start from model_quota_windows
      where window_start < now() - make_interval(hours => ${hours}::int)
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * The audit log, by age alone, through its security-definer function (migrations 00007, 00008): the
 * runtime roles may not delete from it, so this is the only way its rows leave.
 */
export const purgeAuditLog: PurgeBatch = (sql, age, limit) =>
  asPlatform(async () => {
    const [row] = await sql<{ n: number }[]>`
      select purge_audit_log(make_interval(days => ${age}::int), ${limit}::int) as n`;
    return row?.n ?? 0;
  });

/**
 * Texts' delivery records, kept as long as the usage ledger (the tenant's usage report counts them). A record
 * still `pending` may be the idempotency record of a send a crash interrupted: it stays until reconciled.
 */
export const purgeSmsMessages: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from sms_messages where id in (
      select id from sms_messages where status <> 'pending' and created_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * The e-mail channel's records of Gmail messages (addresses, subjects, threading facts) kept as long as
 * chat sessions; a reply still being sent (`sending`: its record is what keeps it exactly once) stays.
 */
export const purgeEmailMessages: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from email_messages where id in (
      select id from email_messages where status <> 'sending' and created_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/** Phone calls (transcripts, insights, summaries) kept as long as chat sessions. */
export const purgeCalls: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from calls where id in (
      select id from calls where created_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/**
 * Escalations resolved longer ago than the limit, with their notifications (cascade); an open or claimed
 * one is kept whatever its age: a person still owes the customer an answer.
 */
export const purgeResolvedEscalations: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from escalations where id in (
      select id from escalations where status = 'resolved' and resolved_at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};

/** Quota notices of periods long over (kept as long as the delivery records; only the current period counts). */
export const purgeSmsQuotaNotices: PurgeBatch = async (sql, age, limit) => {
  const result = await sql`
    delete from sms_quota_notices where (tenant_id, phone, period) in (
      select tenant_id, phone, period from sms_quota_notices where at < ${days(sql, age)}
      limit ${limit}
      for update skip locked)`;
  return result.count;
};
