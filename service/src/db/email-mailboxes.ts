import type { Sql } from "./client";

/**
 * The current tenant's connected Gmail mailboxes (migration 00016). The refresh token is never here: the
 * mailbox's channel connection names it in the SecretStore (`secret_refs.refreshToken`).
 */
export interface MailboxRow {
  connectionId: string;
  tenantId: string;
  /** Lowercased. */
  address: string;
  status: "connected" | "disconnected";
  disconnectedReason: string | null;
  disconnectedAt: Date | null;
  /** Gmail historyIds are uint64: kept as decimal strings. */
  historyId: string | null;
  pushedHistoryId: string | null;
  syncRequests: number;
  syncLeaseUntil: Date | null;
  syncedAt: Date | null;
  watchExpiresAt: Date | null;
  watchRenewedAt: Date | null;
  connectedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The row with its channel connection's secret references (to read the refresh token). */
export interface MailboxWithRefs extends MailboxRow {
  secretRefs: Record<string, string>;
}

export const mailboxColumns = (sql: Sql) => sql`
  m.connection_id, m.tenant_id, m.address, m.status, m.disconnected_reason, m.disconnected_at,
  m.history_id::text as history_id, m.pushed_history_id::text as pushed_history_id,
  m.sync_requests::int as sync_requests, m.sync_lease_until, m.synced_at, m.watch_expires_at,
  m.watch_renewed_at, m.connected_by, m.created_at, m.updated_at`;

export async function findMailbox(sql: Sql, connectionId: string): Promise<MailboxWithRefs | undefined> {
  const [row] = await sql<MailboxWithRefs[]>`
    select ${mailboxColumns(sql)}, c.secret_refs
    from email_mailboxes m join channel_connections c on c.id = m.connection_id
    where m.connection_id = ${connectionId}`;
  return row;
}

export function listMailboxes(sql: Sql): Promise<MailboxRow[]> {
  return sql<MailboxRow[]>`
    select ${mailboxColumns(sql)} from email_mailboxes m order by m.created_at, m.connection_id`;
}
