import type { Sql } from "./client";

/** The counter key of an identity's own request limit (erasure deletes it with the identity). */
export const identityLimitKey = (identityId: string) => `user:${identityId}`;

/**
 * Counts one hit in the fixed window that contains `now` and returns the window's total, in one round
 * trip. Every instance shares the counter, so a limit holds however many instances Cloud Run runs.
 */
export async function hitWindow(sql: Sql, key: string, windowStart: Date): Promise<number> {
  const [row] = await sql<{ hits: number }[]>`
    insert into rate_limit_windows (key, window_start, hits) values (${key}, ${windowStart}, 1)
    on conflict (key, window_start) do update set hits = rate_limit_windows.hits + 1
    returning hits`;
  return row?.hits ?? 1;
}
