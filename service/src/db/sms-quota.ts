import type { Sql } from "./client";

/** The tenant's outbound texts (sent or being sent; not skipped or refused) since the UTC day and month began. */
export async function smsSentCounts(sql: Sql, now: Date): Promise<{ day: number; month: number }> {
  const day = now.toISOString().slice(0, 10);
  const month = `${day.slice(0, 7)}-01`;
  const [row] = await sql<{ day: number; month: number }[]>`
    select count(*) filter (where created_at >= (${day}::date::timestamp at time zone 'UTC'))::int as day,
           count(*)::int as month
    from sms_messages
    where direction = 'outbound' and status not in ('skipped', 'failed') and purpose <> 'quota_notice'
      and created_at >= (${month}::date::timestamp at time zone 'UTC')`;
  return row ?? { day: 0, month: 0 };
}

/**
 * Claims the one quota notice `phone` gets for `period` (`day:2026-11-30`, `month:2026-11`): true the
 * first time only, so the notice is sent at most once whatever retries or concurrent tasks do.
 */
export async function claimQuotaNotice(sql: Sql, phone: string, period: string): Promise<boolean> {
  const rows = await sql`
    insert into sms_quota_notices (phone, period) values (${phone}, ${period})
    on conflict do nothing returning 1`;
  return rows.length > 0;
}
