import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/** A pending notification to dispatch, with the tenant its task must run in. */
export interface DueNotification {
  tenantId: string;
  id: string;
  attempts: number;
}

/**
 * The sweep of notifications, across tenants (a named cross-tenant function, like dispatchableOutbox):
 * pending rows whose next attempt is due (a retry's time came, or a dispatch was lost), oldest first. Each
 * is then sent in its own tenant's scope.
 */
export function dueNotifications(sql: Sql, limit: number): Promise<DueNotification[]> {
  return asPlatform(
    () => sql<DueNotification[]>`
      select tenant_id::text as tenant_id, id::text, attempts from notifications
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${limit}`,
  );
}
