/** The one interface every model backend implements: Gemini, GPT-trainer, and the offline local one. */

import type { TokenUsage } from "../domain/accounting";
import type { FunctionCall, FunctionDeclaration } from "../domain/turn";

export interface ChatTurn {
  role: "user" | "model";
  text: string;
}

export interface GenerateRequest {
  model: string;
  purpose: "chat" | "summary" | "extraction";
  /** Instructions that do not change between calls (cacheable with `context`). */
  systemInstruction: string;
  /** Grounding text (knowledge base). */
  context?: string | undefined;
  /** True when `context` is the same for many calls, so a provider may cache it server-side. */
  contextIsStable?: boolean;
  /** Conversation summary of turns no longer in `turns`; changes every few turns, so never cached. */
  summary?: string | undefined;
  turns: ChatTurn[];
  temperature: number;
  maxOutputTokens: number;
  tools?: FunctionDeclaration[] | undefined;
  /** The session or conversation this call is for (GPT-trainer keeps one session per conversation). */
  conversationKey?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Structured output: the answer is one JSON value matching this JSON Schema (a provider with
   * `structuredOutput` enforces it; the caller validates it again either way).
   */
  responseJsonSchema?: Record<string, unknown> | undefined;
  /** Streaming: called with each text delta as it arrives. */
  onDelta?: ((text: string) => void | Promise<void>) | undefined;
}

export interface GenerateResult {
  text: string;
  model: string;
  finishReason?: string | undefined;
  usage: TokenUsage;
  functionCalls: FunctionCall[];
  /** The knowledge documents (slugs) the answer came from, when the provider knows (the local one). */
  sources?: string[] | undefined;
}

export interface ModelProvider {
  readonly name: string;
  /** The provider answers `responseJsonSchema` requests with JSON of that shape (Gemini); else it ignores it. */
  readonly structuredOutput?: boolean;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

/** A provider failure, classified so callers can decide to retry, wait or fall back. */
export class ModelError extends Error {
  constructor(
    message: string,
    readonly options: {
      /** HTTP status from the upstream, when there was one. */
      status?: number | undefined;
      retryable: boolean;
      /** How long the upstream asked us to wait (RetryInfo / Retry-After). */
      retryAfterMs?: number | undefined;
      upstream: string;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "ModelError";
  }
  get status() {
    return this.options.status;
  }
  get retryable() {
    return this.options.retryable;
  }
  get retryAfterMs() {
    return this.options.retryAfterMs;
  }
  get upstream() {
    return this.options.upstream;
  }
}

/** About 4 characters per token for English text: good enough for windows and budgets before a call. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
