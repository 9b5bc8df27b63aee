import { type AdmissionQuery, readAdmission } from "../db/admission";
import type { Sql } from "../db/client";
import { identityLimitKey } from "../db/rate-limits";
import type { SessionRow } from "../db/sessions";
import type { BudgetUsage, TierBudget } from "../domain/accounting";
import { RateLimited, SessionNotFound } from "../domain/errors";
import type { Identity, Tier } from "../domain/identity";
import type { StoredMessage, TurnInput } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import { type BudgetVerdict, checkBudget, overBudget, periodStarts } from "./budgets";
import { type GateCheck, type GuestLimitSettings, GuestLimits, hitGate } from "./guest-limits";
import { type TenantLimitSettings, TenantLimits } from "./tenant-limits";

export interface AdmissionSettings {
  budgets: Record<Tier, TierBudget>;
  budgetWarnRatio: number;
  userRequestsPerMinute: number;
  /** Limits of callers without a user JWT: per client address, and for all guests together. */
  guests: GuestLimitSettings;
  /** The tenant's own limits across all its callers (from its settings); unset: none. */
  tenant?: TenantLimitSettings | undefined;
}

export interface Admitted {
  session: SessionRow | undefined;
  /** The session's messages not yet folded into its summary, oldest first (none for a new session). */
  history: StoredMessage[];
  budget: BudgetVerdict & { status: "ok" | "warn" };
}

const MINUTE = 60_000;

/**
 * The refuse-early phase of a turn: rate limits and token budgets (the caller's, then its tenant's),
 * session ownership. Everything here can
 * refuse (with a domain error) and runs before any reply byte is sent, so every channel can still answer
 * a refusal its own way. It all takes one database round trip, which also reads the session's history.
 */
export class TurnAdmission {
  private readonly guests: GuestLimits;
  private readonly tenant: TenantLimits;

  constructor(private readonly deps: { sql: Sql; settings: AdmissionSettings; log: Logger }) {
    this.guests = new GuestLimits({ settings: deps.settings.guests, log: deps.log });
    this.tenant = new TenantLimits({ settings: deps.settings.tenant, log: deps.log });
  }

  async admit(input: TurnInput, now: Date): Promise<Admitted> {
    const { identity } = input;
    const checks: GateCheck[] = [];
    if (identity.kind === "anonymous") {
      // Without an address (not a web request) every such caller shares one key: stricter, never looser.
      checks.push(...this.guests.gates(input.clientAddress ?? "unknown", input.newIdentity === true, now));
    }
    // A freshly minted identity has no hits yet: skip the write.
    if (!input.newIdentity) checks.push(this.rateLimit(identity, now));
    checks.push(...this.tenant.gates(now));
    const periods = periodStarts(now);
    const read = await readAdmission(this.deps.sql, {
      gates: checks.map((c) => c.gate),
      identityId: identity.id,
      day: periods.day,
      month: periods.month,
      session: sessionKey(input),
    });
    // The refusals in their order; a gate after a refusing one was not counted (its count is null).
    for (const [i, c] of checks.entries()) c.check(read.gates[i] ?? 0);
    // Someone else's session is indistinguishable from a missing one (the statement reads only our own).
    if (input.sessionId && read.session?.identityId !== identity.id) throw new SessionNotFound();
    const budget = this.checkBudget(identity, read.used, now);
    return { session: read.session, history: read.history, budget };
  }

  private rateLimit(identity: Identity, now: Date): GateCheck {
    const limit = this.deps.settings.userRequestsPerMinute;
    return hitGate(
      identityLimitKey(identity.id),
      MINUTE,
      limit,
      now,
      (retryAfter) =>
        new RateLimited("Too many messages; please slow down.", retryAfter, {
          limitPerMinute: limit,
          retryAfterSeconds: retryAfter,
        }),
    );
  }

  private checkBudget(identity: Identity, used: BudgetUsage, now: Date): Admitted["budget"] {
    const { settings, log } = this.deps;
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

function sessionKey(input: TurnInput): AdmissionQuery["session"] {
  if (input.sessionId) return { id: input.sessionId };
  if (input.externalRef) return { channel: input.channel, externalRef: input.externalRef };
  return undefined;
}
