import type { BudgetUsage } from "../domain/accounting";
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

/** Tokens to charge to the counters of the periods that contain the call (UTC dates). */
export interface UsageCharge {
  tokens: number;
  day: string;
  month: string;
  /** Also charge the day counter of this shared pool (all guests). */
  pool?: string | undefined;
}

/**
 * The statements that record one model call and charge its tokens to the identity's day and month
 * counters, and to the day counter of a shared `pool` (all guests) when given; run them in a transaction.
 */
export function recordUsage(tx: Sql | TransactionSql, entry: LedgerEntry, charge: UsageCharge) {
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

/** One model call recorded and charged on its own (a summary call), in one transaction. */
export async function chargeUsage(sql: Sql, entry: LedgerEntry, charge: UsageCharge): Promise<void> {
  await sql.begin((tx) => recordUsage(tx, entry, charge));
}
