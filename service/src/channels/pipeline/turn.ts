import type { Sql } from "../../db/client";
import {
  type ConversationKey,
  type ConversationState,
  completeOutbox,
  markSending,
  type OutboxRow,
  recordAnswer,
  rememberContact,
} from "../../db/pipeline";
import { TenantSuspended, UnknownTenant } from "../../domain/errors";
import type { TurnResult } from "../../domain/turn";
import type { TurnEngine } from "../../engine/conversation-engine";
import {
  HANDOFF_TOOL,
  type HandoffRules,
  handoffAfterTurn,
  handoffBeforeTurn,
  handoffOnRefusal,
} from "../../engine/handoff-policy";
import type { Logger } from "../../logger";
import type { PendingMessage, QueuedChannel } from "./channel";
import { type HandoffDeps, handOff } from "./handoff";

export type TurnOutcome = "answered" | "handoff" | "skipped";

export interface TurnDeps {
  sql: Sql;
  engine: TurnEngine;
  log: Logger;
  rules: HandoffRules;
  escalations?: HandoffDeps["escalations"];
}

/** One task's work on one conversation: its leased rows, the view the channel read, their ids. */
interface Turn<View> {
  key: ConversationKey;
  rows: OutboxRow[];
  messages: PendingMessage[];
  outboxIds: string[];
  view: View;
  state: ConversationState;
  /** The conversation's customer, as the channel knows them (an escalation links a Switchboard contact). */
  contactId: string | null;
}

/**
 * A conversation's turn on one channel, for the rows a task leased: read the conversation, settle a send
 * a crash interrupted, apply the channel's policies and the handoff rules, ask the engine, then send with
 * the idempotency record written first, and record the outcome. Every finished row says why it finished.
 */
export class ConversationTurns<View> {
  constructor(
    private readonly channel: QueuedChannel<View>,
    private readonly deps: TurnDeps,
  ) {}

  async answer(key: ConversationKey, rows: OutboxRow[], state: ConversationState): Promise<TurnOutcome> {
    const { sql } = this.deps;
    const messages = rows.map(pendingOf);
    const opened = await this.channel.sender.open(key.conversationId, messages);
    // Whose conversation this is, recorded once, so erasing that contact reaches everything kept of it.
    if (opened.contactId && opened.contactId !== state.contactId)
      await rememberContact(sql, key, opened.contactId);
    let turn: Turn<View> = {
      key,
      rows,
      messages,
      outboxIds: rows.map((r) => r.id),
      view: opened.view,
      state,
      contactId: opened.contactId ?? state.contactId,
    };
    if (rows.some((r) => r.sendStartedAt !== null) && (await this.settledByEarlierSend(turn)))
      return "skipped";
    const commands = await this.runCommands(turn);
    if (commands.rest.length === 0) return commands.outcome;
    turn = narrowed(turn, commands.rest);
    const skip = this.channel.policy.skipReason(turn.view, state);
    if (skip) {
      await completeOutbox(sql, turn.outboxIds, "skipped", skip);
      return "skipped";
    }
    const stored = turn.rows.filter((r) => r.reply !== null);
    const [first] = stored;
    if (first?.reply) {
      // The provider refused this reply's send earlier (429/5xx): send the same text, the model is not
      // asked again and the history not written twice.
      const outcome = await this.deliver(narrowed(turn, stored), first.reply, true);
      const rest = turn.rows.filter((r) => r.reply === null);
      if (rest.length === 0) return outcome;
      turn = narrowed(turn, rest);
    }
    const work = this.channel.policy.pending(turn.view, turn.messages);
    if (work.kind === "answer") return this.respond(turn, work.text);
    // Answered already means the customer has an answer: done, not skipped ("left unanswered on
    // purpose"). A missing message cannot be answered at all.
    if (work.kind === "answered") await completeOutbox(sql, turn.outboxIds, "done", "already_answered");
    else await completeOutbox(sql, turn.outboxIds, "skipped", "part_missing");
    return "skipped";
  }

  /** The channel's commands (SMS keywords) finish their rows; what is left is answered as usual. */
  private async runCommands(turn: Turn<View>): Promise<{ rest: OutboxRow[]; outcome: TurnOutcome }> {
    const handle = this.channel.sender.commands;
    if (!handle) return { rest: turn.rows, outcome: "skipped" };
    const handled = await handle.call(this.channel.sender, turn.view, turn.messages);
    const finished = new Set<string>();
    for (const command of handled) {
      const ids = turn.rows.filter((r) => command.ids.includes(r.partId)).map((r) => r.id);
      await completeOutbox(this.deps.sql, ids, command.status, command.outcome);
      for (const id of command.ids) finished.add(id);
    }
    const outcome = handled.some((c) => c.replied) ? "answered" : "skipped";
    return { rest: turn.rows.filter((r) => !finished.has(r.partId)), outcome };
  }

  /**
   * A send of these rows began and was never recorded: the process died in between, or the provider never
   * answered. The channel tells whether the reply arrived; one that cannot tell never sends twice.
   */
  private async settledByEarlierSend(turn: Turn<View>): Promise<boolean> {
    const check = this.channel.sender.delivered;
    const reply = turn.rows.find((r) => r.reply !== null)?.reply ?? null;
    if (check && !(await check.call(this.channel.sender, turn.view, turn.messages, reply))) return false;
    const outcome = check ? "already_answered" : "send_unconfirmed";
    await completeOutbox(this.deps.sql, turn.outboxIds, "done", outcome);
    return true;
  }

  /**
   * Sends a reply with the idempotency record (and the reply) written first; a send that ended for good
   * without reaching the customer finishes the rows `skipped` with the channel's outcome.
   */
  private async deliver(turn: Turn<View>, reply: string, confident: boolean): Promise<TurnOutcome> {
    const { sql } = this.deps;
    await markSending(sql, turn.outboxIds, reply);
    const sent = await this.channel.sender.send(turn.view, reply);
    if (sent && "undelivered" in sent) {
      await completeOutbox(sql, turn.outboxIds, "skipped", sent.undelivered);
      return "skipped";
    }
    await recordAnswer(sql, turn.key, turn.outboxIds, confident);
    return "answered";
  }

  private async respond(turn: Turn<View>, text: string): Promise<TurnOutcome> {
    const { rules } = this.deps;
    const attempts = Math.max(...turn.rows.map((r) => r.attempts));
    const before = handoffBeforeTurn(text, attempts, rules);
    if (before) return this.handOff(turn, before, text);
    let result: TurnResult;
    try {
      result = await this.deps.engine.respond({
        identity: this.channel.policy.identity(turn.view, turn.key.conversationId),
        channel: this.channel.name,
        externalRef: turn.key.conversationId,
        message: text,
        tools: [HANDOFF_TOOL],
        // The pipeline writes this conversation's one conversation.processed line (receipt to reply, every
        // outcome, handoffs and skips too); a second from the engine would count the turn twice.
        logTurn: ignoreTurnLog,
      });
    } catch (error) {
      // A suspended tenant's channels answer nothing: its rows finish, unanswered, without a retry.
      if (error instanceof TenantSuspended || error instanceof UnknownTenant) {
        await completeOutbox(this.deps.sql, turn.outboxIds, "skipped", error.code);
        return "skipped";
      }
      const reason = handoffOnRefusal(error);
      if (reason) return this.handOff(turn, reason, text);
      throw error;
    }
    const after = handoffAfterTurn(result, turn.state.lowConfidenceAnswers, rules);
    if (after.handoff !== undefined) return this.handOff(turn, after.handoff, text);
    if (result.reply.trim()) return this.deliver(turn, result.reply, !after.uncertain);
    await recordAnswer(this.deps.sql, turn.key, turn.outboxIds, !after.uncertain);
    return "answered";
  }

  private handOff(turn: Turn<View>, reason: string, waiting?: string) {
    return handOff(this.deps, this.channel, turn, reason, waiting);
  }
}

const ignoreTurnLog = () => {};

const pendingOf = (r: OutboxRow): PendingMessage => ({ id: r.partId, text: r.body, via: r.replyVia });

/** The same turn, for some of its rows only. */
function narrowed<View>(turn: Turn<View>, rows: OutboxRow[]): Turn<View> {
  const ids = new Set(rows.map((r) => r.partId));
  return {
    ...turn,
    rows,
    messages: turn.messages.filter((m) => ids.has(m.id)),
    outboxIds: rows.map((r) => r.id),
  };
}
