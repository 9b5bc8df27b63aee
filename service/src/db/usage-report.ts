import type { Sql } from "./client";

/** One day, model and channel of the current tenant's usage (its ledger; RLS limits it to the tenant). */
export interface UsageRow {
  day: string;
  model: string;
  channel: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
}

/** The tenant's model calls between two UTC dates (both included), per day, model and channel. */
export async function usageByDay(sql: Sql, range: { from: string; to: string }): Promise<UsageRow[]> {
  const start = sql`(${range.from}::date::timestamp at time zone 'UTC')`;
  const end = sql`((${range.to}::date + 1)::timestamp at time zone 'UTC')`;
  return await sql<UsageRow[]>`
    select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, model, channel,
      count(*)::float8 as requests,
      sum(input_tokens)::float8 as input_tokens,
      sum(output_tokens)::float8 as output_tokens,
      sum(cached_tokens)::float8 as cached_tokens,
      sum(cost_usd)::float8 as cost_usd
    from usage_ledger
    where created_at >= ${start} and created_at < ${end}
    group by 1, 2, 3
    order by 1, 2, 3`;
}

/** One UTC day of the current tenant's texts: sent, failed for good, opt-outs, and turns refused by quota. */
export interface SmsUsageRow {
  day: string;
  sent: number;
  failed: number;
  optedOut: number;
  quotaHits: number;
}

/** The tenant's SMS counts between two UTC dates (both included), per day with any activity. */
export async function smsUsageByDay(sql: Sql, range: { from: string; to: string }): Promise<SmsUsageRow[]> {
  const start = sql`(${range.from}::date::timestamp at time zone 'UTC')`;
  const end = sql`((${range.to}::date + 1)::timestamp at time zone 'UTC')`;
  return await sql<SmsUsageRow[]>`
    with texts as (
      select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
        (status in ('queued', 'sending', 'sent', 'delivered'))::int as sent,
        (status in ('failed', 'undelivered'))::int as failed,
        0 as opted_out,
        (status = 'skipped' and error_code = 'sms_quota_reached')::int as quota_hits
      from sms_messages
      where direction = 'outbound' and created_at >= ${start} and created_at < ${end}
      union all
      select to_char(at at time zone 'UTC', 'YYYY-MM-DD'), 0, 0, 1, 0
      from sms_consent
      where status = 'opted_out' and at >= ${start} and at < ${end}
    )
    select day, sum(sent)::float8 as sent, sum(failed)::float8 as failed,
      sum(opted_out)::float8 as opted_out, sum(quota_hits)::float8 as quota_hits
    from texts group by day order by day`;
}

/** The console's usage charts: which series a row belongs to. */
export type UsageChartKind = "model" | "channel" | "outcome" | "conversations" | "escalations" | "budget";

/**
 * One point of the console's usage charts: a day (or, for `budget`, a period: `day` | `month`), the
 * series' key (a model, a channel, an outcome), tokens, cost and a count.
 */
export interface UsageChartRow {
  chart: UsageChartKind;
  day: string;
  key: string;
  tokens: number;
  costUsd: number;
  count: number;
}

/**
 * Everything the console's usage page draws, grouped in SQL in one statement (one round trip): tokens and
 * cost per day by model and by channel, chat answers by outcome, conversations and escalations per day by
 * channel, and the tenant's budget counters (`tenant:total`, engine/tenant-limits.ts) of `periods`.
 * Tokens count as the budgets count them: input + output + thoughts.
 */
export async function usageDashboard(
  sql: Sql,
  range: { from: string; to: string },
  periods: { day: string; month: string },
): Promise<UsageChartRow[]> {
  const start = sql`(${range.from}::date::timestamp at time zone 'UTC')`;
  const end = sql`((${range.to}::date + 1)::timestamp at time zone 'UTC')`;
  const day = (column: string) => sql`to_char(${sql(column)} at time zone 'UTC', 'YYYY-MM-DD')`;
  return await sql<UsageChartRow[]>`
    with ledger as (
      select ${day("created_at")} as day, model, channel, purpose, outcome,
        (input_tokens + output_tokens + thoughts_tokens)::float8 as tokens, cost_usd::float8 as cost
      from usage_ledger where created_at >= ${start} and created_at < ${end}
    )
    select 'model' as chart, day, model as key, sum(tokens) as tokens, sum(cost) as cost_usd,
      count(*)::float8 as count from ledger group by day, model
    union all
    select 'channel', day, channel, sum(tokens), sum(cost), count(*)::float8 from ledger group by day, channel
    union all
    select 'outcome', day, case outcome when 'ok' then 'answered' when 'fallback' then 'fallback' else 'failed' end,
      0, 0, count(*)::float8 from ledger where purpose = 'chat' group by 2, 3
    union all
    select 'conversations', ${day("created_at")}, channel, 0, 0, count(*)::float8
    from sessions where created_at >= ${start} and created_at < ${end} group by 2, 3
    union all
    select 'escalations', ${day("created_at")}, channel, 0, 0, count(*)::float8
    from escalations where created_at >= ${start} and created_at < ${end} group by 2, 3
    union all
    select 'budget', period, period_start::text, tokens::float8, 0, 0
    from usage_counters
    where identity_id = 'tenant:total'
      and ((period = 'day' and period_start = ${periods.day}::date)
        or (period = 'month' and period_start = ${periods.month}::date))
    order by 1, 2, 3`;
}
