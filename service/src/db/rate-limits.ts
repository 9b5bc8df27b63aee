import type { Sql } from "./client";
import { currentTenantId, DEFAULT_TENANT_ID } from "./tenant-scope";

// Request counters (rate_limit_windows) are counted in the admission statement of a turn (admission.ts).

/** The counter key of an identity's own request limit (erasure deletes it with the identity). */
export const identityLimitKey = (identityId: string) => `user:${identityId}`;

/**
 * rate_limit_windows is deployment-wide (no tenant_id, no row-level security), so a key names its tenant:
 * the same identity or client address in two tenants counts in two windows. The default tenant keeps the
 * keys it had before tenants existed (a rolling deploy keeps counting in the same windows); other
 * tenants' keys start with their id, which no unprefixed key does (those start with a word and a colon).
 */
export function tenantLimitKey(key: string): string {
  const tenantId = currentTenantId() ?? DEFAULT_TENANT_ID;
  return tenantId === DEFAULT_TENANT_ID ? key : `${tenantId}:${key}`;
}

/**
 * One request counted in its window of a (tenant-prefixed) key; false when it is over `limit` (the
 * console's "try it" turns, which spend tokens but pass no customer's admission).
 */
export async function countRequest(
  sql: Sql,
  key: string,
  windowStart: Date,
  limit: number,
): Promise<boolean> {
  const [row] = await sql<{ hits: number }[]>`
    insert into rate_limit_windows (key, window_start, hits)
    values (${tenantLimitKey(key)}, ${windowStart}, 1)
    on conflict (key, window_start) do update set hits = rate_limit_windows.hits + 1
    returning hits`;
  return (row?.hits ?? 0) <= limit;
}
