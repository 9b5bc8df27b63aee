import type { Sql } from "../db/client";
import { hitWindow, identityLimitKey } from "../db/rate-limits";
import { findSession, findSessionByRef, type SessionRow } from "../db/sessions";
import { budgetUsage } from "../db/usage";
import type { TierBudget } from "../domain/accounting";
import { RateLimited, SessionNotFound } from "../domain/errors";
import type { Identity, Tier } from "../domain/identity";
import type { TurnInput } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import { type BudgetVerdict, checkBudget, overBudget, periodStarts } from "./budgets";
import { type GuestLimitSettings, GuestLimits } from "./guest-limits";
import { fixedWindow, secondsUntil } from "./windows";

export interface AdmissionSettings {
  budgets: Record<Tier, TierBudget>;
  budgetWarnRatio: number;
  userRequestsPerMinute: number;
  /** Limits of callers without a user JWT: per client address, and for all guests together. */
  guests: GuestLimitSettings;
}

export interface Admitted {
  session: SessionRow | undefined;
  budget: BudgetVerdict & { status: "ok" | "warn" };
}

const MINUTE = 60_000;

/**
 * The refuse-early phase of a turn: rate limits, session ownership, token budget. Everything here can
 * refuse (with a domain error) and runs before any reply byte is sent, so every channel can still answer
 * a refusal its own way.
 */
export class TurnAdmission {
  private readonly guests: GuestLimits;

  constructor(private readonly deps: { sql: Sql; settings: AdmissionSettings; log: Logger }) {
    this.guests = new GuestLimits({ sql: deps.sql, settings: deps.settings.guests, log: deps.log });
  }

  async admit(input: TurnInput, now: Date): Promise<Admitted> {
    if (input.identity.kind === "anonymous") {
      // Without an address (not a web request) every such caller shares one key: stricter, never looser.
      await this.guests.admit(input.clientAddress ?? "unknown", input.newIdentity === true, now);
    }
    // A freshly minted identity has no hits yet: skip the write.
    if (!input.newIdentity) await this.checkRateLimit(input.identity, now);
    const session = await this.session(input);
    const budget = await this.checkBudget(input.identity, now);
    return { session, budget };
  }

  private async checkRateLimit(identity: Identity, now: Date) {
    const limit = this.deps.settings.userRequestsPerMinute;
    const window = fixedWindow(now, MINUTE);
    const hits = await hitWindow(this.deps.sql, identityLimitKey(identity.id), window.start);
    if (hits > limit) {
      const retryAfter = secondsUntil(window.end, now);
      throw new RateLimited("Too many messages; please slow down.", retryAfter, {
        limitPerMinute: limit,
        retryAfterSeconds: retryAfter,
      });
    }
  }

  private async session(input: TurnInput): Promise<SessionRow | undefined> {
    if (input.sessionId) {
      const session = await findSession(this.deps.sql, input.sessionId);
      // Someone else's session is indistinguishable from a missing one.
      if (!session || session.identityId !== input.identity.id) throw new SessionNotFound();
      return session;
    }
    if (input.externalRef) return findSessionByRef(this.deps.sql, input.channel, input.externalRef);
    return undefined;
  }

  private async checkBudget(identity: Identity, now: Date): Promise<Admitted["budget"]> {
    const { sql, settings, log } = this.deps;
    const periods = periodStarts(now);
    const used = await budgetUsage(sql, identity.id, periods.day, periods.month);
    const budget = checkBudget(used, settings.budgets[identity.tier], settings.budgetWarnRatio, now);
    if (budget.status === "exceeded") throw overBudget(budget, identity.tier, now);
    if (budget.status === "warn") {
      log.warn(
        {
          event: LOG_EVENT.budgetWarning,
          identity: identity.id,
          tier: identity.tier,
          remaining: budget.remaining,
        },
        "token budget above warning threshold",
      );
    }
    return budget;
  }
}
