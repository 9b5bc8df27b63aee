import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client";
import {
  acceptNotification,
  completeOutbox,
  conversationState,
  countLowConfidence,
  dispatchableOutbox,
  findOutbox,
  getCursor,
  leasePending,
  lockConversation,
  type OutboxRow,
  queueMessages,
  releaseOutbox,
  rememberContact,
  setConversationMode,
  setCursor,
  unlockConversation,
} from "../db/intercom";
import type { Tier } from "../domain/identity";
import type { TurnResult } from "../domain/turn";
import type { TurnEngine } from "../engine/conversation-engine";
import {
  HANDOFF_TOOL,
  type HandoffRules,
  handoffAfterTurn,
  handoffBeforeTurn,
  handoffOnRefusal,
} from "../engine/handoff-policy";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import {
  IntercomApiError,
  type IntercomConversation,
  type IntercomGateway,
  IntercomRateLimited,
} from "../ports/intercom";
import { contactIdFromWire, partsFromWire } from "../ports/intercom-wire";
import type { TaskQueue } from "../ports/task-queue";
import { toIntercomHtml } from "./html";
import { type HandoffSettings, IntercomHandoff } from "./intercom-handoff";
import { customerParts, lastAdminAuthor, unansweredParts } from "./intercom-parts";

export interface BridgeSettings {
  /** The bot's admin id: replies are posted as it, and its own parts never trigger a reply. */
  adminId: string;
  customerTier: Tier;
  leaseSeconds: number;
  maxAttempts: number;
  handoff: HandoffSettings;
  /** How far back the first poll looks. */
  pollLookbackSeconds: number;
  pollLimit: number;
}

export interface Notification {
  id: string;
  topic: string;
  item: Record<string, unknown>;
}

const CURSOR_KEY = "intercom.poll.updated_at";

type Processed = "answered" | "handoff" | "skipped" | "retry" | "busy" | "noop";

/** What a notification asks of the bridge: customer messages to answer, or a person who took over. */
export interface NotificationWork {
  conversationId: string | null;
  /** Customer parts to queue for an answer. */
  partIds: string[];
  humanTookOver: boolean;
}

/** Reads a notification (pure): which customer parts to answer, and whether a person took over. */
export function notificationWork(n: Notification, botAdminId: string): NotificationWork {
  const id = n.item.id;
  const conversationId = typeof id === "string" || typeof id === "number" ? String(id) : null;
  const none = { conversationId, partIds: [], humanTookOver: false };
  if (!conversationId) return none;
  if (n.topic === "conversation.user.created" || n.topic === "conversation.user.replied") {
    return { ...none, partIds: customerParts(partsFromWire(n.item), botAdminId).map((p) => p.id) };
  }
  if (n.topic === "conversation.admin.assigned") {
    const assignee = n.item.admin_assignee_id;
    const other = assignee !== null && assignee !== undefined && String(assignee) !== botAdminId;
    return { ...none, humanTookOver: other };
  }
  if (n.topic === "conversation.admin.replied") {
    const author = lastAdminAuthor(partsFromWire(n.item));
    return { ...none, humanTookOver: Boolean(author) && author !== botAdminId };
  }
  return none;
}

/** Why rows of this conversation are not answered at all: closed, or a person has it. */
function skipReason(
  conversation: IntercomConversation,
  mode: "bot" | "human",
  botAdminId: string,
): "closed" | "human" | undefined {
  if (!conversation.open) return "closed";
  const humanAssigned = conversation.adminAssigneeId !== null && conversation.adminAssigneeId !== botAdminId;
  return mode === "human" || humanAssigned ? "human" : undefined;
}

/**
 * Intercom as one more channel of the conversation engine. Webhooks and the poller only record work
 * (outbox rows, in the same transaction as the delivery id); tasks do it, one conversation at a time,
 * and a row is finished only once its answer is posted (or it is deliberately skipped).
 */
export class IntercomBridge {
  private queue: TaskQueue | undefined;
  private readonly handoff: IntercomHandoff;
  private readonly rules: HandoffRules;

  constructor(
    private readonly deps: {
      sql: Sql;
      gateway: IntercomGateway;
      engine: TurnEngine;
      settings: BridgeSettings;
      log: Logger;
    },
  ) {
    const { sql, gateway, settings, log } = deps;
    this.handoff = new IntercomHandoff({
      sql,
      gateway,
      adminId: settings.adminId,
      settings: settings.handoff,
      log,
    });
    this.rules = { ...settings.handoff, maxAttempts: settings.maxAttempts };
  }

  /** The queue calls back into `process`, so it is attached after construction. */
  attachQueue(queue: TaskQueue) {
    this.queue = queue;
  }

  async accept(n: Notification): Promise<{ status: "accepted" | "duplicate" | "ignored"; queued: number }> {
    const work = notificationWork(n, this.deps.settings.adminId);
    const { conversationId } = work;
    const messages = conversationId
      ? work.partIds.map((partId) => ({ id: randomUUID(), conversationId, partId }))
      : [];
    const rows = await acceptNotification(
      this.deps.sql,
      { id: n.id, topic: n.topic },
      messages,
      conversationId
        ? { id: conversationId, contactId: contactIdFromWire(n.item), humanTookOver: work.humanTookOver }
        : null,
    );
    if (rows === null) return { status: "duplicate", queued: 0 };
    const closed = n.topic === "conversation.admin.closed";
    // A closed conversation is handed back: the bot answers whatever the customer writes next.
    if (conversationId && closed) await setConversationMode(this.deps.sql, conversationId, "bot");
    await this.dispatch(rows);
    const handled = messages.length > 0 || work.humanTookOver || closed;
    return { status: handled ? "accepted" : "ignored", queued: rows.length };
  }

  private async dispatch(rows: OutboxRow[]) {
    for (const row of rows) {
      // A failed enqueue loses nothing: the row is pending and the next sweep dispatches it.
      await this.queue?.enqueue(row.id, { attempt: row.attempts + 1 }).catch((error: unknown) => {
        this.deps.log.warn(
          { event: "outbox.enqueue_failed", outboxId: row.id, error },
          "enqueue failed; the sweep will retry",
        );
      });
    }
  }

  /** Cloud Scheduler (or the local timer): catch up on missed messages, then re-dispatch stale work. */
  async poll(now = new Date()): Promise<{ conversations: number; queued: number; redispatched: number }> {
    const { sql, gateway, settings } = this.deps;
    const cursor = Number(
      (await getCursor(sql, CURSOR_KEY)) ?? Math.floor(now.getTime() / 1000) - settings.pollLookbackSeconds,
    );
    // Overlap a minute: conversations updated in the same second as the cursor are not missed.
    const found = await gateway.searchOpenConversations(cursor - 60, settings.pollLimit);
    let queued = 0;
    let newest = cursor;
    for (const summary of found) {
      newest = Math.max(newest, summary.updatedAt);
      if (summary.waitingSince === null) continue;
      queued += await this.catchUp(summary.id);
    }
    await setCursor(sql, CURSOR_KEY, String(newest));
    const stale = await dispatchableOutbox(sql, 100);
    await this.dispatch(stale);
    return { conversations: found.length, queued, redispatched: stale.length };
  }

  /** Queues (and dispatches) a conversation's unanswered customer messages; how many were new. */
  private async catchUp(conversationId: string): Promise<number> {
    const { sql, gateway, settings } = this.deps;
    const state = await conversationState(sql, conversationId);
    if (state.mode === "human") return 0;
    const conversation = await gateway.getConversation(conversationId);
    await this.rememberContact(conversation, state.contactId);
    const rows = await queueMessages(
      sql,
      unansweredParts(conversation, settings.adminId).map((p) => ({
        id: randomUUID(),
        conversationId: conversation.id,
        partId: p.id,
      })),
    );
    await this.dispatch(rows);
    return rows.length;
  }

  /** One task: answer every pending customer message of the row's conversation. */
  async process(outboxId: string): Promise<Processed> {
    const { sql, settings, log } = this.deps;
    const row = await findOutbox(sql, outboxId);
    if (row?.status !== "pending") return "noop";
    const holder = randomUUID();
    if (!(await lockConversation(sql, row.conversationId, holder, settings.leaseSeconds))) {
      // Another task is answering this conversation; look again shortly (it may answer this row too).
      await this.queue?.enqueue(outboxId, {
        attempt: row.attempts + 1,
        notBefore: new Date(Date.now() + 5000),
      });
      return "busy";
    }
    const started = performance.now();
    let rows: OutboxRow[] = [];
    try {
      rows = await leasePending(sql, row.conversationId, settings.leaseSeconds);
      if (rows.length === 0) return "noop";
      const outcome = await this.answer(row.conversationId, rows);
      log.info(
        {
          event: LOG_EVENT.conversationProcessed,
          channel: "intercom",
          outcome,
          conversationId: row.conversationId,
          messages: rows.length,
          durationMs: Math.round(performance.now() - started),
        },
        `intercom conversation ${outcome}`,
      );
      return outcome;
    } catch (error) {
      await this.retryLater(row, rows, error);
      return "retry";
    } finally {
      await unlockConversation(sql, row.conversationId, holder);
    }
  }

  /** Gives the rows back with a later retry (Intercom's reset time after a 429, else backoff). */
  private async retryLater(row: OutboxRow, rows: OutboxRow[], error: unknown) {
    const attempts = Math.max(...rows.map((r) => r.attempts), row.attempts);
    const retryAt =
      error instanceof IntercomRateLimited
        ? error.resetAt
        : new Date(Date.now() + Math.min(300_000, 2 ** attempts * 1000));
    const upstream =
      error instanceof IntercomRateLimited || error instanceof IntercomApiError ? "intercom" : "internal";
    const status =
      error instanceof IntercomRateLimited ? 429 : error instanceof IntercomApiError ? error.status : 0;
    this.deps.log.warn(
      {
        event: LOG_EVENT.upstreamError,
        upstream,
        status,
        conversationId: row.conversationId,
        attempts,
        retryAt,
        error,
      },
      "intercom conversation not answered yet; will retry",
    );
    await releaseOutbox(
      this.deps.sql,
      rows.map((r) => r.id),
      retryAt,
      error instanceof Error ? error.message : String(error),
    );
    await this.queue?.enqueue(row.id, { attempt: attempts + 1, notBefore: retryAt }).catch(() => {});
  }

  private async answer(conversationId: string, rows: OutboxRow[]): Promise<Processed> {
    const { sql, gateway, settings } = this.deps;
    const ids = rows.map((r) => r.id);
    const conversation = await gateway.getConversation(conversationId);
    const state = await conversationState(sql, conversationId);
    await this.rememberContact(conversation, state.contactId);
    const skip = skipReason(conversation, state.mode, settings.adminId);
    if (skip) {
      await completeOutbox(sql, ids, "skipped", skip);
      return "skipped";
    }
    const text = await this.pendingText(conversation, rows);
    if (text === undefined) return "skipped";
    const attempts = Math.max(...rows.map((r) => r.attempts));
    const before = handoffBeforeTurn(text, attempts, this.rules);
    if (before) return this.handOff(conversation, ids, before);
    let result: TurnResult;
    try {
      result = await this.respond(conversation, text);
    } catch (error) {
      const reason = handoffOnRefusal(error);
      if (reason) return this.handOff(conversation, ids, reason);
      throw error;
    }
    const after = handoffAfterTurn(result, state.lowConfidenceAnswers, this.rules);
    if (after.handoff !== undefined) return this.handOff(conversation, ids, after.handoff);
    if (result.reply.trim()) {
      await gateway.reply(conversation.id, {
        adminId: settings.adminId,
        html: toIntercomHtml(result.reply),
        kind: "comment",
      });
    }
    await countLowConfidence(sql, conversation.id, !after.uncertain);
    await completeOutbox(sql, ids, "done", "answered");
    return "answered";
  }

  /**
   * The rows' customer messages that still wait for an answer, as one text; undefined (and the rows
   * finished) when none does.
   */
  private async pendingText(
    conversation: IntercomConversation,
    rows: OutboxRow[],
  ): Promise<string | undefined> {
    const wanted = new Set(rows.map((r) => r.partId));
    const unanswered = new Set(unansweredParts(conversation, this.deps.settings.adminId).map((p) => p.id));
    const parts = conversation.parts.filter((p) => wanted.has(p.id));
    // Answered already (a crash after the reply was posted, or a person replied): never answer twice.
    const open = parts.filter((p) => unanswered.has(p.id));
    if (open.length > 0) {
      return open
        .map((p) => p.body.trim())
        .filter(Boolean)
        .join("\n");
    }
    // Answered already means the customer has an answer: done, not skipped (skipped is "left unanswered
    // on purpose"). A missing part cannot be answered at all.
    const ids = rows.map((r) => r.id);
    if (parts.length === 0) await completeOutbox(this.deps.sql, ids, "skipped", "part_missing");
    else await completeOutbox(this.deps.sql, ids, "done", "already_answered");
    return undefined;
  }

  private respond(conversation: IntercomConversation, text: string): Promise<TurnResult> {
    return this.deps.engine.respond({
      identity: {
        id: `intercom:${conversation.contactId ?? conversation.id}`,
        kind: "intercom",
        tier: this.deps.settings.customerTier,
      },
      channel: "intercom",
      externalRef: conversation.id,
      message: text,
      tools: [HANDOFF_TOOL],
    });
  }

  private async handOff(
    conversation: IntercomConversation,
    ids: string[],
    reason: string,
  ): Promise<"handoff"> {
    await this.handoff.run(conversation, reason);
    await completeOutbox(this.deps.sql, ids, "done", "handoff");
    return "handoff";
  }

  /** Whose conversation this is, recorded once, so erasing that contact reaches everything kept of it. */
  private async rememberContact(conversation: IntercomConversation, known: string | null) {
    if (conversation.contactId && conversation.contactId !== known)
      await rememberContact(this.deps.sql, conversation.id, conversation.contactId);
  }
}
