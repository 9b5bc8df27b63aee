import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client";
import type { ModelPrice } from "../domain/accounting";
import type { TurnInput, TurnLogFields, TurnResult, TurnUsage } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import type { KnowledgeFallback } from "../ports/knowledge-fallback";
import type { ChatTurn, GenerateRequest, GenerateResult, ModelProvider } from "../ports/model-provider";
import { redactPii } from "../redaction";
import { type AdmissionSettings, TurnAdmission } from "./admission";
import { systemInstructionFor } from "./channel-style";
import { totalTokens } from "./cost";
import { captureContact } from "./extraction/capture";
import { emptyResult, fallbackReply, INTERRUPTED } from "./fallback";
import type { KnowledgeBase } from "./knowledge";
import { ModelCaller, type RetrySettings } from "./model-call";
import type { ModelLimiter } from "./model-limiter";
import type { PreparedTurn } from "./prepared-turn";
import type { CircuitBreaker } from "./resilience";
import { compileRules, type RoutingDecision, type RoutingRules } from "./routing";
import { type ConversationContext, Summaries, type SummarySettings } from "./summaries";
import { TurnAccounting } from "./turn-accounting";

export type { PreparedTurn } from "./prepared-turn";

export interface EngineSettings extends AdmissionSettings, SummarySettings {
  systemPrompt: string;
  temperature: number;
  maxOutputTokens: number;
  routing: RoutingRules;
  prices: Record<string, ModelPrice>;
  redactPii: boolean;
  retry: RetrySettings;
  /** Send the whole knowledge base (cacheable) when it is at most this many tokens; else search it. */
  knowledgeFullContextTokens: number;
}

export interface EngineDeps {
  sql: Sql;
  provider: ModelProvider;
  /** The answer when the model fails: the best knowledge-base article (the local provider). */
  fallback: KnowledgeFallback;
  knowledge: KnowledgeBase;
  limiter: ModelLimiter;
  breaker: CircuitBreaker;
  settings: EngineSettings;
  log: Logger;
  now?: () => Date;
  /** Test seam for retry waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What a channel needs of the engine: refuse or prepare a turn, then answer it. */
export interface TurnEngine {
  /** Refuses the turn (a domain error) or returns it ready to run, its text redacted. */
  prepare(input: TurnInput): Promise<PreparedTurn>;
  /** Answers a prepared turn; `onDelta` streams the reply as it is written. */
  run(turn: PreparedTurn, onDelta?: (text: string) => void | Promise<void>): Promise<TurnResult>;
  /** prepare + run, for channels that do not stream. */
  respond(input: TurnInput): Promise<TurnResult>;
}

/** The reply of a turn and where it came from, before it is accounted for. */
interface Answer {
  reply: string;
  result: GenerateResult;
  provider: string;
  outcome: TurnResult["outcome"];
  confident: boolean;
  /** The knowledge documents it came from, when known (the console's knowledge page counts them). */
  sources: string[];
}

/**
 * The conversation engine: one place for every channel. A turn is prepare (rate limit, session ownership,
 * budget: everything that can refuse the turn, before any reply byte is sent) then run (history, routing,
 * model call with retries and fallback, persistence and accounting).
 */
export class ConversationEngine implements TurnEngine {
  private readonly route: ReturnType<typeof compileRules>;
  private readonly admission: TurnAdmission;
  private readonly accounting: TurnAccounting;
  private readonly summaries: Summaries;
  private readonly model: ModelCaller;
  private readonly now: () => Date;

  constructor(private readonly deps: EngineDeps) {
    const { sql, settings, log, provider, breaker } = deps;
    this.now = deps.now ?? (() => new Date());
    this.route = compileRules(settings.routing);
    this.admission = new TurnAdmission({ sql, settings, log });
    this.accounting = new TurnAccounting({ sql, prices: settings.prices, log, now: this.now });
    this.summaries = new Summaries({ provider, breaker, accounting: this.accounting, settings, log });
    this.model = new ModelCaller({
      provider,
      breaker,
      limiter: deps.limiter,
      retry: settings.retry,
      log,
      sleep: deps.sleep,
    });
  }

  async prepare(input: TurnInput): Promise<PreparedTurn> {
    const startedAt = performance.now();
    const { session, history, budget } = await this.admission.admit(input, this.now());
    const text = this.deps.settings.redactPii ? redactPii(input.message).text : input.message;
    return { input, session, history, sessionId: session?.id ?? randomUUID(), text, budget, startedAt };
  }

  async run(turn: PreparedTurn, onDelta?: (text: string) => void | Promise<void>): Promise<TurnResult> {
    const context = await this.summaries.context(turn, turn.history);
    const routed = this.routeOf(turn);
    const request = await this.chatRequest(turn, context, routed.model);
    const started = performance.now();
    const answer = await this.answer(turn, request, onDelta);
    const usage = this.accounting.usageOf(answer.result);
    await this.accounting.recordTurn(turn, answer.reply, {
      purpose: "chat",
      model: answer.result.model,
      provider: answer.provider,
      usage,
      latencyMs: Math.round(performance.now() - started),
      outcome: answer.outcome === "answered" ? "ok" : "fallback",
      answer: { sources: answer.sources, confident: answer.confident },
    });
    // The e-mail or phone the customer typed, read before redaction hid it: the session's contact (issue 14).
    await captureContact(this.deps, {
      sessionId: turn.sessionId,
      channel: turn.input.channel,
      text: turn.input.message,
      identityId: turn.input.identity.id,
      newSession: turn.session === undefined,
    });
    const processed: TurnLogFields = {
      event: LOG_EVENT.conversationProcessed,
      channel: turn.input.channel,
      outcome: answer.outcome,
      routing: routed.reason,
      model: answer.result.model,
      durationMs: Math.round(performance.now() - turn.startedAt),
    };
    if (turn.input.logTurn) turn.input.logTurn(processed);
    else this.deps.log.info(processed, "conversation turn processed");
    return resultOf(turn, answer, usage);
  }

  async respond(input: TurnInput): Promise<TurnResult> {
    return this.run(await this.prepare(input));
  }

  private routeOf(turn: PreparedTurn): RoutingDecision {
    const { input, session } = turn;
    const mayEscalate =
      input.identity.kind !== "anonymous" || this.deps.settings.routing.escalateGuests === true;
    return this.route(turn.text, session?.turns ?? 0, mayEscalate);
  }

  private async chatRequest(
    turn: PreparedTurn,
    context: ConversationContext,
    model: string,
  ): Promise<GenerateRequest> {
    const { settings } = this.deps;
    const turns: ChatTurn[] = [
      ...context.window.map(
        (m): ChatTurn => ({ role: m.role === "user" ? "user" : "model", text: m.content }),
      ),
      { role: "user", text: turn.text },
    ];
    const grounding = await this.grounding(turn.text);
    return {
      model,
      purpose: "chat",
      systemInstruction: systemInstructionFor(settings.systemPrompt, turn.input.channel),
      context: grounding.context,
      contextIsStable: grounding.stable,
      summary: context.summary ?? undefined,
      turns,
      temperature: settings.temperature,
      maxOutputTokens: settings.maxOutputTokens,
      tools: turn.input.tools,
      conversationKey: turn.sessionId,
      signal: turn.input.signal,
    };
  }

  private async grounding(question: string): Promise<{ context: string | undefined; stable: boolean }> {
    const kb = this.deps.knowledge;
    if (kb.chunks === 0) return { context: undefined, stable: false };
    if (kb.tokens <= this.deps.settings.knowledgeFullContextTokens)
      return { context: kb.fullText, stable: true };
    const context = await kb.search(question);
    return { context: context || undefined, stable: false };
  }

  /** The model's answer, or the fallback when it failed (never a second answer after streamed deltas). */
  private async answer(
    turn: PreparedTurn,
    request: GenerateRequest,
    onDelta: ((text: string) => void | Promise<void>) | undefined,
  ): Promise<Answer> {
    const provider = this.deps.provider.name;
    let streamed = "";
    const forward = onDelta
      ? async (delta: string) => {
          streamed += delta;
          await onDelta(delta);
        }
      : undefined;
    const call = await this.model.call(request, forward);
    if (call.ok) {
      const confident = call.result.finishReason !== "NO_ANSWER";
      const sources = call.result.sources ?? [];
      return {
        reply: call.result.text,
        result: call.result,
        provider,
        outcome: "answered",
        confident,
        sources,
      };
    }
    if (streamed) {
      // Deltas already reached the user; a second answer would contradict the first.
      await onDelta?.(INTERRUPTED);
      const reply = streamed + INTERRUPTED;
      const result = emptyResult(request.model);
      return { reply, result, provider, outcome: "fallback", confident: false, sources: [] };
    }
    const article = await this.deps.fallback.answer(turn.text).catch(() => undefined);
    const reply = fallbackReply(article);
    await onDelta?.(reply);
    return {
      reply,
      result: emptyResult(article ? "local" : request.model),
      provider: article ? "local" : provider,
      outcome: "fallback",
      confident: false,
      sources: article ? [article.source] : [],
    };
  }
}

function resultOf(turn: PreparedTurn, answer: Answer, usage: TurnUsage): TurnResult {
  const remaining = turn.budget.remaining;
  return {
    sessionId: turn.sessionId,
    reply: answer.reply,
    model: answer.result.model,
    provider: answer.provider,
    usage,
    outcome: answer.outcome,
    confident: answer.confident,
    functionCalls: answer.result.functionCalls,
    budget: {
      status: turn.budget.status,
      remaining: remaining === null ? null : Math.max(0, remaining - totalTokens(usage)),
    },
  };
}
