import { randomUUID } from "node:crypto";
import type { Sql } from "../../db/client";
import {
  beginReply,
  type EscalationReplyRow,
  finishReply,
  forgetReply,
  lastInbound,
  resumeReply,
  saveAgentMessage,
} from "../../db/escalation-replies";
import type { EscalationRow } from "../../db/escalations";
import { findSession, findSessionByRef } from "../../db/sessions";
import { estimateTokens } from "../../ports/model-provider";
import { redactPii } from "../../redaction";
import type { PendingMessage, QueuedChannel, QueuedChannelName } from "./channel";

/** The channels a tenant's conversations are answered on (the inbound pipeline's `channelFor`). */
export interface AgentChannels {
  channelFor(name: QueuedChannelName, tenantId: string): Promise<QueuedChannel<unknown> | undefined>;
}

export interface AgentReply {
  /** The idempotency key the console's form made: the same id sends once, whatever the retries. */
  id: string;
  text: string;
  /** Who writes (the audit's actor). */
  author: string;
}

/** The send was refused or never confirmed: the HTTP edge answers 502 (`retryable`: the same id may try again). */
export class ReplyNotSent extends Error {
  constructor(
    readonly retryable: boolean,
    readonly upstream: string,
  ) {
    super(retryable ? `${upstream} refused the reply` : `${upstream} did not confirm the reply`);
    this.name = "ReplyNotSent";
  }
}

/**
 * A person's answer to an escalated conversation, sent to the customer on the channel they came from
 * through the same outbound adapter the bot's replies use (SMS on the tenant's number the customer
 * texted, Intercom as the tenant's admin, e-mail in the thread), with the idempotency record written
 * before the send as the pipeline does; the web chat's answer is stored, and the widget shows it on its
 * next read of the history. Either way the text joins the conversation's session as an `agent` message.
 * Runs in the tenant's scope.
 */
export class AgentReplies {
  constructor(
    private readonly deps: {
      sql: Sql;
      channels?: AgentChannels | undefined;
      /**
       * After how long a `pending` e-mail reply is taken over by a retry of its id (its attempt died): e-mail
       * records the Message-ID before Gmail is called and searches for it, so resuming never sends twice.
       * Other channels cannot tell, and a pending reply of theirs is never repeated. Default 60 s.
       */
      resumeAfterSeconds?: number | undefined;
    },
  ) {}

  async send(
    tenantId: string,
    escalation: EscalationRow,
    reply: AgentReply,
  ): Promise<{ row: EscalationReplyRow; duplicate: boolean }> {
    const { sql } = this.deps;
    const { row, created } = await beginReply(sql, {
      id: reply.id,
      escalationId: escalation.id,
      author: reply.author,
      channel: escalation.channel,
    });
    if (!created && !(await this.resumable(row))) return { row, duplicate: true };
    const delivered =
      escalation.channel === "web"
        ? { identityId: undefined as string | undefined }
        : await this.deliver(tenantId, escalation, reply);
    if ("undelivered" in delivered) {
      const failed = await finishReply(sql, reply.id, { status: "failed", outcome: delivered.undelivered });
      return { row: failed ?? row, duplicate: false };
    }
    const sent = await sql.begin(async (tx) => {
      const scoped = tx as unknown as Sql;
      await this.remember(scoped, escalation, reply.text, delivered.identityId);
      return finishReply(scoped, reply.id, { status: "sent" });
    });
    return { row: sent ?? row, duplicate: false };
  }

  /** An e-mail reply whose attempt died: this retry takes it over (one retry only, after a while). */
  private async resumable(row: EscalationReplyRow): Promise<boolean> {
    if (row.status !== "pending" || row.channel !== "email") return false;
    return !!(await resumeReply(this.deps.sql, row.id, this.deps.resumeAfterSeconds ?? 60));
  }

  /** Through the channel's sender; a refusal with a status sent nothing, so its record goes. */
  private async deliver(
    tenantId: string,
    escalation: EscalationRow,
    reply: AgentReply,
  ): Promise<{ identityId: string } | { undelivered: string }> {
    const { sql, channels } = this.deps;
    const channel = await channels?.channelFor(escalation.channel as QueuedChannelName, tenantId);
    if (!channel) return { undelivered: "channel_not_connected" };
    const last = await lastInbound(sql, escalation.channel, escalation.conversationId);
    const messages: PendingMessage[] = last ? [{ id: last.partId, text: null, via: last.replyVia }] : [];
    try {
      const opened = await channel.sender.open(escalation.conversationId, messages);
      const identityId = channel.policy.identity(opened.view, escalation.conversationId).id;
      const { sender } = channel;
      const sent = sender.agentReply
        ? await sender.agentReply(opened.view, { id: reply.id, text: reply.text })
        : await sender.send(opened.view, reply.text);
      if (sent && "undelivered" in sent) return sent;
      return { identityId };
    } catch (error) {
      const failure = channel.sender.failure(error);
      if (!failure) throw error;
      if (failure.status > 0) await forgetReply(sql, reply.id);
      throw new ReplyNotSent(failure.status > 0, failure.upstream);
    }
  }

  /** The text in the conversation's session (a new one when a handoff came before any turn). */
  private async remember(sql: Sql, escalation: EscalationRow, text: string, identityId: string | undefined) {
    const existing = escalation.sessionId
      ? await findSession(sql, escalation.sessionId)
      : await findSessionByRef(sql, escalation.channel, escalation.conversationId);
    const sessionId = existing?.id ?? randomUUID();
    const identity = existing?.identityId ?? identityId;
    // A web conversation whose session retention removed: nothing to add the text to.
    if (!identity) return;
    await saveAgentMessage(sql, {
      sessionId,
      identityId: identity,
      channel: escalation.channel,
      externalRef: existing ? null : escalation.conversationId,
      content: redactPii(text).text,
      tokens: estimateTokens(text),
    });
  }
}
