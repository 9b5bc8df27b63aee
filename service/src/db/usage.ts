import type { Sql } from "./client";

export interface LedgerEntry {
  identityId: string;
  sessionId: string | null;
  channel: string;
  /** `try`: the console's "try it" turn on draft settings (nothing of it stored but this row). */
  purpose: "chat" | "summary" | "extraction" | "try";
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

/** Tokens to charge to the counters of the periods that contain the call (UTC dates). */
export interface UsageCharge {
  tokens: number;
  day: string;
  month: string;
  /** Also charge the day counter of this shared pool (all guests). */
  pool?: string | undefined;
  /** Also charge the day and month counters of this key: the tenant's total (all its identities). */
  total?: string | undefined;
}

/**
 * The end of one statement that records a model call and charges its tokens: the ledger entry, then the
 * identity's day and month counters, the day counter of a shared `pool` (all guests) and the day and month
 * counters of the tenant's `total` when given (counters are the current tenant's rows). It
 * follows the caller's CTEs (`with …,`); `after` names the one that locks the session row. The counters'
 * query reads it (a condition always true), so it runs first: every writer locks a session before its
 * counters, and the counters in one order (identity, period, start), so two turns never wait for each
 * other's locks in a cycle (a deadlock).
 */
export function chargeTail(sql: Sql, entry: LedgerEntry, charge: UsageCharge, after: string) {
  const key = (row: string[]) => row.join("\u0000");
  const rows = [
    [entry.identityId, "day", charge.day],
    [entry.identityId, "month", charge.month],
    ...(charge.pool ? [[charge.pool, "day", charge.day]] : []),
    ...(charge.total
      ? [
          [charge.total, "day", charge.day],
          [charge.total, "month", charge.month],
        ]
      : []),
  ].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const column = (i: number) => rows.map((r) => r[i] as string);
  return sql`
    ledger as (insert into usage_ledger ${sql(entry as unknown as Record<string, unknown>)})
    insert into usage_counters (identity_id, period, period_start, tokens)
    select c.identity_id, c.period, c.period_start, ${charge.tokens}::int8
    from unnest(${column(0)}::text[], ${column(1)}::text[], ${column(2)}::date[])
      with ordinality as c (identity_id, period, period_start, n)
    where (select count(*) from ${sql(after)}) >= 0
    order by c.n
    on conflict (tenant_id, identity_id, period, period_start)
    do update set tokens = usage_counters.tokens + excluded.tokens`;
}

/**
 * A model call outside a turn (an extraction): its ledger row only, for cost reporting. It charges no
 * budget counter: the customer did not make the call, and their budget must not run out because of it.
 */
export async function recordModelCall(sql: Sql, entry: LedgerEntry): Promise<void> {
  await sql`insert into usage_ledger ${sql(entry as unknown as Record<string, unknown>)}`;
}
