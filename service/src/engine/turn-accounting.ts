import type { Sql } from "../db/client";
import { type SavedSummary, saveSummary, saveTurn } from "../db/turns";
import type { LedgerEntry, UsageCharge } from "../db/usage";
import type { ModelPrice } from "../domain/accounting";
import type { Identity } from "../domain/identity";
import type { TurnUsage } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import { estimateTokens, type GenerateResult } from "../ports/model-provider";
import { periodStarts } from "./budgets";
import { costUsd, priceFor, totalTokens } from "./cost";
import { GUEST_POOL } from "./guest-limits";
import type { PreparedTurn } from "./prepared-turn";
import { TENANT_TOTAL } from "./tenant-limits";

/** A model call to account for: what it was for, who made it, what it used and how it went. */
export interface AccountedCall {
  purpose: LedgerEntry["purpose"];
  model: string;
  provider: string;
  usage: TurnUsage;
  latencyMs: number;
  outcome: LedgerEntry["outcome"];
  /** A chat turn's answer: the documents it came from and whether it was confident (stored with it). */
  answer?: { sources: string[]; confident: boolean } | undefined;
}

/**
 * What a turn costs and where that is written: prices per model, the usage ledger and budget counters,
 * the stored messages, and the `model.usage` log line the dashboards count. The engine decides; this
 * records.
 */
export class TurnAccounting {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      sql: Sql;
      prices: Record<string, ModelPrice>;
      log: Logger;
      now?: (() => Date) | undefined;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The call's tokens and their cost at the configured price (0, and a warning, for an unknown model). */
  usageOf(result: GenerateResult): TurnUsage {
    const price = priceFor(result.model, this.deps.prices);
    if (!price && totalTokens(result.usage) > 0) {
      this.deps.log.warn(
        { event: "pricing.unknown_model", model: result.model },
        "no price configured for model",
      );
    }
    return { ...result.usage, costUsd: price ? costUsd(result.usage, price) : 0 };
  }

  /** A session's new summary, and the ledger entry and charge of the call that wrote it, in one statement. */
  async recordSummary(
    turn: PreparedTurn,
    summary: Omit<SavedSummary, "sessionId">,
    call: AccountedCall,
  ): Promise<void> {
    const entry = ledgerEntry(turn, call);
    await saveSummary(
      this.deps.sql,
      { ...summary, sessionId: turn.sessionId },
      entry,
      this.charge(turn.input.identity, call.usage),
    );
    this.logUsage(entry, turn.input.identity.tier);
  }

  /** The user message, the reply, the session and the accounting, in one statement. */
  async recordTurn(turn: PreparedTurn, reply: string, call: AccountedCall): Promise<void> {
    const { input } = turn;
    const entry = ledgerEntry(turn, call);
    await saveTurn(
      this.deps.sql,
      {
        sessionId: turn.sessionId,
        identityId: input.identity.id,
        channel: input.channel,
        externalRef: input.externalRef ?? null,
        userText: turn.text,
        userTokens: estimateTokens(turn.text),
        reply,
        replyTokens: call.usage.outputTokens || estimateTokens(reply),
        model: call.model,
        sources: call.answer?.sources ?? [],
        confident: call.answer?.confident ?? null,
      },
      entry,
      this.charge(input.identity, call.usage),
    );
    this.logUsage(entry, input.identity.tier);
  }

  private charge(identity: Identity, usage: TurnUsage): UsageCharge {
    const periods = periodStarts(this.now());
    return {
      tokens: totalTokens(usage),
      day: periods.day,
      month: periods.month,
      // Anonymous callers' tokens also count against the budget all guests share.
      pool: identity.kind === "anonymous" ? GUEST_POOL : undefined,
      // Every turn counts towards its tenant's total (its tenant-wide budget, when it has one).
      total: TENANT_TOTAL,
    };
  }

  private logUsage(entry: LedgerEntry, tier: Identity["tier"]) {
    this.deps.log.info(
      {
        event: LOG_EVENT.modelUsage,
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
}

function ledgerEntry(turn: PreparedTurn, call: AccountedCall): LedgerEntry {
  const { costUsd: cost, ...tokens } = call.usage;
  return {
    identityId: turn.input.identity.id,
    sessionId: turn.sessionId,
    channel: turn.input.channel,
    purpose: call.purpose,
    provider: call.provider,
    model: call.model,
    ...tokens,
    costUsd: cost,
    latencyMs: call.latencyMs,
    outcome: call.outcome,
  };
}
