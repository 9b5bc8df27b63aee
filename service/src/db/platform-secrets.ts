import type { Sql } from "./client";
import { asPlatform } from "./tenant-scope";

/**
 * How many versions each key sealed, across every tenant (a named cross-tenant function, like those of
 * db/platform.ts): start-up refuses a key that cannot open them. Key ids and counts only, no value.
 */
export function secretVersionsByKey(sql: Sql): Promise<{ keyId: string; versions: number }[]> {
  return asPlatform(
    () => sql<{ keyId: string; versions: number }[]>`
      select key_id, count(*)::int as versions from secret_versions group by key_id order by key_id`,
  );
}
