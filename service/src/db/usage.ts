import type { BudgetUsage } from "../engine/budgets";
import type { Sql, TransactionSql } from "./client";

export interface LedgerEntry {
  identityId: string;
  sessionId: string | null;
  channel: string;
  purpose: "chat" | "summary";
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  thoughtsTokens: number;
  costUsd: number;
  latencyMs: number;
  outcome: "ok" | "error" | "fallback";
}

export async function budgetUsage(
  sql: Sql,
  identityId: string,
  day: string,
  month: string,
): Promise<BudgetUsage> {
  const rows = await sql<{ period: "day" | "month"; tokens: string }[]>`
    select period, tokens from usage_counters
    where identity_id = ${identityId}
      and ((period = 'day' and period_start = ${day}) or (period = 'month' and period_start = ${month}))`;
  const used: BudgetUsage = { day: 0, month: 0 };
  for (const row of rows) used[row.period] = Number(row.tokens);
  return used;
}

/**
 * Records one model call and charges its tokens to the identity's day and month counters, and to the
 * day counter of a shared `pool` (all guests) when given.
 */
export function recordUsage(
  tx: Sql | TransactionSql,
  entry: LedgerEntry,
  charge: { tokens: number; day: string; month: string; pool?: string | undefined },
) {
  const pool = charge.pool
    ? [
        tx`
      insert into usage_counters (identity_id, period, period_start, tokens)
      values (${charge.pool}, 'day', ${charge.day}, ${charge.tokens})
      on conflict (identity_id, period, period_start)
      do update set tokens = usage_counters.tokens + excluded.tokens`,
      ]
    : [];
  return [
    tx`insert into usage_ledger ${tx(entry as unknown as Record<string, unknown>)}`,
    tx`
      insert into usage_counters (identity_id, period, period_start, tokens)
      values (${entry.identityId}, 'day', ${charge.day}, ${charge.tokens}),
             (${entry.identityId}, 'month', ${charge.month}, ${charge.tokens})
      on conflict (identity_id, period, period_start)
      do update set tokens = usage_counters.tokens + excluded.tokens`,
    ...pool,
  ];
}
