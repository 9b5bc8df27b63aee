import type { Sql } from "./client";

/** Named positions kept across instances and restarts (the catch-up poll's `updated_at` cursor). */
export async function getCursor(sql: Sql, key: string): Promise<string | null> {
  const [row] = await sql<{ value: string }[]>`select value from app_state where key = ${key}`;
  return row?.value ?? null;
}

export async function setCursor(sql: Sql, key: string, value: string) {
  await sql`
    insert into app_state (key, value) values (${key}, ${value})
    on conflict (tenant_id, key) do update set value = excluded.value, updated_at = now()`;
}
