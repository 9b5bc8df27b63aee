import type { Sql } from "../../db/client";
import {
  failOutbound,
  inboundMessages,
  markOutbound,
  type OutboundEmail,
  outboundAnswers,
  recordOutbound,
} from "../../db/email-messages";
import type { BusinessHours } from "../../domain/business-hours";
import { handoffNoticeText } from "../../domain/handoff-notice";
import type { Logger } from "../../logger";
import { LOG_EVENT, UPSTREAM } from "../../observability/log-events";
import { GmailApiError, GmailAuthRevoked } from "../../ports/gmail";
import type {
  ChannelSender,
  HandoffStep,
  OpenedConversation,
  PendingMessage,
  Undelivered,
  UpstreamFailure,
} from "../pipeline/channel";
import { applyLabels, type LabelKind } from "./labels";
import type { MailboxAccess, OpenMailbox } from "./mailbox-access";
import { type Audience, type Outgoing, outgoing } from "./outbound";
import { composeReply } from "./reply-mime";
import type { EmailSettings } from "./settings";
import { answering, type EmailView, parseConversationId } from "./view";

export interface EmailChannelDeps {
  sql: Sql;
  log: Logger;
  /** The tenant whose mailboxes these are (the pipeline runs the turn in its scope). */
  tenantId: string;
  settings: EmailSettings;
  /** Opens the tenant's mailboxes with their Gmail API, and hears of a revoked grant. */
  mailboxes: Pick<MailboxAccess, "open" | "revoked">;
  /** The tenant's support hours, for the handoff notice's promise of when; absent: no promise. */
  businessHours?(): BusinessHours | undefined;
  now?(): Date;
}

/** The mailbox is gone, disconnected, or its grant was revoked: nothing can be sent from it. */
const DISCONNECTED: Undelivered = { undelivered: "mailbox_disconnected" };

/**
 * The e-mail channel's outbound side for one tenant: replies in the customer's Gmail thread (or drafts
 * for an agent, in draft mode), each recorded with its Message-ID before Gmail is called, so a retry after
 * a crash searches the mailbox for it and never sends twice; labels that show agents what the bot did.
 */
export class EmailSender implements ChannelSender<EmailView> {
  constructor(private readonly deps: EmailChannelDeps) {}

  async open(conversationId: string, messages: PendingMessage[]): Promise<OpenedConversation<EmailView>> {
    const { sql, tenantId, settings } = this.deps;
    const key = parseConversationId(conversationId) ?? { connectionId: "", threadId: conversationId };
    const view: EmailView = {
      ...{ tenantId, ...key, settings, mailbox: undefined, inbound: [], answers: [] },
      ...{ contactId: null, notInMailbox: new Set<string>() },
    };
    if (!key.connectionId) return { view, contactId: null };
    const ids = messages.map((m) => m.id);
    view.inbound = await inboundMessages(sql, key.connectionId, key.threadId, ids);
    view.answers = await outboundAnswers(sql, key.connectionId, ids);
    view.contactId = view.inbound.findLast((m) => m.contactId)?.contactId ?? null;
    view.mailbox = await this.deps.mailboxes.open(tenantId, key.connectionId);
    return { view, contactId: view.contactId };
  }

  async send(view: EmailView, reply: string): Promise<Undelivered | undefined> {
    const inbound = answering(view);
    if (!inbound) return { undelivered: "part_missing" };
    const kind = view.settings.mode === "draft" ? "draft" : "answered";
    return this.write(view, { text: reply, audience: "configured" }, kind);
  }

  /**
   * A person's answer to an escalated thread (the console), in the thread of its newest message, under a
   * Message-ID derived from the reply's id: its own outbound record, so the bot's one answer per inbound
   * message is not spent, and a retry of the same reply searches the mailbox instead of sending again.
   * Always sent, never drafted: draft mode is for the bot's answers, which an agent reviews; this one an
   * agent wrote and chose to send.
   */
  agentReply(view: EmailView, reply: { id: string; text: string }): Promise<Undelivered | undefined> {
    const what = { text: reply.text, audience: "configured" as const, purpose: "agent_reply" as const };
    return this.write(view, { ...what, key: `agent-reply/${reply.id}` }, "written");
  }

  /**
   * A send began and was never recorded. Its record (written before Gmail was called) says what to look
   * for: none, the crash came first (false: send); sent or drafted (true); still `sending`, Gmail is
   * searched for its Message-ID: found, it is finished now (true), else it never went out (false).
   */
  async delivered(view: EmailView): Promise<boolean> {
    if (view.answers.some((a) => a.gmailId !== null)) return true;
    const mailbox = view.mailbox;
    if (!mailbox) return false;
    for (const answer of view.answers.filter((a) => a.status === "sending"))
      if (await this.reconcile(view, mailbox, answer)) return true;
    return false;
  }

  handoffSteps(view: EmailView): HandoffStep[] {
    return [
      // Safe to run again: its outbound record (Message-ID decided first) makes a second run find the
      // first one's mail in the mailbox instead of sending it again, so a 429 mid-send is retried, not lost.
      { name: "email_notice", repeatable: true, run: () => this.notice(view) },
      { name: "email_handoff_label", repeatable: true, run: () => this.handoffLabel(view) },
    ];
  }

  failure(error: unknown): UpstreamFailure | undefined {
    if (error instanceof GmailApiError)
      return { upstream: UPSTREAM.gmail, status: error.status, retryAt: error.retryAt };
    if (error instanceof GmailAuthRevoked) return { upstream: UPSTREAM.gmail, status: 401 };
    return undefined;
  }

  private async notice(view: EmailView) {
    const now = this.deps.now?.() ?? new Date();
    const text = handoffNoticeText("reply to your e-mail", now, this.deps.businessHours?.());
    const ended = await this.write(view, { text, audience: "sender", purpose: "handoff_notice" }, "written");
    if (ended)
      this.deps.log.warn(
        {
          event: "email.handoff_notice_undelivered",
          connectionId: view.connectionId,
          reason: ended.undelivered,
        },
        "the handoff notice could not be written",
      );
  }

  private async handoffLabel(view: EmailView) {
    const inbound = answering(view);
    if (!view.mailbox || !inbound) return;
    await applyLabels(view.mailbox.gmail, this.deps.log, view.settings, [
      { messageId: inbound.gmailId, kind: "handoff" },
    ]);
  }

  /**
   * Writes into the thread of the newest message: the record first (a record from an earlier attempt is
   * reconciled with Gmail instead of sent again), then Gmail's send or draft, then the record finished and
   * the labels. `inboundLabel`: what the customer's message is labelled ("written": nothing).
   */
  private async write(
    view: EmailView,
    what: { text: string; audience: Audience; purpose?: "handoff_notice" | "agent_reply"; key?: string },
    inboundLabel: LabelKind,
  ): Promise<Undelivered | undefined> {
    const inbound = answering(view);
    const mailbox = view.mailbox;
    if (!mailbox) return DISCONNECTED;
    if (!inbound) return { undelivered: "part_missing" };
    const out = outgoing({
      connectionId: view.connectionId,
      mailbox: mailbox.row.address,
      settings: view.settings,
      inbound,
      ...what,
    });
    if (out.draft.to.length === 0) return { undelivered: "no_recipient" };
    const recorded = await recordOutbound(this.deps.sql, out.record);
    if (!recorded) return DISCONNECTED;
    const { row, created } = recorded;
    if (row.gmailId !== null) return undefined;
    if (row.status === "failed") return { undelivered: row.reason ?? "gmail_rejected" };
    // An earlier attempt recorded it and may have sent it (a 5xx after Gmail took it): look first, unless
    // this turn looked already.
    if (!created && !view.notInMailbox.has(row.id) && (await this.reconcile(view, mailbox, row)))
      return undefined;
    return this.transmit(view, mailbox, { out, row, inboundLabel, inboundId: inbound.gmailId });
  }

  private async transmit(
    view: EmailView,
    mailbox: OpenMailbox,
    w: { out: Outgoing; row: OutboundEmail; inboundLabel: LabelKind; inboundId: string },
  ): Promise<Undelivered | undefined> {
    const { sql, log } = this.deps;
    const raw = await composeReply(w.out.draft, this.deps.now?.() ?? new Date());
    const draft = view.settings.mode === "draft" && w.out.record.reason !== "agent_reply";
    let gmailId: string;
    try {
      gmailId = draft
        ? (await mailbox.gmail.createDraft(raw, view.threadId)).message.id
        : (await mailbox.gmail.send(raw, view.threadId)).id;
    } catch (error) {
      const ended = await this.ended(view, error);
      if (!ended) throw error;
      await failOutbound(sql, w.row.id, ended.undelivered);
      return ended;
    }
    await markOutbound(sql, w.row.id, { gmailId, status: draft ? "drafted" : "sent" });
    log.info(
      {
        event: LOG_EVENT.emailReplyWritten,
        outcome: draft ? "drafted" : "sent",
        purpose: w.out.record.reason ?? "reply",
        connectionId: view.connectionId,
        gmailId,
      },
      draft ? "a reply was left as a Gmail draft" : "a reply was sent in the customer's thread",
    );
    await this.label(view, mailbox, {
      inboundId: w.inboundId,
      inboundLabel: w.inboundLabel,
      written: gmailId,
    });
    return undefined;
  }

  /** Failures that end the send for good: the grant is revoked, or Gmail refused the message itself (400). */
  private async ended(view: EmailView, error: unknown): Promise<Undelivered | undefined> {
    if (error instanceof GmailAuthRevoked) {
      await this.revoked(view);
      return DISCONNECTED;
    }
    if (error instanceof GmailApiError && error.status === 400) return { undelivered: "gmail_rejected" };
    return undefined;
  }

  /** Searches the mailbox for a recorded message; found, its record is finished and its labels applied. */
  private async reconcile(view: EmailView, mailbox: OpenMailbox, row: OutboundEmail): Promise<boolean> {
    let found: Awaited<ReturnType<OpenMailbox["gmail"]["findByMessageId"]>>;
    try {
      found = await mailbox.gmail.findByMessageId(row.rfc822MessageId);
      // Gmail may have given the sent copy a Message-ID of its own: our header in the thread still names it.
      if (found.length === 0) found = await mailbox.gmail.findInThread(view.threadId, row.rfc822MessageId);
    } catch (error) {
      if (!(error instanceof GmailAuthRevoked)) throw error;
      await this.revoked(view);
      return false;
    }
    const [message] = found;
    if (!message) {
      view.notInMailbox.add(row.id);
      return false;
    }
    const drafted = message.labelIds.includes("DRAFT");
    await markOutbound(this.deps.sql, row.id, { gmailId: message.id, status: drafted ? "drafted" : "sent" });
    this.deps.log.info(
      { event: "email.reply_reconciled", connectionId: view.connectionId, gmailId: message.id },
      "a reply sent before an interruption was found in the mailbox; not sent again",
    );
    const inboundLabel = row.reason ? "written" : drafted ? "draft" : "answered";
    const inboundId = row.answersGmailId ?? answering(view)?.gmailId ?? "";
    await this.label(view, mailbox, { inboundId, inboundLabel, written: message.id });
    return true;
  }

  private label(
    view: EmailView,
    mailbox: OpenMailbox,
    l: { inboundId: string; inboundLabel: LabelKind; written: string },
  ) {
    const labels: { messageId: string; kind: LabelKind }[] = [{ messageId: l.written, kind: "written" }];
    if (l.inboundLabel !== "written" && l.inboundId)
      labels.unshift({ messageId: l.inboundId, kind: l.inboundLabel });
    return applyLabels(mailbox.gmail, this.deps.log, view.settings, labels);
  }

  /** The grant is gone: the mailbox's owner disconnects it; nothing more is sent from it in this turn. */
  private async revoked(view: EmailView) {
    const mailbox = view.mailbox;
    view.mailbox = undefined;
    if (mailbox) await this.deps.mailboxes.revoked(view.tenantId, mailbox.row);
  }
}
