import type { Sql } from "../../db/client";
import { claimQuotaNotice, smsSentCounts } from "../../db/sms-quota";
import type { SmsSettings } from "./settings";

export type QuotaPeriod = "day" | "month";

/** The period whose limit the tenant's texts reached (UTC day, then month), or undefined while under both. */
export async function quotaReached(sql: Sql, s: SmsSettings, now: Date): Promise<QuotaPeriod | undefined> {
  if (s.dailyLimit === null && s.monthlyLimit === null) return undefined;
  const sent = await smsSentCounts(sql, now);
  if (s.dailyLimit !== null && sent.day >= s.dailyLimit) return "day";
  if (s.monthlyLimit !== null && sent.month >= s.monthlyLimit) return "month";
  return undefined;
}

/** True the first time `phone` hits the `period` limit that is current at `now`: its one notice. */
export function firstQuotaHit(sql: Sql, phone: string, period: QuotaPeriod, now: Date): Promise<boolean> {
  const day = now.toISOString().slice(0, 10);
  const key = period === "day" ? `day:${day}` : `month:${day.slice(0, 7)}`;
  return claimQuotaNotice(sql, phone, key);
}
