import type { BudgetUsage, TierBudget } from "../domain/accounting";
import { BudgetExceeded } from "../domain/errors";
import type { Tier } from "../domain/identity";
import { secondsUntil } from "./windows";

export type BudgetVerdict =
  | { status: "ok" | "warn"; remaining: number | null }
  | { status: "exceeded"; period: "day" | "month"; resetAt: Date };

export function periodStarts(now: Date): { day: string; month: string; nextDay: Date; nextMonth: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const iso = (date: Date) => date.toISOString().slice(0, 10);
  return {
    day: iso(new Date(Date.UTC(y, m, d))),
    month: iso(new Date(Date.UTC(y, m, 1))),
    nextDay: new Date(Date.UTC(y, m, d + 1)),
    nextMonth: new Date(Date.UTC(y, m + 1, 1)),
  };
}

/** Checked before the model is called; charged afterwards from the actual usage. */
export function checkBudget(
  used: BudgetUsage,
  budget: TierBudget,
  warnRatio: number,
  now: Date,
): BudgetVerdict {
  const periods = periodStarts(now);
  if (budget.daily !== null && used.day >= budget.daily) {
    return { status: "exceeded", period: "day", resetAt: periods.nextDay };
  }
  if (budget.monthly !== null && used.month >= budget.monthly) {
    return { status: "exceeded", period: "month", resetAt: periods.nextMonth };
  }
  const remainingDay = budget.daily === null ? null : budget.daily - used.day;
  const remainingMonth = budget.monthly === null ? null : budget.monthly - used.month;
  const remaining =
    remainingDay === null
      ? remainingMonth
      : remainingMonth === null
        ? remainingDay
        : Math.min(remainingDay, remainingMonth);
  const warn =
    (budget.daily !== null && used.day >= budget.daily * warnRatio) ||
    (budget.monthly !== null && used.month >= budget.monthly * warnRatio);
  return { status: warn ? "warn" : "ok", remaining };
}

/** The refusal of a turn over budget: which period ran out, when it resets, and the wait until then. */
export function overBudget(
  verdict: Extract<BudgetVerdict, { status: "exceeded" }>,
  tier: Tier,
  now: Date,
): BudgetExceeded {
  return new BudgetExceeded(
    `The ${verdict.period === "day" ? "daily" : "monthly"} token budget of this account is used up.`,
    secondsUntil(verdict.resetAt, now),
    { period: verdict.period, resetAt: verdict.resetAt.toISOString(), tier },
  );
}
