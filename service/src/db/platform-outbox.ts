import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/** A pending outbox row to dispatch, with the tenant its task must run in. */
export interface DispatchableRow {
  tenantId: string;
  id: string;
  attempts: number;
  /** Its task runs not before this (a reply delay); unset: now. */
  notBefore?: Date | undefined;
}

/**
 * The poll's sweep, across tenants (a named cross-tenant function, like those of db/platform.ts): pending
 * rows of these channels that nobody holds (never leased, or whose lease ran out: the processor crashed
 * or the task was lost), oldest first. Rows of suspended tenants wait: their channels answer nothing.
 * Each row is then processed in its own tenant's scope.
 */
export function dispatchableOutbox(sql: Sql, channels: string[], limit: number): Promise<DispatchableRow[]> {
  return asPlatform(
    () => sql<DispatchableRow[]>`
      select o.tenant_id::text as tenant_id, o.id, o.attempts from outbox o
      join tenants t on t.id = o.tenant_id and t.status = 'active'
      where o.status = 'pending' and (o.lease_until is null or o.lease_until < now())
        and o.channel = any(${channels}::text[])
      order by o.created_at
      limit ${limit}`,
  );
}
