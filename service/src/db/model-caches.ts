import type { Sql } from "./client";

export interface ModelCacheRow {
  key: string;
  name: string;
  model: string;
  tokens: number;
  expiresAt: Date;
}

/** A cache still valid for at least `marginMs`, so a request never references one about to expire. */
export async function findModelCache(
  sql: Sql,
  key: string,
  marginMs: number,
): Promise<ModelCacheRow | undefined> {
  const [row] = await sql<ModelCacheRow[]>`
    select * from model_caches
    where key = ${key} and expires_at > now() + ${`${Math.ceil(marginMs / 1000)} seconds`}::interval`;
  return row;
}

export async function saveModelCache(sql: Sql, row: ModelCacheRow) {
  await sql`
    insert into model_caches ${sql(row as unknown as Record<string, unknown>)}
    on conflict (tenant_id, key) do update set name = excluded.name, tokens = excluded.tokens, expires_at = excluded.expires_at`;
}

export async function forgetModelCache(sql: Sql, key: string) {
  await sql`delete from model_caches where key = ${key}`;
}
