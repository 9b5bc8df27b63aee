import { isIPv6 } from "node:net";
import type { AdmissionGate } from "../db/admission";
import { GuestBudgetExceeded, RateLimited, type RetryLater, TooManySessions } from "../domain/errors";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import { periodStarts } from "./budgets";
import { fixedWindow, secondsUntil } from "./windows";

export interface GuestLimitSettings {
  /** Chat requests per client address per minute, for every caller that is not a signed-in user. */
  clientRequestsPerMinute: number;
  /** New anonymous sessions (session tokens handed out) per client address per hour. */
  newSessionsPerHour: number;
  /** Tokens per UTC day shared by every anonymous caller of the deployment. */
  dailyTokenBudget: number;
  /** Log `budget.warning` (scope `guests`) once this share of the daily budget is used. */
  warnRatio: number;
}

/** The usage counter every anonymous caller's tokens are also charged to (no identity id looks like it). */
export const GUEST_POOL = "pool:guests";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * One limit of the refusal phase: the counter the admission statement counts or reads, and what its count
 * means. `check` throws the refusal (a RetryLater) when the count says no.
 */
export interface GateCheck {
  gate: AdmissionGate;
  check(count: number): void;
}

/**
 * Limits for callers without a user JWT. An anonymous identity costs nothing to mint, so per-identity
 * limits alone stop nobody: these hold per client address, and for all guests together.
 */
export class GuestLimits {
  /** The UTC day this instance last logged the pool's warning: once a day, not on every request. */
  private warnedDay: string | undefined;

  constructor(private readonly deps: { settings: GuestLimitSettings; log: Logger }) {}

  /**
   * The guest's limits in the order they refuse, all counted in the turn's admission statement:
   * the client's requests, its new sessions (`newSession`: a token is minted), the guests' shared budget.
   */
  gates(clientAddress: string, newSession: boolean, now: Date): GateCheck[] {
    const { settings } = this.deps;
    const key = limitKey(clientAddress);
    const perMinute = settings.clientRequestsPerMinute;
    const perHour = settings.newSessionsPerHour;
    const client = hitGate(
      `client:${key}`,
      MINUTE,
      perMinute,
      now,
      (retryAfter) =>
        new RateLimited("Too many messages from this network; please slow down.", retryAfter, {
          limit: "client",
          limitPerMinute: perMinute,
          retryAfterSeconds: retryAfter,
        }),
    );
    const sessions = hitGate(
      `guest-sessions:${key}`,
      HOUR,
      perHour,
      now,
      (retryAfter) =>
        new TooManySessions(
          "Too many new conversations from this network; continue an existing one or try again later.",
          retryAfter,
          { limit: "guest_sessions", limitPerHour: perHour, retryAfterSeconds: retryAfter },
        ),
    );
    return newSession ? [client, sessions, this.pool(now)] : [client, this.pool(now)];
  }

  private pool(now: Date): GateCheck {
    const { settings, log } = this.deps;
    const periods = periodStarts(now);
    const budget = settings.dailyTokenBudget;
    const check = (used: number) => {
      if (used >= budget) {
        const retryAfter = secondsUntil(periods.nextDay, now);
        throw new GuestBudgetExceeded(
          "Chat without signing in has used up today's allowance; sign in or try again tomorrow.",
          retryAfter,
          { period: "day", resetAt: periods.nextDay.toISOString(), retryAfterSeconds: retryAfter },
        );
      }
      if (used >= budget * settings.warnRatio && this.warnedDay !== periods.day) {
        this.warnedDay = periods.day;
        log.warn(
          { event: LOG_EVENT.budgetWarning, scope: "guests", used, budget, remaining: budget - used },
          "guests' shared daily token budget above warning threshold",
        );
      }
    };
    const gate = {
      kind: "counter",
      identityId: GUEST_POOL,
      period: "day",
      periodStart: periods.day,
      budget,
    } as const;
    return { gate, check };
  }
}

/** A fixed-window request limit: `limit` hits per window, refused with `refuse` beyond it. */
export function hitGate(
  key: string,
  windowMs: number,
  limit: number,
  now: Date,
  refuse: (retryAfterSeconds: number) => RetryLater,
): GateCheck {
  const window = fixedWindow(now, windowMs);
  return {
    gate: { kind: "hit", key, windowStart: window.start, limit },
    check(hits) {
      if (hits > limit) throw refuse(secondsUntil(window.end, now));
    },
  };
}

/**
 * The key a client's limits are counted under. An IPv6 client usually holds a whole /64 and can pick any
 * address in it, so IPv6 addresses count per /64 prefix; IPv4 addresses count as themselves.
 */
export function limitKey(address: string): string {
  if (!isIPv6(address)) return address;
  const [head = "", tail] = address.split("::");
  // A trailing dotted quad (::ffff:1.2.3.4 forms) stands for two groups.
  const groups = (part: string) =>
    part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : [];
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0");
  const prefix = [...left, ...zeros, ...right].slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(":")}::/64`;
}
