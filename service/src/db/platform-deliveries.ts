import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/** A delivery the sweep dispatches again, with the tenant its task runs in. */
export interface DueDelivery {
  tenantId: string;
  id: string;
  dispatches: number;
}

/**
 * The sweep across tenants (a named cross-tenant function, like db/platform-outbox.ts): pending
 * deliveries of enabled endpoints of active tenants that were due before `dueBefore` and nobody holds
 * (their task was lost, or the queue refused it), oldest first, each counted as dispatched again.
 */
export function dueDeliveries(sql: Sql, now: Date, dueBefore: Date, limit: number): Promise<DueDelivery[]> {
  return asPlatform(
    async () =>
      await sql<DueDelivery[]>`
      update event_deliveries set dispatches = dispatches + 1
      where id in (
        select d.id from event_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id and e.status = 'enabled'
        join tenants t on t.id = d.tenant_id and t.status = 'active'
        where d.status = 'pending' and d.next_attempt_at <= ${dueBefore}
          and (d.lease_until is null or d.lease_until < ${now})
        order by d.next_attempt_at
        limit ${limit})
      returning tenant_id::text as tenant_id, id, dispatches`,
  );
}
