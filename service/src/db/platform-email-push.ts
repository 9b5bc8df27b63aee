import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * The e-mail channel's cross-tenant reads (migration 00016): a Gmail push names only the mailbox's
 * address, so the address finds the tenant; and the catch-up sweep looks over every tenant's mailboxes for
 * one whose sync is owed. Everything after either runs in the tenant it names.
 */
export interface PushRoute {
  connectionId: string;
  tenantId: string;
  status: "connected" | "disconnected";
  connectionStatus: "active" | "disabled";
  tenantStatus: "active" | "suspended";
}

/** The mailbox of this address (any tenant's: addresses are unique across tenants), with its tenant's status. */
export function findPushMailbox(sql: Sql, address: string): Promise<PushRoute | undefined> {
  return asPlatform(async () => {
    const [row] = await sql<PushRoute[]>`
      select m.connection_id, m.tenant_id, m.status, c.status as connection_status, t.status as tenant_status
      from email_mailboxes m
        join channel_connections c on c.id = m.connection_id
        join tenants t on t.id = m.tenant_id
      where m.address = ${address.trim().toLowerCase()}`;
    return row;
  });
}

export interface DueMailbox {
  connectionId: string;
  tenantId: string;
}

/**
 * Connected mailboxes of active tenants whose sync is owed and that no sync holds now: a push announced
 * history not yet read (its task was lost, or its sync crashed and the lease ran out), or the mailbox was
 * not synced for `staleSeconds` (a lost push, or no Pub/Sub at all). Longest unsynced first.
 */
export function mailboxesDueForSync(
  sql: Sql,
  opts: { staleSeconds: number; limit: number },
): Promise<DueMailbox[]> {
  return asPlatform(
    () => sql<DueMailbox[]>`
      select m.connection_id, m.tenant_id
      from email_mailboxes m
        join channel_connections c on c.id = m.connection_id
        join tenants t on t.id = m.tenant_id
      where m.status = 'connected' and c.status = 'active' and t.status = 'active'
        and (m.sync_lease_until is null or m.sync_lease_until < now())
        and (m.pushed_history_id > coalesce(m.history_id, 0)
             or m.synced_at is null
             or m.synced_at < now() - ${`${opts.staleSeconds} seconds`}::interval)
      order by m.synced_at nulls first, m.connection_id
      limit ${opts.limit}`,
  );
}
