import type { Sql } from "./client";

/**
 * The current tenant's channel connections (migration 00007). A connection's public id (an Intercom app
 * id, a phone number, a mailbox) is unique across tenants: inserting one another tenant holds fails on
 * the unique index even though row-level security hides that tenant's row. Credentials are never here:
 * `secretRefs` names them in the SecretStore.
 */

export interface ChannelConnection {
  id: string;
  kind: string;
  publicId: string;
  settings: Record<string, unknown>;
  /** Credential name → SecretStore reference. */
  secretRefs: Record<string, string>;
  status: "active" | "disabled";
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: Sql) => sql`id, kind, public_id, settings, secret_refs, status, created_at, updated_at`;

export async function listChannels(sql: Sql): Promise<ChannelConnection[]> {
  return await sql<
    ChannelConnection[]
  >`select ${columns(sql)} from channel_connections order by created_at, id`;
}

export async function findChannel(sql: Sql, id: string): Promise<ChannelConnection | undefined> {
  const [row] = await sql<
    ChannelConnection[]
  >`select ${columns(sql)} from channel_connections where id = ${id}`;
  return row;
}

/** A new connection without credentials yet; throws PostgreSQL's unique_violation on a taken public id. */
export async function insertChannel(
  sql: Sql,
  c: { id: string; kind: string; publicId: string; settings: Record<string, unknown> },
): Promise<ChannelConnection> {
  const [row] = await sql<ChannelConnection[]>`
    insert into channel_connections (id, kind, public_id, settings)
    values (${c.id}, ${c.kind}, ${c.publicId}, ${sql.json(c.settings as never)})
    returning ${columns(sql)}`;
  return row as ChannelConnection;
}

export async function setChannelSecretRefs(
  sql: Sql,
  id: string,
  refs: Record<string, string>,
): Promise<ChannelConnection | undefined> {
  const [row] = await sql<ChannelConnection[]>`
    update channel_connections set secret_refs = ${sql.json(refs)}, updated_at = now()
    where id = ${id} returning ${columns(sql)}`;
  return row;
}

export async function deleteChannel(sql: Sql, id: string): Promise<ChannelConnection | undefined> {
  const [row] = await sql<ChannelConnection[]>`
    delete from channel_connections where id = ${id} returning ${columns(sql)}`;
  return row;
}
