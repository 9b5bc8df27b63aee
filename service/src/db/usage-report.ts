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
