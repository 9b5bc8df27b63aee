import { randomUUID } from "node:crypto";
import type { LocalKnowledgeProvider } from "../adapters/local-model";
import type { ModelPrice, Tier, TierBudget } from "../config";
import type { Sql } from "../db/client";
import { unsummarizedMessages } from "../db/messages";
import { hitWindow } from "../db/rate-limits";
import { findSession, findSessionByRef, type SessionRow, saveSummary } from "../db/sessions";
import { budgetUsage, type LedgerEntry, recordUsage } from "../db/usage";
import { AppError, notFound } from "../errors";
import type { Logger } from "../logger";
import {
  type ChatTurn,
  estimateTokens,
  type FunctionDeclaration,
  type GenerateRequest,
  type GenerateResult,
  ModelError,
  type ModelProvider,
  type TokenUsage,
} from "../ports/model-provider";
import { redactPii } from "../redaction";
import { type BudgetVerdict, checkBudget, periodStarts } from "./budgets";
import { costUsd, priceFor, totalTokens } from "./cost";
import { GUEST_POOL, type GuestLimitSettings, GuestLimits } from "./guest-limits";
import { type StoredMessage, selectWindow, summaryPrompt } from "./history";
import type { KnowledgeBase } from "./knowledge";
import type { ModelCallLimiter } from "./model-limiter";
import { type CircuitBreaker, CircuitOpenError, withRetry } from "./resilience";
import { compileRules, type RoutingRules } from "./routing";

export type Channel = "web" | "intercom";

export interface Identity {
  /** Stable id: `anon:<uuid>`, `user:<sub>` or `user:<issuer>#<sub>`, `intercom:<contact id>`. */
  id: string;
  kind: "anonymous" | "user" | "intercom";
  tier: Tier;
  /** A user JWT with `role: "admin"` (or `roles` containing it): may call the /intercom admin endpoints. */
  admin?: boolean;
  /** An anonymous session token signed with the previous (rotated-out) key: re-issue it. */
  staleSessionToken?: boolean;
}

export interface EngineSettings {
  systemPrompt: string;
  temperature: number;
  maxOutputTokens: number;
  summaryModel: string;
  summaryTemperature: number;
  history: { maxMessages: number; maxTokens: number };
  routing: RoutingRules;
  budgets: Record<Tier, TierBudget>;
  budgetWarnRatio: number;
  prices: Record<string, ModelPrice>;
  redactPii: boolean;
  userRequestsPerMinute: number;
  /** Limits of callers without a user JWT: per client address, and for all guests together. */
  guests: GuestLimitSettings;
  retry: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
  /** Send the whole knowledge base (cacheable) when it is at most this many tokens; else search it. */
  knowledgeFullContextTokens: number;
}

export interface EngineDeps {
  sql: Sql;
  provider: ModelProvider;
  local: LocalKnowledgeProvider;
  knowledge: KnowledgeBase;
  limiter: ModelCallLimiter;
  breaker: CircuitBreaker;
  settings: EngineSettings;
  log: Logger;
  now?: () => Date;
  /** Test seam for retry waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface TurnInput {
  identity: Identity;
  channel: Channel;
  /** Continue this session; it must belong to `identity`. */
  sessionId?: string | undefined;
  /** Or continue the session tied to an external conversation (an Intercom conversation id). */
  externalRef?: string | undefined;
  /** The caller's IP address (web channel): anonymous callers are limited per address. */
  clientAddress?: string | undefined;
  /** The anonymous identity was minted for this turn (a new session token will be handed out). */
  newIdentity?: boolean | undefined;
  message: string;
  tools?: FunctionDeclaration[] | undefined;
  signal?: AbortSignal | undefined;
}

export interface PreparedTurn {
  input: TurnInput;
  session: SessionRow | undefined;
  sessionId: string;
  text: string;
  budget: BudgetVerdict & { status: "ok" | "warn" };
  startedAt: number;
}

export interface TurnUsage extends TokenUsage {
  costUsd: number;
}

export interface TurnResult {
  sessionId: string;
  reply: string;
  model: string;
  provider: string;
  usage: TurnUsage;
  outcome: "answered" | "fallback";
  /** False when the answer did not come from the model or the knowledge base had nothing. */
  confident: boolean;
  functionCalls: GenerateResult["functionCalls"];
  budget: { status: "ok" | "warn"; remaining: number | null };
}

const FALLBACK_REPLY =
  "Sorry, I can't answer right now. A person from our support team will follow up with you as soon as possible.";
const INTERRUPTED = "\n\n(The answer was interrupted. Please ask again.)";

/**
 * The conversation engine: one place for every channel. A turn is prepare (rate limit, session ownership,
 * budget: everything that can refuse the turn, before any reply byte is sent) then run (history, routing,
 * model call with retries and fallback, persistence and accounting).
 */
export class ConversationEngine {
  private readonly route: ReturnType<typeof compileRules>;
  private readonly guests: GuestLimits;
  private readonly now: () => Date;

  constructor(private readonly deps: EngineDeps) {
    this.route = compileRules(deps.settings.routing);
    this.guests = new GuestLimits({ sql: deps.sql, settings: deps.settings.guests, log: deps.log });
    this.now = deps.now ?? (() => new Date());
  }

  async prepare(input: TurnInput): Promise<PreparedTurn> {
    const { sql, settings } = this.deps;
    const startedAt = performance.now();
    const now = this.now();
    if (input.identity.kind === "anonymous") {
      // Without an address (not a web request) every such caller shares one key: stricter, never looser.
      await this.guests.admit(input.clientAddress ?? "unknown", input.newIdentity === true, now);
    }
    // A freshly minted identity has no hits yet: skip the write.
    if (!input.newIdentity) await this.checkRateLimit(input.identity, now);

    let session: SessionRow | undefined;
    if (input.sessionId) {
      session = await findSession(sql, input.sessionId);
      // Someone else's session is indistinguishable from a missing one.
      if (!session || session.identityId !== input.identity.id) throw notFound("session");
    } else if (input.externalRef) {
      session = await findSessionByRef(sql, input.channel, input.externalRef);
    }

    const periods = periodStarts(now);
    const used = await budgetUsage(sql, input.identity.id, periods.day, periods.month);
    const budget = checkBudget(used, settings.budgets[input.identity.tier], settings.budgetWarnRatio, now);
    if (budget.status === "exceeded") {
      const retryAfter = Math.max(1, Math.ceil((budget.resetAt.getTime() - now.getTime()) / 1000));
      throw new AppError(
        429,
        "budget_exceeded",
        `The ${budget.period === "day" ? "daily" : "monthly"} token budget of this account is used up.`,
        {
          headers: { "Retry-After": String(retryAfter) },
          details: {
            period: budget.period,
            resetAt: budget.resetAt.toISOString(),
            tier: input.identity.tier,
          },
        },
      );
    }
    if (budget.status === "warn") {
      this.deps.log.warn(
        {
          event: "budget.warning",
          identity: input.identity.id,
          tier: input.identity.tier,
          remaining: budget.remaining,
        },
        "token budget above warning threshold",
      );
    }
    const text = settings.redactPii ? redactPii(input.message).text : input.message;
    return { input, session, sessionId: session?.id ?? randomUUID(), text, budget, startedAt };
  }

  private async checkRateLimit(identity: Identity, now: Date) {
    const windowMs = 60_000;
    const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
    const hits = await hitWindow(this.deps.sql, `user:${identity.id}`, windowStart);
    if (hits > this.deps.settings.userRequestsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now.getTime()) / 1000));
      throw new AppError(429, "rate_limited", "Too many messages; please slow down.", {
        headers: { "Retry-After": String(retryAfter) },
        details: { limitPerMinute: this.deps.settings.userRequestsPerMinute, retryAfterSeconds: retryAfter },
      });
    }
  }

  async run(turn: PreparedTurn, onDelta?: (text: string) => void | Promise<void>): Promise<TurnResult> {
    const { settings, log } = this.deps;
    const { input, session } = turn;
    const history = session
      ? await unsummarizedMessages(this.deps.sql, session.id, session.summarizedThrough)
      : [];
    const summary = await this.fold(turn, history);
    const turns: ChatTurn[] = [
      ...summary.window.map(
        (m): ChatTurn => ({ role: m.role === "user" ? "user" : "model", text: m.content }),
      ),
      { role: "user", text: turn.text },
    ];

    const mayEscalate = input.identity.kind !== "anonymous" || settings.routing.escalateGuests === true;
    const routed = this.route(turn.text, session?.turns ?? 0, mayEscalate);
    const grounding = await this.grounding(turn.text);
    const request: GenerateRequest = {
      model: routed.model,
      purpose: "chat",
      systemInstruction: settings.systemPrompt,
      context: grounding.context,
      contextIsStable: grounding.stable,
      summary: summary.text ?? undefined,
      turns,
      temperature: settings.temperature,
      maxOutputTokens: settings.maxOutputTokens,
      tools: input.tools,
      conversationKey: turn.sessionId,
      signal: input.signal,
    };

    let streamed = "";
    const started = performance.now();
    const call = await this.callModel(
      request,
      async (delta) => {
        streamed += delta;
        await onDelta?.(delta);
      },
      onDelta !== undefined,
    );

    let reply: string;
    let outcome: TurnResult["outcome"] = "answered";
    let confident = true;
    let result: GenerateResult;
    let provider = this.deps.provider.name;
    if (call.ok) {
      result = call.result;
      reply = result.text;
      confident = result.finishReason !== "NO_ANSWER";
    } else {
      outcome = "fallback";
      confident = false;
      if (streamed) {
        // Deltas already reached the user; a second answer would contradict the first.
        reply = streamed + INTERRUPTED;
        await onDelta?.(INTERRUPTED);
        result = emptyResult(request.model);
      } else {
        const kb = await this.deps.local.answer(turn.text).catch(() => undefined);
        reply = kb ? `${FALLBACK_INTRO}**${kb.heading}**\n\n${kb.body.trim()}` : FALLBACK_REPLY;
        await onDelta?.(reply);
        result = emptyResult(kb ? "local" : request.model);
        provider = kb ? "local" : provider;
      }
    }
    const latencyMs = Math.round(performance.now() - started);
    const usage = this.usageOf(result);

    await this.persist(turn, reply, result, usage, latencyMs, call.ok ? "ok" : "fallback", provider);
    log.info(
      {
        event: "conversation.processed",
        channel: input.channel,
        outcome,
        routing: routed.reason,
        model: result.model,
        durationMs: Math.round(performance.now() - turn.startedAt),
      },
      "conversation turn processed",
    );
    return {
      sessionId: turn.sessionId,
      reply,
      model: result.model,
      provider,
      usage,
      outcome,
      confident,
      functionCalls: result.functionCalls,
      budget: {
        status: turn.budget.status,
        remaining:
          turn.budget.remaining === null ? null : Math.max(0, turn.budget.remaining - totalTokens(usage)),
      },
    };
  }

  /** prepare + run, for channels that do not stream. */
  async respond(input: TurnInput): Promise<TurnResult> {
    return this.run(await this.prepare(input));
  }

  private async grounding(question: string): Promise<{ context: string | undefined; stable: boolean }> {
    const kb = this.deps.knowledge;
    if (kb.chunks === 0) return { context: undefined, stable: false };
    if (kb.tokens <= this.deps.settings.knowledgeFullContextTokens)
      return { context: kb.fullText, stable: true };
    const context = await kb.search(question);
    return { context: context || undefined, stable: false };
  }

  private async callModel(
    request: GenerateRequest,
    onDelta: (text: string) => Promise<void>,
    stream: boolean,
  ): Promise<{ ok: true; result: GenerateResult } | { ok: false; error: unknown }> {
    const { limiter, breaker, provider, settings, log } = this.deps;
    const estimate =
      estimateTokens(request.systemInstruction + (request.context ?? "") + (request.summary ?? "")) +
      request.turns.reduce((n, t) => n + estimateTokens(t.text), 0) +
      request.maxOutputTokens / 8;
    await limiter.acquire(estimate);
    let sent = false;
    try {
      const result = await withRetry(
        () =>
          breaker.exec(() =>
            provider.generate({
              ...request,
              onDelta: stream
                ? async (d) => {
                    sent = true;
                    await onDelta(d);
                  }
                : undefined,
            }),
          ),
        {
          ...settings.retry,
          signal: request.signal,
          sleep: this.deps.sleep,
          onRetry: (error, attempt, delayMs) => {
            log.warn(
              {
                event: "upstream.error",
                upstream: error.upstream,
                status: error.status ?? 0,
                attempt,
                delayMs,
              },
              "model call failed; retrying",
            );
            // Once the user has seen part of an answer a retry would repeat it; stop here.
            if (sent) throw error;
          },
        },
      );
      limiter.settle(estimate, totalTokens(result.usage));
      return { ok: true, result };
    } catch (error) {
      limiter.settle(estimate, 0);
      const upstream = error instanceof ModelError ? error.upstream : provider.name;
      const status =
        error instanceof ModelError ? (error.status ?? 0) : error instanceof CircuitOpenError ? 503 : 0;
      log.error(
        { event: "upstream.error", upstream, status, circuit: breaker.state, error },
        "model call failed; answering with the fallback",
      );
      return { ok: false, error };
    }
  }

  /**
   * Folds the messages that no longer fit the window into the rolling summary with the cheap model. It
   * folds down to half the window, so the summary call happens every few turns rather than every turn.
   */
  private async fold(
    turn: PreparedTurn,
    history: StoredMessage[],
  ): Promise<{ window: StoredMessage[]; text: string | null }> {
    const { settings } = this.deps;
    const session = turn.session;
    const reserved = estimateTokens(turn.text);
    const { window, overflow } = selectWindow(history, settings.history, reserved);
    if (!session || overflow.length === 0) return { window, text: session?.summary ?? null };

    const half = selectWindow(
      history,
      {
        maxMessages: Math.max(2, Math.floor(settings.history.maxMessages / 2)),
        maxTokens: Math.floor(settings.history.maxTokens / 2),
      },
      reserved,
    );
    const fold = half.overflow;
    const last = fold[fold.length - 1];
    if (!last) return { window, text: session.summary };
    const request: GenerateRequest = {
      model: settings.summaryModel,
      purpose: "summary",
      systemInstruction: "You summarize customer support conversations for the agent that continues them.",
      turns: [{ role: "user", text: summaryPrompt(session.summary, fold) }],
      temperature: settings.summaryTemperature,
      maxOutputTokens: 400,
      signal: turn.input.signal,
    };
    const started = performance.now();
    try {
      const result = await this.deps.breaker.exec(() => this.deps.provider.generate(request));
      const usage = this.usageOf(result);
      await saveSummary(this.deps.sql, session.id, result.text, last.id);
      await this.ledger(
        turn,
        "summary",
        result.model,
        usage,
        Math.round(performance.now() - started),
        "ok",
        this.deps.provider.name,
      );
      return { window: half.window, text: result.text };
    } catch (error) {
      // Without a fresh summary the turn still works: the old summary plus the window.
      this.deps.log.warn(
        {
          event: "upstream.error",
          upstream: this.deps.provider.name,
          status: error instanceof ModelError ? (error.status ?? 0) : 0,
          error,
        },
        "summary failed",
      );
      return { window, text: session.summary };
    }
  }

  private usageOf(result: GenerateResult): TurnUsage {
    const price = priceFor(result.model, this.deps.settings.prices);
    if (!price && totalTokens(result.usage) > 0) {
      this.deps.log.warn(
        { event: "pricing.unknown_model", model: result.model },
        "no price configured for model",
      );
    }
    return { ...result.usage, costUsd: price ? costUsd(result.usage, price) : 0 };
  }

  private entry(
    turn: PreparedTurn,
    purpose: LedgerEntry["purpose"],
    model: string,
    usage: TurnUsage,
    latencyMs: number,
    outcome: LedgerEntry["outcome"],
    provider: string,
  ): LedgerEntry {
    const { costUsd: cost, ...tokens } = usage;
    return {
      identityId: turn.input.identity.id,
      sessionId: turn.sessionId,
      channel: turn.input.channel,
      purpose,
      provider,
      model,
      ...tokens,
      costUsd: cost,
      latencyMs,
      outcome,
    };
  }

  private async ledger(...args: Parameters<ConversationEngine["entry"]>) {
    const entry = this.entry(...args);
    const periods = periodStarts(this.now());
    await this.deps.sql.begin((tx) =>
      recordUsage(tx, entry, {
        tokens: totalTokens(entry),
        day: periods.day,
        month: periods.month,
        pool: guestPoolOf(args[0].input.identity),
      }),
    );
    this.logUsage(entry, args[0].input.identity.tier);
  }

  private logUsage(entry: LedgerEntry, tier: Tier) {
    this.deps.log.info(
      {
        event: "model.usage",
        purpose: entry.purpose,
        model: entry.model,
        inputTokens: entry.inputTokens,
        outputTokens: entry.outputTokens,
        cachedTokens: entry.cachedTokens,
        thoughtsTokens: entry.thoughtsTokens,
        costUsd: entry.costUsd,
        latencyMs: entry.latencyMs,
        tier,
      },
      "model usage",
    );
  }

  /** The user message, the reply, the session and the accounting, in one transaction. */
  private async persist(
    turn: PreparedTurn,
    reply: string,
    result: GenerateResult,
    usage: TurnUsage,
    latencyMs: number,
    outcome: LedgerEntry["outcome"],
    provider: string,
  ) {
    const { input } = turn;
    const entry = this.entry(turn, "chat", result.model, usage, latencyMs, outcome, provider);
    const periods = periodStarts(this.now());
    const userTokens = estimateTokens(turn.text);
    const replyTokens = usage.outputTokens || estimateTokens(reply);
    await this.deps.sql.begin((tx) => [
      tx`
        insert into sessions (id, identity_id, channel, external_ref, turns)
        values (${turn.sessionId}, ${input.identity.id}, ${input.channel}, ${input.externalRef ?? null}, 1)
        on conflict (id) do update set turns = sessions.turns + 1, updated_at = now()`,
      tx`
        insert into messages (session_id, role, content, tokens, model)
        values (${turn.sessionId}, 'user', ${turn.text}, ${userTokens}, null),
               (${turn.sessionId}, 'assistant', ${reply}, ${replyTokens}, ${result.model})`,
      ...recordUsage(tx, entry, {
        tokens: totalTokens(usage),
        day: periods.day,
        month: periods.month,
        pool: guestPoolOf(input.identity),
      }),
    ]);
    this.logUsage(entry, input.identity.tier);
  }
}

/** Anonymous callers' tokens also count against the budget all guests share. */
const guestPoolOf = (identity: Identity) => (identity.kind === "anonymous" ? GUEST_POOL : undefined);

const FALLBACK_INTRO =
  "I can't reach the assistant right now, but this article from our help center may help:\n\n";

function emptyResult(model: string): GenerateResult {
  return {
    text: "",
    model,
    usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, thoughtsTokens: 0 },
    functionCalls: [],
  };
}
