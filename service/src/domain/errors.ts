/**
 * Why the engine (or one of its limiters) will not take a turn, in the domain's words, with the data any
 * caller needs to answer it: a stable `code`, a message for the person, `details`, and for refusals that
 * pass with time, when to try again. Nothing here knows HTTP: the HTTP edge maps these to statuses,
 * headers and the uniform error body (http/error-handler.ts); a channel maps them its own way (the
 * Intercom bridge hands a conversation to a person when its budget is used up).
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A refusal that passes by itself: the same request succeeds after `retryAfterSeconds`. */
export abstract class RetryLater extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}

/** Too many requests in the current window (per identity, or per client address for guests). */
export class RateLimited extends RetryLater {
  readonly code = "rate_limited";
}

/** Too many new anonymous sessions from one client address this hour. */
export class TooManySessions extends RetryLater {
  readonly code = "too_many_sessions";
}

/** The identity's daily or monthly token budget is used up; the model is not called. */
export class BudgetExceeded extends RetryLater {
  readonly code = "budget_exceeded";
}

/** All guests together have used up today's shared token budget. */
export class GuestBudgetExceeded extends RetryLater {
  readonly code = "guest_budget_exceeded";
}

/** The model quota (the deployment's, or this instance's limiter in tests) has no room within the queue timeout. */
export class ModelCapacity extends RetryLater {
  readonly code = "model_capacity";
}

/** No such session, or one of another identity (the two are indistinguishable on purpose). */
export class SessionNotFound extends DomainError {
  readonly code = "not_found";

  constructor() {
    super("session not found");
  }
}

/** The tenant named (widget key, token claim) does not exist here. */
export class UnknownTenant extends DomainError {
  readonly code = "unknown_tenant";

  constructor() {
    super("this widget key or tenant is not known to this deployment");
  }
}

/** The tenant is suspended: its channels answer nothing until a platform admin reactivates it. */
export class TenantSuspended extends DomainError {
  readonly code = "tenant_suspended";

  constructor() {
    super("this service is currently unavailable for this business");
  }
}

/** The tenant's own requests-per-minute limit (all its callers together). */
export class TenantRateLimited extends RetryLater {
  readonly code = "tenant_rate_limited";
}

/** The tenant's own daily or monthly token budget (all its callers together) is used up. */
export class TenantBudgetExceeded extends RetryLater {
  readonly code = "tenant_budget_exhausted";
}
