import type { Sql } from "./client";

/**
 * A tenant's API keys for its automations (migration 00015), in the tenant's scope. Only the key's
 * SHA-256 is kept (with its first characters, to tell keys apart); the key itself is shown once.
 */

export interface ApiKey {
  id: string;
  name: string;
  role: "agent" | "tenant_admin";
  prefix: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const columns = (sql: Sql) => sql`id, name, role, prefix, created_by, created_at, last_used_at, revoked_at`;

export async function insertApiKey(
  sql: Sql,
  input: { name: string; role: ApiKey["role"]; prefix: string; hash: string; createdBy: string },
): Promise<ApiKey> {
  const [row] = await sql<ApiKey[]>`
    insert into api_keys (name, role, prefix, hash, created_by)
    values (${input.name}, ${input.role}, ${input.prefix}, ${input.hash}, ${input.createdBy})
    returning ${columns(sql)}`;
  return row as ApiKey;
}

export async function listApiKeys(sql: Sql): Promise<ApiKey[]> {
  return await sql<ApiKey[]>`select ${columns(sql)} from api_keys order by created_at, id`;
}

/** Revokes the key (at once: the next request with it is refused); undefined when there is no such key. */
export async function revokeApiKey(sql: Sql, id: string): Promise<ApiKey | undefined> {
  const [row] = await sql<ApiKey[]>`
    update api_keys set revoked_at = coalesce(revoked_at, now()) where id = ${id}
    returning ${columns(sql)}`;
  return row;
}
