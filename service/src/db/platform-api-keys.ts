import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/** A live API key, as the admin API's authentication sees it. */
export interface KeyPrincipal {
  id: string;
  tenantId: string;
  role: "agent" | "tenant_admin";
}

/**
 * The unrevoked key of this SHA-256 (a named cross-tenant function: a key says whose it is only once
 * found), in one round trip that also notes its use, at most once a minute so a busy key costs no write
 * per request.
 */
export function findApiKey(sql: Sql, hash: string): Promise<KeyPrincipal | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<KeyPrincipal[]>`
      with key as (
        select k.id, k.tenant_id, k.role, k.last_used_at from api_keys k
        join tenants t on t.id = k.tenant_id and t.status = 'active'
        where k.hash = ${hash} and k.revoked_at is null),
      used as (
        update api_keys set last_used_at = now()
        where id = (select id from key)
          and (last_used_at is null or last_used_at < now() - interval '1 minute'))
      select id, tenant_id::text as tenant_id, role from key`;
    return row;
  });
}
