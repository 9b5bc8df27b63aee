import { ModelError } from "../ports/model-provider";

export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal | undefined;
  /** Injected in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (error: ModelError, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Exponential backoff with full jitter, but never sooner than the upstream asked (RetryInfo or
 * Retry-After); a wait the upstream asks for beyond `maxDelayMs` is not worth holding a user for, so the
 * error is returned at once and the caller falls back.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof ModelError) || !error.retryable || attempt >= options.maxRetries) throw error;
      if (options.signal?.aborted) throw error;
      const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt) * random();
      const delay = Math.max(backoff, error.retryAfterMs ?? 0);
      if (delay > options.maxDelayMs) throw error;
      options.onRetry?.(error, attempt + 1, delay);
      await wait(delay, options.signal);
    }
  }
}

export class CircuitOpenError extends Error {
  constructor(
    readonly upstream: string,
    readonly retryAfterMs: number,
  ) {
    super(`${upstream} circuit is open`);
    this.name = "CircuitOpenError";
  }
}

/**
 * Stops calling an upstream that keeps failing, so users get the fallback at once instead of waiting for
 * timeouts; after the cooldown one trial call decides whether it closes again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    readonly upstream: string,
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): "closed" | "open" | "half-open" {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.cooldownMs ? "half-open" : "open";
  }

  async exec<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.trialInFlight)) {
      throw new CircuitOpenError(this.upstream, this.cooldownMs - (this.now() - (this.openedAt ?? 0)));
    }
    const trial = state === "half-open";
    if (trial) this.trialInFlight = true;
    try {
      const result = await fn();
      this.failures = 0;
      this.openedAt = undefined;
      return result;
    } catch (error) {
      // Only upstream health counts: a 400 caused by our request says nothing about the upstream.
      const countsAsFailure = !(error instanceof ModelError) || error.retryable;
      if (countsAsFailure) {
        this.failures++;
        if (trial || this.failures >= this.threshold) this.openedAt = this.now();
      }
      throw error;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }
}
