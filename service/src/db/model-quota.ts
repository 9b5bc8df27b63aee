import type { Sql } from "./client";

/** What one lease asks of the deployment's current minute window (whole numbers). */
export interface QuotaAsk {
  /** The slice wanted; less is granted when the window has little left. */
  requests: number;
  tokens: number;
  /** Below this many tokens the grant is useless (the call waiting for it needs them): grant nothing. */
  minTokens: number;
  /** The deployment's limits per window (from config: every instance has the same). */
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface QuotaGrant {
  /** 0: the window is spent (for a call of `minTokens`). */
  requests: number;
  tokens: number;
  /** The window's start, epoch milliseconds: grants of one window add up, of another replace. */
  windowMs: number;
  /** Milliseconds from the statement's start until the window ends, on the database's clock. */
  msLeft: number;
}

/** Leases a slice of a quota; the engine's limiter takes this as a function (a fake in unit tests). */
export type LeaseQuota = (ask: QuotaAsk) => Promise<QuotaGrant>;

/** The key of the deployment's model quota; other keys (tests, a later quota per model) share the table. */
export const MODEL_QUOTA = "model";

/**
 * Takes a slice of the current window in one statement: the row is created or locked and raised by the
 * grant atomically, so instances racing for the last of a window never over-grant. A grant is at most
 * the slice, at most what is left, and at most half of what is left (but never less than the minimum):
 * the end of a window is shared out in ever smaller slices instead of stranded in one instance's lease.
 * An exhausted window updates nothing; the select still reports how long until the next one.
 */
export function leaseModelQuota(sql: Sql, quota = MODEL_QUOTA): LeaseQuota {
  return async (ask) => {
    const grant = (slice: number, limit: number, min: number, used: ReturnType<Sql>) =>
      sql`least(greatest(${slice}::bigint, ${min}::bigint), ${limit}::bigint - ${used},
        greatest(${min}::bigint, ceil((${limit}::bigint - ${used}) / 2.0)::bigint))`;
    const rq = (used: ReturnType<Sql>) => grant(ask.requests, ask.requestsPerMinute, 1, used);
    const tk = (used: ReturnType<Sql>) => grant(ask.tokens, ask.tokensPerMinute, ask.minTokens, used);
    const [row] = await sql<QuotaGrant[]>`
      with lease as (
        insert into model_quota_windows as w
          (quota, window_start, requests, tokens, granted_requests, granted_tokens)
        values (${quota}, date_trunc('minute', now()),
          ${rq(sql`0`)}, ${tk(sql`0`)}, ${rq(sql`0`)}, ${tk(sql`0`)})
        on conflict (quota, window_start) do update set
          granted_requests = ${rq(sql`w.requests`)},
          granted_tokens = ${tk(sql`w.tokens`)},
          requests = w.requests + ${rq(sql`w.requests`)},
          tokens = w.tokens + ${tk(sql`w.tokens`)}
        where w.requests + 1 <= ${ask.requestsPerMinute}::bigint
          and w.tokens + ${ask.minTokens}::bigint <= ${ask.tokensPerMinute}::bigint
        returning granted_requests, granted_tokens
      )
      select
        coalesce((select granted_requests from lease), 0)::int as requests,
        coalesce((select granted_tokens from lease), 0)::float8 as tokens,
        (extract(epoch from date_trunc('minute', now())) * 1000)::float8 as window_ms,
        (extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now()) * 1000)::float8
          as ms_left`;
    if (!row) throw new Error("the model quota lease returned no row");
    return row;
  };
}
