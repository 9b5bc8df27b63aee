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

/** The current tenant's mailbox of an address (lowercased), with its connection's secret references. */
export async function findMailboxByAddress(sql: Sql, address: string): Promise<MailboxWithRefs | undefined> {
  const [row] = await sql<MailboxWithRefs[]>`
    select ${mailboxColumns(sql)}, c.secret_refs
    from email_mailboxes m join channel_connections c on c.id = m.connection_id
    where m.address = ${address}`;
  return row;
}

/**
 * Connects the mailbox of a `gmail` channel connection of the current tenant, or connects it again. A
 * reconnected mailbox keeps its history position (docs/email.md: mail that arrived while it was
 * disconnected is picked up from there); a new one starts at `historyId` (now).
 */
export async function connectMailbox(
  sql: Sql,
  m: { connectionId: string; address: string; historyId: string; connectedBy: string },
): Promise<MailboxRow> {
  const [row] = await sql<MailboxRow[]>`
    insert into email_mailboxes as m (connection_id, address, history_id, connected_by)
    values (${m.connectionId}, ${m.address}, ${m.historyId}::numeric, ${m.connectedBy})
    on conflict (connection_id) do update set
      status = 'connected', disconnected_reason = null, disconnected_at = null,
      history_id = coalesce(m.history_id, excluded.history_id), sync_lease_until = null,
      connected_by = excluded.connected_by, updated_at = now()
    returning ${mailboxColumns(sql)}`;
  return row as MailboxRow;
}

/**
 * A watch made or renewed: its expiry, renewed now. The history position moves only for a mailbox that
 * has none (a renewal must never skip mail not synced yet). Undefined when the mailbox is not connected.
 */
export async function setMailboxWatch(
  sql: Sql,
  connectionId: string,
  watch: { historyId: string; expiration: Date },
): Promise<MailboxRow | undefined> {
  const [row] = await sql<MailboxRow[]>`
    update email_mailboxes m set watch_expires_at = ${watch.expiration}, watch_renewed_at = now(),
      history_id = coalesce(m.history_id, ${watch.historyId}::numeric), updated_at = now()
    where m.connection_id = ${connectionId} and m.status = 'connected'
    returning ${mailboxColumns(sql)}`;
  return row;
}

/**
 * Marks a connected mailbox disconnected with the reason (`disconnected_by_admin`,
 * `refresh_token_revoked`); undefined when it was not connected, so whatever follows happens once.
 */
export async function markMailboxDisconnected(
  sql: Sql,
  connectionId: string,
  reason: string,
): Promise<MailboxRow | undefined> {
  const [row] = await sql<MailboxRow[]>`
    update email_mailboxes m set status = 'disconnected', disconnected_reason = ${reason},
      disconnected_at = now(), watch_expires_at = null, sync_lease_until = null, updated_at = now()
    where m.connection_id = ${connectionId} and m.status = 'connected'
    returning ${mailboxColumns(sql)}`;
  return row;
}

/** The current tenant's oldest connected mailbox: the one its team's notifications are sent through. */
export async function firstConnectedMailbox(sql: Sql): Promise<MailboxRow | undefined> {
  const [row] = await sql<MailboxRow[]>`
    select ${mailboxColumns(sql)} from email_mailboxes m where m.status = 'connected'
    order by m.created_at, m.connection_id limit 1`;
  return row;
}
