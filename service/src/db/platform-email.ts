import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * The e-mail channel's cross-tenant statements, as the platform: the OAuth callback finds its tenant by
 * the request's `state` (the browser carries no other credential), and the daily watch renewal lists the
 * mailboxes of every tenant. Everything after runs in the tenant they name.
 */

export interface TakenOAuthRequest {
  tenantId: string;
  codeVerifier: string;
  requestedBy: string;
}

/**
 * Takes the OAuth request of a state hash: deleted whatever its age, so a state works once; undefined
 * when there is none or it expired.
 */
export function takeOAuthRequest(sql: Sql, stateHash: string): Promise<TakenOAuthRequest | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<(TakenOAuthRequest & { live: boolean })[]>`
      delete from email_oauth_requests where state_hash = ${stateHash}
      returning tenant_id, code_verifier, requested_by, expires_at > now() as live`;
    if (!row?.live) return undefined;
    return { tenantId: row.tenantId, codeVerifier: row.codeVerifier, requestedBy: row.requestedBy };
  });
}

/** Deletes the requests nobody finished before they expired; returns how many. */
export function purgeExpiredOAuthRequests(sql: Sql): Promise<number> {
  return asPlatform(async () => {
    const rows = await sql`delete from email_oauth_requests where expires_at <= now() returning 1`;
    return rows.length;
  });
}

export interface DueWatch {
  tenantId: string;
  connectionId: string;
}

/**
 * Connected mailboxes whose watch must be renewed: none yet, expiring within `expiresWithinHours`, or
 * renewed more than `renewedHoursAgo` ago. The longest unrenewed first, at most `limit`.
 */
export function dueWatchRenewals(
  sql: Sql,
  opts: { expiresWithinHours: number; renewedHoursAgo: number; limit: number },
): Promise<DueWatch[]> {
  return asPlatform(
    () => sql<DueWatch[]>`
      select m.tenant_id, m.connection_id from email_mailboxes m
      where m.status = 'connected' and (
        m.watch_expires_at is null or m.watch_renewed_at is null
        or m.watch_expires_at < now() + ${`${opts.expiresWithinHours} hours`}::interval
        or m.watch_renewed_at < now() - ${`${opts.renewedHoursAgo} hours`}::interval)
      order by m.watch_renewed_at nulls first, m.connection_id
      limit ${opts.limit}`,
  );
}
