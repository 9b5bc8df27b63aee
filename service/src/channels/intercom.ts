import { randomUUID } from "node:crypto";
import type { Tier } from "../config";
import type { Sql } from "../db/client";
import {
  acceptNotification,
  completeHandoff,
  completeOutbox,
  conversationState,
  countLowConfidence,
  dispatchableOutbox,
  findOutbox,
  getCursor,
  handoffStep,
  leasePending,
  lockConversation,
  type OutboxRow,
  openHandoff,
  queueMessages,
  releaseOutbox,
  rememberContact,
  setConversationMode,
  setCursor,
  unlockConversation,
} from "../db/intercom";
import { listMessages } from "../db/messages";
import { findSessionByRef } from "../db/sessions";
import type { ConversationEngine, TurnResult } from "../engine/conversation-engine";
import { AppError } from "../errors";
import type { Logger } from "../logger";
import {
  IntercomApiError,
  type IntercomConversation,
  type IntercomGateway,
  type IntercomPart,
  IntercomRateLimited,
} from "../ports/intercom";
import type { FunctionDeclaration } from "../ports/model-provider";
import type { TaskQueue } from "../ports/task-queue";
import { redactPii } from "../redaction";
import { type BusinessHours, isWithinBusinessHours } from "./business-hours";
import { toIntercomHtml } from "./html";

export interface HandoffSettings {
  /** Who gets the conversation; unassigned (left in the inbox) when absent. */
  assignee?: { type: "admin" | "team"; id: string } | undefined;
  tag: string;
  message: string;
  afterHoursMessage: string;
  businessHours: BusinessHours;
  /** Customer asks for a person. */
  requestPattern: RegExp;
  /** Subjects that always go to a person (refunds, legal, …); undefined: none. */
  topicPattern?: RegExp | undefined;
  /** Hand off instead of sending the Nth answer in a row the model was not confident about. */
  lowConfidenceLimit: number;
}

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

const CUSTOMER_AUTHORS = new Set(["user", "lead", "contact"]);
const CURSOR_KEY = "intercom.poll.updated_at";

export const HANDOFF_TOOL: FunctionDeclaration = {
  name: "handoff",
  description:
    "Hand the conversation to a human support agent. Call it when the customer asks for a person, when the request needs an account action you cannot do, or when you are not sure your answer is right (reason 'uncertain', together with your best answer).",
  parameters: {
    type: "object",
    properties: {
      reason: {
        type: "string",
        enum: ["customer_request", "cannot_help", "sensitive", "uncertain"],
        description: "Why a person should take over.",
      },
    },
    required: ["reason"],
  },
};

type Processed = "answered" | "handoff" | "skipped" | "retry" | "busy" | "noop";

/**
 * Intercom as one more channel of the conversation engine. Webhooks and the poller only record work
 * (outbox rows, in the same transaction as the delivery id); tasks do it, one conversation at a time,
 * and a row is finished only once its answer is posted (or it is deliberately skipped).
 */
export class IntercomBridge {
  private queue: TaskQueue | undefined;

  constructor(
    private readonly deps: {
      sql: Sql;
      gateway: IntercomGateway;
      engine: ConversationEngine;
      settings: BridgeSettings;
      log: Logger;
    },
  ) {}

  /** The queue calls back into `process`, so it is attached after construction. */
  attachQueue(queue: TaskQueue) {
    this.queue = queue;
  }

  async accept(n: Notification): Promise<{ status: "accepted" | "duplicate" | "ignored"; queued: number }> {
    const { settings } = this.deps;
    const conversationId =
      typeof n.item.id === "string" || typeof n.item.id === "number" ? String(n.item.id) : null;
    let messages: { id: string; conversationId: string; partId: string }[] = [];
    let humanTookOver: string | null = null;

    if (
      conversationId &&
      (n.topic === "conversation.user.created" || n.topic === "conversation.user.replied")
    ) {
      messages = customerParts(notificationParts(n.item), settings.adminId).map((p) => ({
        id: randomUUID(),
        conversationId,
        partId: p.id,
      }));
    } else if (conversationId && n.topic === "conversation.admin.assigned") {
      const assignee = n.item.admin_assignee_id;
      if (assignee !== null && assignee !== undefined && String(assignee) !== settings.adminId)
        humanTookOver = conversationId;
    } else if (conversationId && n.topic === "conversation.admin.replied") {
      const author = lastAdminAuthor(notificationParts(n.item));
      if (author && author !== settings.adminId) humanTookOver = conversationId;
    }

    const rows = await acceptNotification(
      this.deps.sql,
      { id: n.id, topic: n.topic },
      messages,
      conversationId
        ? {
            id: conversationId,
            contactId: notificationContactId(n.item),
            humanTookOver: humanTookOver !== null,
          }
        : null,
    );
    if (rows === null) return { status: "duplicate", queued: 0 };
    if (conversationId && n.topic === "conversation.admin.closed") {
      // A closed conversation is handed back: the bot answers whatever the customer writes next.
      await setConversationMode(this.deps.sql, conversationId, "bot");
    }
    await this.dispatch(rows);
    const handled = messages.length > 0 || humanTookOver !== null || n.topic === "conversation.admin.closed";
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
      const state = await conversationState(sql, summary.id);
      if (state.mode === "human") continue;
      const conversation = await gateway.getConversation(summary.id);
      await this.rememberContact(conversation, state.contactId);
      const rows = await queueMessages(
        sql,
        unansweredParts(conversation, settings.adminId).map((p) => ({
          id: randomUUID(),
          conversationId: conversation.id,
          partId: p.id,
        })),
      );
      queued += rows.length;
      await this.dispatch(rows);
    }
    await setCursor(sql, CURSOR_KEY, String(newest));
    const stale = await dispatchableOutbox(sql, 100);
    await this.dispatch(stale);
    return { conversations: found.length, queued, redispatched: stale.length };
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
          event: "conversation.processed",
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
      const attempts = Math.max(...rows.map((r) => r.attempts), row.attempts);
      const retryAt =
        error instanceof IntercomRateLimited
          ? error.resetAt
          : new Date(Date.now() + Math.min(300_000, 2 ** attempts * 1000));
      const upstream =
        error instanceof IntercomRateLimited || error instanceof IntercomApiError ? "intercom" : "internal";
      const status =
        error instanceof IntercomRateLimited ? 429 : error instanceof IntercomApiError ? error.status : 0;
      log.warn(
        {
          event: "upstream.error",
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
        sql,
        rows.map((r) => r.id),
        retryAt,
        error instanceof Error ? error.message : String(error),
      );
      await this.queue?.enqueue(outboxId, { attempt: attempts + 1, notBefore: retryAt }).catch(() => {});
      return "retry";
    } finally {
      await unlockConversation(sql, row.conversationId, holder);
    }
  }

  private async answer(conversationId: string, rows: OutboxRow[]): Promise<Processed> {
    const { sql, gateway, engine, settings } = this.deps;
    const ids = rows.map((r) => r.id);
    const conversation = await gateway.getConversation(conversationId);
    const state = await conversationState(sql, conversationId);
    await this.rememberContact(conversation, state.contactId);

    const humanAssigned =
      conversation.adminAssigneeId !== null && conversation.adminAssigneeId !== settings.adminId;
    if (!conversation.open || state.mode === "human" || humanAssigned) {
      await completeOutbox(sql, ids, "skipped", !conversation.open ? "closed" : "human");
      return "skipped";
    }

    const wanted = new Set(rows.map((r) => r.partId));
    const unanswered = new Set(unansweredParts(conversation, settings.adminId).map((p) => p.id));
    const parts = conversation.parts.filter((p) => wanted.has(p.id));
    // Answered already (a crash after the reply was posted, or a person replied): never answer twice.
    const open = parts.filter((p) => unanswered.has(p.id));
    if (open.length === 0) {
      // Answered already means the customer has an answer: done, not skipped (skipped is "left unanswered
      // on purpose"). A missing part cannot be answered at all.
      if (parts.length === 0) await completeOutbox(sql, ids, "skipped", "part_missing");
      else await completeOutbox(sql, ids, "done", "already_answered");
      return "skipped";
    }

    const text = open
      .map((p) => p.body.trim())
      .filter(Boolean)
      .join("\n");
    const maxAttempts = Math.max(...rows.map((r) => r.attempts));
    const asked = settings.handoff.requestPattern.test(text);
    const topic = settings.handoff.topicPattern?.test(text) ?? false;
    if (asked || topic || maxAttempts > settings.maxAttempts) {
      await this.handoff(conversation, asked ? "customer_request" : topic ? "topic" : "processing_failed");
      await completeOutbox(sql, ids, "done", "handoff");
      return "handoff";
    }

    let result: TurnResult;
    try {
      result = await engine.respond({
        identity: {
          id: `intercom:${conversation.contactId ?? conversation.id}`,
          kind: "intercom",
          tier: settings.customerTier,
        },
        channel: "intercom",
        externalRef: conversation.id,
        message: text,
        tools: [HANDOFF_TOOL],
      });
    } catch (error) {
      if (error instanceof AppError && error.code === "budget_exceeded") {
        await this.handoff(conversation, "budget_exhausted");
        await completeOutbox(sql, ids, "done", "handoff");
        return "handoff";
      }
      throw error;
    }

    const call = result.functionCalls.find((c) => c.name === HANDOFF_TOOL.name);
    const callReason = typeof call?.args.reason === "string" ? call.args.reason : "cannot_help";
    const uncertain = !result.confident || (call !== undefined && callReason === "uncertain");
    if (result.outcome === "fallback" || (call && callReason !== "uncertain")) {
      await this.handoff(
        conversation,
        result.outcome === "fallback" ? "model_unavailable" : `model_${callReason}`,
      );
      await completeOutbox(sql, ids, "done", "handoff");
      return "handoff";
    }
    if (uncertain && state.lowConfidenceAnswers + 1 >= settings.handoff.lowConfidenceLimit) {
      await this.handoff(conversation, "low_confidence");
      await completeOutbox(sql, ids, "done", "handoff");
      return "handoff";
    }
    if (result.reply.trim()) {
      await gateway.reply(conversation.id, {
        adminId: settings.adminId,
        html: toIntercomHtml(result.reply),
        kind: "comment",
      });
    }
    await countLowConfidence(sql, conversation.id, !uncertain);
    await completeOutbox(sql, ids, "done", "answered");
    return "answered";
  }

  /** Whose conversation this is, recorded once, so erasing that contact reaches everything kept of it. */
  private async rememberContact(conversation: IntercomConversation, known: string | null) {
    if (conversation.contactId && conversation.contactId !== known)
      await rememberContact(this.deps.sql, conversation.id, conversation.contactId);
  }

  /**
   * Customer message, internal note with a summary, tag, assignment; then the bot stays silent. Each step
   * is recorded, so a handoff interrupted by an error resumes where it stopped.
   */
  async handoff(conversation: IntercomConversation, reason: string) {
    const { sql, gateway, settings, log } = this.deps;
    const h = settings.handoff;
    const record = await openHandoff(sql, conversation.id, reason);
    const step = async (name: string, fn: () => Promise<void>) => {
      if (record.steps.includes(name)) return;
      await fn();
      await handoffStep(sql, record.id, name);
      record.steps.push(name);
    };
    await step("message", () =>
      gateway.reply(conversation.id, {
        adminId: settings.adminId,
        kind: "comment",
        html: toIntercomHtml(
          isWithinBusinessHours(h.businessHours, new Date()) ? h.message : h.afterHoursMessage,
        ),
      }),
    );
    await step("note", async () =>
      gateway.reply(conversation.id, {
        adminId: settings.adminId,
        kind: "note",
        html: await this.noteFor(conversation, reason),
      }),
    );
    await step("tag", () => gateway.tag(conversation.id, { adminId: settings.adminId, tagName: h.tag }));
    if (h.assignee) {
      const assignee = h.assignee;
      await step("assign", () =>
        gateway.assign(conversation.id, {
          adminId: settings.adminId,
          assigneeType: assignee.type,
          assigneeId: assignee.id,
        }),
      );
    }
    await setConversationMode(sql, conversation.id, "human");
    await completeHandoff(sql, record.id);
    log.info(
      { event: "handoff", reason, conversationId: conversation.id },
      `conversation handed to a person (${reason})`,
    );
  }

  private async noteFor(conversation: IntercomConversation, reason: string): Promise<string> {
    const session = await findSessionByRef(this.deps.sql, "intercom", conversation.id);
    const recent = session ? await listMessages(this.deps.sql, session.id, { limit: 6 }) : [];
    const customer = conversation.parts
      .filter((p) => CUSTOMER_AUTHORS.has(p.authorType))
      .slice(-3)
      .map((p) => redactPii(p.body).text);
    const lines = [
      `Switchboard handed this conversation to a person. Reason: ${reason.replace(/_/g, " ")}.`,
      session?.summary ? `Summary: ${session.summary}` : "",
      recent.length
        ? `Last exchange:\n${recent.map((m) => `${m.role === "user" ? "Customer" : "Bot"}: ${m.content.slice(0, 300)}`).join("\n")}`
        : customer.length
          ? `Customer wrote:\n${customer.map((c) => `- ${c.slice(0, 300)}`).join("\n")}`
          : "",
    ];
    return toIntercomHtml(lines.filter(Boolean).join("\n\n"));
  }
}

/** Parts carried by a webhook item: the first message (`source`) and `conversation_parts`. */
function notificationParts(item: Record<string, unknown>): IntercomPart[] {
  const parts: IntercomPart[] = [];
  const source = item.source as Record<string, unknown> | undefined;
  if (source && typeof source === "object") {
    const author = (source.author ?? {}) as Record<string, unknown>;
    parts.push({
      id: String(source.id ?? `source-${String(item.id)}`),
      partType: "source",
      body: String(source.body ?? ""),
      authorType: String(author.type ?? ""),
      authorId: String(author.id ?? ""),
      createdAt: Number(item.created_at ?? 0),
    });
  }
  const list = (item.conversation_parts as { conversation_parts?: unknown } | undefined)?.conversation_parts;
  for (const p of Array.isArray(list) ? (list as Record<string, unknown>[]) : []) {
    const author = (p.author ?? {}) as Record<string, unknown>;
    parts.push({
      id: String(p.id ?? ""),
      partType: String(p.part_type ?? ""),
      body: String(p.body ?? ""),
      authorType: String(author.type ?? ""),
      authorId: String(author.id ?? ""),
      createdAt: Number(p.created_at ?? 0),
    });
  }
  return parts.filter((p) => p.id !== "");
}

/** The customer of a conversation item: its first contact, as the adapter reads a fetched conversation. */
function notificationContactId(item: Record<string, unknown>): string | null {
  const list = (item.contacts as { contacts?: unknown } | undefined)?.contacts;
  const first = Array.isArray(list) ? (list[0] as { id?: unknown } | undefined) : undefined;
  return typeof first?.id === "string" || typeof first?.id === "number" ? String(first.id) : null;
}

/** Messages written by the customer (never by the bot's own admin: no self-reply loops). */
function customerParts(parts: IntercomPart[], botAdminId: string): IntercomPart[] {
  return parts.filter(
    (p) =>
      CUSTOMER_AUTHORS.has(p.authorType) &&
      p.authorId !== botAdminId &&
      (p.partType === "source" || p.partType === "comment" || p.partType === "open") &&
      p.body.trim() !== "",
  );
}

/** The customer's messages after the last admin comment (bot or person): what still waits for an answer. */
export function unansweredParts(conversation: IntercomConversation, botAdminId: string): IntercomPart[] {
  let lastAdmin = -1;
  conversation.parts.forEach((p, i) => {
    if ((p.authorType === "admin" || p.authorType === "bot") && p.partType === "comment") lastAdmin = i;
  });
  return customerParts(conversation.parts.slice(lastAdmin + 1), botAdminId);
}

function lastAdminAuthor(parts: IntercomPart[]): string | null {
  const admin = parts.filter((p) => p.authorType === "admin" && p.partType === "comment").at(-1);
  return admin?.authorId ?? null;
}
