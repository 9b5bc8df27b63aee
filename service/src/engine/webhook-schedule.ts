/**
 * When a failed delivery is tried again, and when an endpoint that keeps failing is switched off. The
 * retry schedule is Svix's (the Standard Webhooks authors'): quick retries for a blip, then hours apart, so
 * an endpoint down for most of a day still gets every event.
 * https://docs.svix.com/retries
 */

/** The waits after the 1st, 2nd, … failed attempt; after the last one the delivery has failed for good. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** When to try again after `attempts` failed attempts (counting the one just made); null: no more. */
export function retryAt(
  attempts: number,
  now: Date,
  delays: readonly number[] = RETRY_DELAYS_MS,
): Date | null {
  const delay = delays[attempts - 1];
  return delay === undefined ? null : new Date(now.getTime() + delay);
}

export interface CircuitPolicy {
  /** An endpoint failing without a success for this long … */
  failingForMs: number;
  /** … and at least this many attempts in a row is disabled. */
  minFailures: number;
  /** Disabled after this many failed attempts in a row however recent the first was. */
  maxFailures: number;
}

/** A day of failures (and a few attempts, so one slow retry cannot trip it), or many in a row. */
export const DEFAULT_CIRCUIT: CircuitPolicy = {
  failingForMs: 24 * 3_600_000,
  minFailures: 5,
  maxFailures: 50,
};

/** Whether the endpoint's circuit opens (it is disabled) after this failure. */
export function circuitOpens(
  state: { consecutiveFailures: number; failingSince: Date | null },
  now: Date,
  policy: CircuitPolicy = DEFAULT_CIRCUIT,
): boolean {
  if (state.consecutiveFailures >= policy.maxFailures) return true;
  if (!state.failingSince || state.consecutiveFailures < policy.minFailures) return false;
  return now.getTime() - new Date(state.failingSince).getTime() >= policy.failingForMs;
}
