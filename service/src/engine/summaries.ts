import type { StoredMessage } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import {
  estimateTokens,
  type GenerateRequest,
  ModelError,
  type ModelProvider,
} from "../ports/model-provider";
import { selectWindow, summaryPrompt } from "./history";
import type { PreparedTurn } from "./prepared-turn";
import type { CircuitBreaker } from "./resilience";
import type { TurnAccounting } from "./turn-accounting";

export interface SummarySettings {
  history: { maxMessages: number; maxTokens: number };
  summaryModel: string;
  summaryTemperature: number;
}

/** The context a turn is answered with: the recent messages, and the summary of everything older. */
export interface ConversationContext {
  window: StoredMessage[];
  summary: string | null;
}

/**
 * Which messages a turn sends, and which of them to fold into the summary first. Folding goes down to
 * half the window, so the summary call happens every few turns rather than every turn.
 */
export function planFold(
  history: readonly StoredMessage[],
  limits: SummarySettings["history"],
  reservedTokens: number,
): { window: StoredMessage[]; fold: StoredMessage[]; foldedWindow: StoredMessage[] } {
  const { window, overflow } = selectWindow(history, limits, reservedTokens);
  if (overflow.length === 0) return { window, fold: [], foldedWindow: window };
  const half = selectWindow(
    history,
    {
      maxMessages: Math.max(2, Math.floor(limits.maxMessages / 2)),
      maxTokens: Math.floor(limits.maxTokens / 2),
    },
    reservedTokens,
  );
  return { window, fold: half.overflow, foldedWindow: half.window };
}

/** Keeps each session's rolling summary, written by the cheap model, and accounts for its calls. */
export class Summaries {
  constructor(
    private readonly deps: {
      provider: ModelProvider;
      breaker: CircuitBreaker;
      accounting: TurnAccounting;
      settings: SummarySettings;
      log: Logger;
    },
  ) {}

  /** The turn's context; when older messages no longer fit, they are folded into the summary first. */
  async context(turn: PreparedTurn, history: StoredMessage[]): Promise<ConversationContext> {
    const session = turn.session;
    const plan = planFold(history, this.deps.settings.history, estimateTokens(turn.text));
    const last = plan.fold.at(-1);
    if (!session || !last) return { window: plan.window, summary: session?.summary ?? null };
    const started = performance.now();
    try {
      const result = await this.deps.breaker.exec(() =>
        this.deps.provider.generate(this.request(session.summary, plan.fold, turn.input.signal)),
      );
      await this.deps.accounting.recordSummary(
        turn,
        { text: result.text, through: last.id },
        {
          purpose: "summary",
          model: result.model,
          provider: this.deps.provider.name,
          usage: this.deps.accounting.usageOf(result),
          latencyMs: Math.round(performance.now() - started),
          outcome: "ok",
        },
      );
      return { window: plan.foldedWindow, summary: result.text };
    } catch (error) {
      // Without a fresh summary the turn still works: the old summary plus the window.
      this.deps.log.warn(
        {
          event: LOG_EVENT.upstreamError,
          upstream: this.deps.provider.name,
          status: error instanceof ModelError ? (error.status ?? 0) : 0,
          error,
        },
        "summary failed",
      );
      return { window: plan.window, summary: session.summary };
    }
  }

  private request(
    previous: string | null,
    fold: StoredMessage[],
    signal: AbortSignal | undefined,
  ): GenerateRequest {
    const { settings } = this.deps;
    return {
      model: settings.summaryModel,
      purpose: "summary",
      systemInstruction: "You summarize customer support conversations for the agent that continues them.",
      turns: [{ role: "user", text: summaryPrompt(previous, fold) }],
      temperature: settings.summaryTemperature,
      maxOutputTokens: 400,
      signal,
    };
  }
}
