import type postgres from "postgres";
import type { Sql } from "./client";
import { currentTenantId, DEFAULT_TENANT_ID } from "./tenant-scope";

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
  /** Whose share the lease is charged to; default: the tenant of the current unit of work. */
  tenant?: string | undefined;
  /**
   * The fraction of each limit one tenant may lease in a window while another tenant asked in it or in
   * the window before (MODEL_QUOTA_TENANT_SHARE); 1 (the default): no cap.
   */
  tenantShare?: number | undefined;
}

export interface QuotaGrant {
  /** 0: the window is spent (for a call of `minTokens`), or the tenant's share of it is. */
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

type Fragment = postgres.PendingQuery<postgres.Row[]>;
/** A window row as the lease reads it: the locked row, or zeros when the upsert inserts it. */
interface Used {
  requests: Fragment;
  tokens: Fragment;
  tenants: Fragment;
}

/**
 * Takes a slice of the current window in one statement: the row is created or locked and raised by the
 * grant atomically, so instances racing for the last of a window never over-grant. A grant is at most
 * the slice, at most what is left, and at most half of what is left (but never less than the minimum):
 * the end of a window is shared out in ever smaller slices instead of stranded in one instance's lease.
 *
 * What is left is the deployment's, and the tenant's share of it: while another tenant asked in this
 * window or the one before, a tenant may hold at most `tenantShare` of each limit, so one tenant flooding
 * the quota leaves the others at least the rest from the window after they first asked; alone, a tenant
 * may take it all. A refused lease grants nothing but still records the tenant as present.
 */
export function leaseModelQuota(sql: Sql, quota = MODEL_QUOTA): LeaseQuota {
  return async (ask) => {
    const tenant = ask.tenant ?? currentTenantId() ?? DEFAULT_TENANT_ID;
    const share = ask.tenantShare ?? 1;
    const previous = sql`coalesce((select p.tenants from model_quota_windows p
      where p.quota = ${quota} and p.window_start = date_trunc('minute', now()) - interval '1 minute'), '{}')`;
    const cap = (
      limit: number,
      u: Used,
    ) => sql`case when ((${u.tenants} || ${previous}) - ${tenant}::text) <> '{}'
      then greatest(1, floor(${limit}::bigint * ${share}::float8))::bigint else ${limit}::bigint end`;
    const mine = (u: Used, field: string) =>
      sql`coalesce((${u.tenants} -> ${tenant}::text ->> ${field})::bigint, 0)`;
    const leftRq = (u: Used) =>
      sql`least(${ask.requestsPerMinute}::bigint - ${u.requests}, ${cap(ask.requestsPerMinute, u)} - ${mine(u, "requests")})`;
    const leftTk = (u: Used) =>
      sql`least(${ask.tokensPerMinute}::bigint - ${u.tokens}, ${cap(ask.tokensPerMinute, u)} - ${mine(u, "tokens")})`;
    const fits = (u: Used) => sql`${leftRq(u)} >= 1 and ${leftTk(u)} >= ${ask.minTokens}::bigint`;
    const grant = (slice: number, min: number, left: Fragment, u: Used) =>
      sql`case when ${fits(u)} then least(greatest(${slice}::bigint, ${min}::bigint), ${left},
        greatest(${min}::bigint, ceil((${left}) / 2.0)::bigint)) else 0 end`;
    const rq = (u: Used) => grant(ask.requests, 1, leftRq(u), u);
    const tk = (u: Used) => grant(ask.tokens, ask.minTokens, leftTk(u), u);
    const tenants = (u: Used) => sql`${u.tenants} || jsonb_build_object(${tenant}::text, jsonb_build_object(
      'requests', ${mine(u, "requests")} + ${rq(u)}, 'tokens', ${mine(u, "tokens")} + ${tk(u)}))`;
    const none: Used = { requests: sql`0`, tokens: sql`0`, tenants: sql`'{}'::jsonb` };
    const w: Used = { requests: sql`w.requests`, tokens: sql`w.tokens`, tenants: sql`w.tenants` };
    const [row] = await sql<QuotaGrant[]>`
      with lease as (
        insert into model_quota_windows as w
          (quota, window_start, requests, tokens, granted_requests, granted_tokens, tenants)
        values (${quota}, date_trunc('minute', now()),
          ${rq(none)}, ${tk(none)}, ${rq(none)}, ${tk(none)}, ${tenants(none)})
        on conflict (quota, window_start) do update set
          granted_requests = ${rq(w)},
          granted_tokens = ${tk(w)},
          requests = w.requests + ${rq(w)},
          tokens = w.tokens + ${tk(w)},
          tenants = ${tenants(w)}
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
