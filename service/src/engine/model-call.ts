import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import {
  estimateTokens,
  type GenerateRequest,
  type GenerateResult,
  ModelError,
  type ModelProvider,
} from "../ports/model-provider";
import { totalTokens } from "./cost";
import type { ModelLimiter } from "./model-limiter";
import { type CircuitBreaker, CircuitOpenError, withRetry } from "./resilience";

export interface RetrySettings {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type ModelCall = { ok: true; result: GenerateResult } | { ok: false; error: unknown };

/** Tokens a call may use, before it is made: its whole prompt, and an eighth of the output allowance. */
export function estimateCallTokens(request: GenerateRequest): number {
  return (
    estimateTokens(request.systemInstruction + (request.context ?? "") + (request.summary ?? "")) +
    request.turns.reduce((n, t) => n + estimateTokens(t.text), 0) +
    request.maxOutputTokens / 8
  );
}

/**
 * One chat call to the model through the limiter (which may refuse: ModelCapacity), with
 * retries and the circuit breaker. A failure after that is not thrown but returned, for the fallback.
 */
export class ModelCaller {
  constructor(
    private readonly deps: {
      provider: ModelProvider;
      limiter: ModelLimiter;
      breaker: CircuitBreaker;
      retry: RetrySettings;
      log: Logger;
      /** Test seam for retry waits. */
      sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
    },
  ) {}

  /** `onDelta`: stream the answer; once a delta is out, a failure is not retried (it would repeat it). */
  async call(request: GenerateRequest, onDelta?: (text: string) => Promise<void>): Promise<ModelCall> {
    const { limiter, log } = this.deps;
    const estimate = estimateCallTokens(request);
    await limiter.acquire(estimate);
    let sent = false;
    const stream = onDelta
      ? async (delta: string) => {
          sent = true;
          await onDelta(delta);
        }
      : undefined;
    try {
      const result = await this.withRetries(request, stream, () => sent);
      limiter.settle(estimate, totalTokens(result.usage));
      return { ok: true, result };
    } catch (error) {
      limiter.settle(estimate, 0);
      const upstream = error instanceof ModelError ? error.upstream : this.deps.provider.name;
      const status =
        error instanceof ModelError ? (error.status ?? 0) : error instanceof CircuitOpenError ? 503 : 0;
      log.error(
        { event: LOG_EVENT.upstreamError, upstream, status, circuit: this.deps.breaker.state, error },
        "model call failed; answering with the fallback",
      );
      return { ok: false, error };
    }
  }

  private withRetries(
    request: GenerateRequest,
    onDelta: ((text: string) => Promise<void>) | undefined,
    deltaSent: () => boolean,
  ): Promise<GenerateResult> {
    const { provider, breaker, retry, log } = this.deps;
    return withRetry(() => breaker.exec(() => provider.generate({ ...request, onDelta })), {
      ...retry,
      signal: request.signal,
      sleep: this.deps.sleep,
      onRetry: (error, attempt, delayMs) => {
        log.warn(
          {
            event: LOG_EVENT.upstreamError,
            upstream: error.upstream,
            status: error.status ?? 0,
            attempt,
            delayMs,
          },
          "model call failed; retrying",
        );
        // Once the user has seen part of an answer a retry would repeat it; stop here.
        if (deltaSent()) throw error;
      },
    });
  }
}
