import { ModelCapacity } from "../domain/errors";

/**
 * What the engine needs of a model-call limiter: `acquire` before a call (may wait, or refuse with
 * ModelCapacity), `settle` after it with the tokens it really used. Two implementations: this file's
 * per-instance buckets, and the deployment-wide quota leased from the database (model-quota.ts).
 */
export interface ModelLimiter {
  acquire(estimatedTokens: number): Promise<void>;
  settle(estimatedTokens: number, actualTokens: number): void;
}

/**
 * Per-instance limiter for model calls: requests and tokens per minute as two token buckets. A call that
 * does not fit waits up to `queueTimeoutMs` (short bursts are smoothed), then is refused (ModelCapacity,
 * with the wait until it would fit) so this instance never pushes the deployment past its Gemini quota.
 */
export class ModelCallLimiter implements ModelLimiter {
  private requests: number;
  private tokens: number;
  private last: number;
  private readonly waiters: { tokens: number; resolve: () => void; timer: NodeJS.Timeout }[] = [];
  private pump: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      requestsPerMinute: number;
      tokensPerMinute: number;
      queueTimeoutMs: number;
      now?: () => number;
    },
  ) {
    this.requests = opts.requestsPerMinute;
    this.tokens = opts.tokensPerMinute;
    this.last = this.now();
  }

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  private refill() {
    const now = this.now();
    const elapsed = (now - this.last) / 60_000;
    this.last = now;
    this.requests = Math.min(
      this.opts.requestsPerMinute,
      this.requests + elapsed * this.opts.requestsPerMinute,
    );
    this.tokens = Math.min(this.opts.tokensPerMinute, this.tokens + elapsed * this.opts.tokensPerMinute);
  }

  private tryTake(tokens: number): boolean {
    this.refill();
    const need = Math.min(tokens, this.opts.tokensPerMinute);
    if (this.requests >= 1 && this.tokens >= need) {
      this.requests -= 1;
      this.tokens -= need;
      return true;
    }
    return false;
  }

  /** Milliseconds until a call of `tokens` would fit. */
  private waitFor(tokens: number): number {
    const needRequests = Math.max(0, 1 - this.requests) / this.opts.requestsPerMinute;
    const needTokens =
      Math.max(0, Math.min(tokens, this.opts.tokensPerMinute) - this.tokens) / this.opts.tokensPerMinute;
    return Math.ceil(Math.max(needRequests, needTokens) * 60_000);
  }

  async acquire(estimatedTokens: number): Promise<void> {
    if (this.waiters.length === 0 && this.tryTake(estimatedTokens)) return;
    const waitMs = this.waitFor(estimatedTokens);
    if (waitMs > this.opts.queueTimeoutMs) throw this.busy(waitMs);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.findIndex((w) => w.timer === timer);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(this.busy(this.waitFor(estimatedTokens)));
      }, this.opts.queueTimeoutMs);
      this.waiters.push({ tokens: estimatedTokens, resolve, timer });
      this.schedule();
    });
  }

  /** After the call: correct the token bucket by what the call really used. */
  settle(estimatedTokens: number, actualTokens: number) {
    this.refill();
    this.tokens = Math.min(this.opts.tokensPerMinute, this.tokens + estimatedTokens - actualTokens);
    this.schedule();
  }

  private schedule() {
    if (this.pump || this.waiters.length === 0) return;
    const head = this.waiters[0];
    if (!head) return;
    this.pump = setTimeout(
      () => {
        this.pump = undefined;
        while (this.waiters.length > 0) {
          const next = this.waiters[0];
          if (!next || !this.tryTake(next.tokens)) break;
          this.waiters.shift();
          clearTimeout(next.timer);
          next.resolve();
        }
        this.schedule();
      },
      Math.max(1, this.waitFor(head.tokens)),
    );
    this.pump.unref();
  }

  private busy(waitMs: number) {
    return modelCapacity(waitMs);
  }
}

/** The refusal of either limiter: retry after `waitMs`, in whole seconds (at least one). */
export function modelCapacity(waitMs: number): ModelCapacity {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ModelCapacity("The assistant is at capacity right now; please retry shortly.", seconds, {
    retryAfterSeconds: seconds,
  });
}
