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
