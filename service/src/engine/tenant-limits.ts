import { currentTenantId } from "../db/tenant-scope";
import { TenantBudgetExceeded, TenantRateLimited } from "../domain/errors";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import { periodStarts } from "./budgets";
import { type GateCheck, hitGate } from "./guest-limits";
import { secondsUntil } from "./windows";

/** A tenant's own limits across all its callers (tenant settings `rateLimits` and `tenantBudget`). */
export interface TenantLimitSettings {
  /** Chat requests per minute of all the tenant's callers together; unset: no tenant-wide limit. */
  requestsPerMinute?: number | undefined;
  /** Tokens per UTC day and month of all the tenant's identities together; unset or null: no limit. */
  dailyTokens?: number | null | undefined;
  monthlyTokens?: number | null | undefined;
  /** Log `budget.warning` (scope `tenant`) once this share of a period's budget is used. */
  warnRatio: number;
}

/**
 * The usage counter every turn of a tenant is also charged to (day and month), whatever the tenant's
 * settings: a budget set in the middle of a month then counts the month's tokens already used. No
 * identity id looks like it (they start with `user:`, `anon:`, `intercom:`, …); RLS keeps it per tenant.
 */
export const TENANT_TOTAL = "tenant:total";

/** The rate_limit_windows key of the tenant's requests (prefixed with the tenant by the statement). */
const TENANT_REQUESTS = "tenant:requests";
const MINUTE = 60_000;

/**
 * The tenant-wide gates of a turn, counted in its one admission statement after the caller's own: a caller
 * refused by its own limit is not counted against its tenant's. The budget gates only read the tenant's
 * counters and come before the request gate, so a turn refused for the budget costs no request hit.
 */
export class TenantLimits {
  /** The period start this instance last logged each warning for: once a period, not on every request. */
  private readonly warned: Record<"day" | "month", string | undefined> = { day: undefined, month: undefined };

  constructor(private readonly deps: { settings: TenantLimitSettings | undefined; log: Logger }) {}

  gates(now: Date): GateCheck[] {
    const settings = this.deps.settings;
    if (!settings) return [];
    const checks: GateCheck[] = [];
    if (settings.dailyTokens != null) checks.push(this.budget("day", settings.dailyTokens, now));
    if (settings.monthlyTokens != null) checks.push(this.budget("month", settings.monthlyTokens, now));
    const perMinute = settings.requestsPerMinute;
    if (perMinute !== undefined) {
      checks.push(
        hitGate(
          TENANT_REQUESTS,
          MINUTE,
          perMinute,
          now,
          (retryAfter) =>
            new TenantRateLimited(
              "This service is receiving too many messages; please retry shortly.",
              retryAfter,
              {
                limit: "tenant",
                limitPerMinute: perMinute,
                retryAfterSeconds: retryAfter,
              },
            ),
        ),
      );
    }
    return checks;
  }

  private budget(period: "day" | "month", budget: number, now: Date): GateCheck {
    const periods = periodStarts(now);
    const start = period === "day" ? periods.day : periods.month;
    const resetAt = period === "day" ? periods.nextDay : periods.nextMonth;
    const check = (used: number) => {
      if (used >= budget) {
        const retryAfter = secondsUntil(resetAt, now);
        throw new TenantBudgetExceeded(
          `This service has used up its ${period === "day" ? "daily" : "monthly"} allowance; please try again later.`,
          retryAfter,
          { period, resetAt: resetAt.toISOString(), retryAfterSeconds: retryAfter },
        );
      }
      if (used >= budget * (this.deps.settings?.warnRatio ?? 1) && this.warned[period] !== start) {
        this.warned[period] = start;
        this.deps.log.warn(
          {
            event: LOG_EVENT.budgetWarning,
            scope: "tenant",
            tenant: currentTenantId(),
            period,
            used,
            budget,
          },
          "tenant's token budget above warning threshold",
        );
      }
    };
    return { gate: { kind: "counter", identityId: TENANT_TOTAL, period, periodStart: start, budget }, check };
  }
}
