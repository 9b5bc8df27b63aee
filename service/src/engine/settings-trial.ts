import { randomUUID } from "node:crypto";
import { searchKnowledge } from "../db/knowledge";
import { recordModelCall } from "../db/usage";
import type { Tenant, TenantSettings } from "../domain/tenant";
import type { TurnResult } from "../domain/turn";
import type { GenerateRequest, GenerateResult } from "../ports/model-provider";
import { redactPii } from "../redaction";
import { systemInstructionFor } from "./channel-style";
import type { EngineDeps } from "./conversation-engine";
import { emptyResult, fallbackReply } from "./fallback";
import type { KnowledgeBase } from "./knowledge";
import { ModelCaller } from "./model-call";
import { compileRules } from "./routing";
import { TurnAccounting } from "./turn-accounting";

/** The answer of a "try it" turn: what a customer would have read, and what it was made from. */
export interface TrialAnswer {
  reply: string;
  model: string;
  outcome: TurnResult["outcome"];
  confident: boolean;
  /** The system prompt the draft settings make (the variables filled in). */
  systemPrompt: string;
  /** The knowledge documents (slugs) that best match the question. */
  sources: string[];
}

/** Who tried: the ledger row's identity (`console:<actor>`), never a customer's. */
export interface TrialRequest {
  message: string;
  actor: string;
}

/** Runs a turn on draft settings without saving anything of it (tenant-engines.ts `trial`). */
export interface SettingsTrials {
  trial(tenant: Tenant, draft: TenantSettings, request: TrialRequest): Promise<TrialAnswer>;
}

/**
 * One turn on draft settings that stores nothing of the conversation (the console's "try it"): no
 * session, no messages, no contact capture, no budget counter of a customer. The model call is still a
 * cost, so it is written to the usage ledger (purpose `try`, channel `console`).
 */
export async function runTrial(deps: EngineDeps, request: TrialRequest): Promise<TrialAnswer> {
  const { settings } = deps;
  const text = settings.redactPii ? redactPii(request.message).text : request.message;
  const routed = compileRules(settings.routing)(text, 0, true);
  const grounding = await groundingOf(deps.knowledge, text, settings.knowledgeFullContextTokens);
  const call: GenerateRequest = {
    model: routed.model,
    purpose: "chat",
    systemInstruction: systemInstructionFor(settings.systemPrompt, "web"),
    context: grounding.context,
    contextIsStable: grounding.stable,
    turns: [{ role: "user", text }],
    temperature: settings.temperature,
    maxOutputTokens: settings.maxOutputTokens,
    conversationKey: `try-${randomUUID()}`,
  };
  const started = performance.now();
  const answer = await answerOf(deps, call, text);
  const accounting = new TurnAccounting({ sql: deps.sql, prices: settings.prices, log: deps.log });
  const { costUsd, ...tokens } = accounting.usageOf(answer.result);
  await recordModelCall(deps.sql, {
    identityId: `console:${request.actor}`,
    sessionId: null,
    channel: "console",
    purpose: "try",
    provider: answer.provider,
    model: answer.result.model,
    ...tokens,
    costUsd,
    latencyMs: Math.round(performance.now() - started),
    outcome: answer.outcome === "answered" ? "ok" : "fallback",
  });
  const hits = await searchKnowledge(deps.sql, text, 3);
  return {
    reply: answer.reply,
    model: answer.result.model,
    outcome: answer.outcome,
    confident: answer.confident,
    systemPrompt: settings.systemPrompt,
    sources: [...new Set(hits.map((h) => h.source))],
  };
}

/** The same grounding a turn gets: the whole knowledge base when small, else the sections that match. */
async function groundingOf(kb: KnowledgeBase, question: string, fullContextTokens: number) {
  if (kb.chunks === 0) return { context: undefined, stable: false };
  if (kb.tokens <= fullContextTokens) return { context: kb.fullText, stable: true };
  return { context: (await kb.search(question)) || undefined, stable: false };
}

interface TrialCall {
  reply: string;
  result: GenerateResult;
  provider: string;
  outcome: TurnResult["outcome"];
  confident: boolean;
}

/** The model's answer, or the fallback a customer would get when the model fails. */
async function answerOf(deps: EngineDeps, request: GenerateRequest, text: string): Promise<TrialCall> {
  const caller = new ModelCaller({ ...deps, retry: deps.settings.retry });
  const provider = deps.provider.name;
  const call = await caller.call(request);
  if (call.ok) {
    const confident = call.result.finishReason !== "NO_ANSWER";
    return { reply: call.result.text, result: call.result, provider, outcome: "answered", confident };
  }
  const article = await deps.fallback.answer(text).catch(() => undefined);
  return {
    reply: fallbackReply(article),
    result: emptyResult(article ? "local" : request.model),
    provider: article ? "local" : provider,
    outcome: "fallback",
    confident: false,
  };
}
