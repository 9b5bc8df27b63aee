import type { Sql } from "../db/client";
import { type EscalationRow, findEscalation } from "../db/escalations";
import {
  type NotificationRow,
  notificationFailed,
  notificationSent,
  takeNotification,
} from "../db/notifications";
import { dueNotifications } from "../db/platform-notifications";
import { inTenant } from "../db/tenant-scope";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import type { Mailer } from "../ports/mailer";
import { type SecretStore, SecretStoreError } from "../ports/secret-store";
import type { SlackMessage, SlackPoster } from "../ports/slack";
import type { TaskQueue } from "../ports/task-queue";
import type { Sweep } from "./sweeps";

/** The log event of every notification attempt's end: `kind`, `outcome` (sent, retry, failed), `attempts`. */
export const NOTIFICATION_EVENT = LOG_EVENT.notificationAttempted;
/** How an attempt ended: `failed` is given up for good (an alert policy selects it). */
export type NotificationOutcome = "sent" | "retry" | "failed";

/**
 * A tenant's own way to mail its team: the e-mail channel's connected mailbox (channels/email), composed
 * in. Without one, the deployment's SMTP relay carries the team's e-mail.
 */
export interface TenantMailers {
  /** Whether the current tenant (the scope of `sql`, a transaction's too) has one. */
  has(sql: Sql): Promise<boolean>;
  /** Its mailer now; undefined when it has none. */
  mailerOf(tenantId: string): Promise<Mailer | undefined>;
}

export interface NotificationDeps {
  sql: Sql;
  queue: TaskQueue;
  log: Logger;
  secrets: SecretStore;
  slack: SlackPoster;
  /** Absent: e-mail targets fail (none are written without one: engine/escalations.ts). */
  mailer?: Mailer | undefined;
  /**
   * The tenant's own mailer (its connected mailbox of the e-mail channel), preferred to `mailer`; undefined
   * when it has none.
   */
  tenantMailer?: ((tenantId: string) => Promise<Mailer | undefined>) | undefined;
  /** After this many attempts a notification is `failed`. */
  maxAttempts: number;
  /** What the message calls the tenant (its business name), by tenant id. */
  businessName(tenantId: string): Promise<string>;
  /** Where a person opens the escalation (the admin API's URL of it), when the deployment has a public URL. */
  link?(tenantId: string, escalationId: string): string | undefined;
}

/** Seconds an attempt holds its row before the sweep may take it again (the send's own timeouts are shorter). */
const ATTEMPT_LEASE_SECONDS = 120;

/** 30 s, 1 min, 2 min … at most an hour between attempts: a Slack or SMTP outage of hours is ridden out. */
export function notificationBackoff(attempts: number, now: Date): Date {
  const seconds = Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));
  return new Date(now.getTime() + seconds * 1000);
}

/**
 * Sends one notification per task (`notification` tasks), in the tenant the task names: an e-mail through
 * the mailer or a post to the tenant's Slack webhook (its URL read from the secret store, never logged).
 * A failure schedules the next attempt with backoff, and after `maxAttempts` the row is `failed` with the
 * error; the escalation is never touched. The sweep re-dispatches due rows whose task was lost.
 */
export class NotificationSender {
  constructor(private readonly deps: NotificationDeps) {}

  run(id: string, tenantId: string): Promise<string> {
    return inTenant(tenantId, () => this.attempt(id, tenantId));
  }

  private async attempt(id: string, tenantId: string): Promise<string> {
    const { sql } = this.deps;
    const row = await takeNotification(sql, id, ATTEMPT_LEASE_SECONDS);
    if (!row) return "noop";
    try {
      await this.send(row, await this.messageOf(tenantId, row), tenantId);
    } catch (error) {
      return this.failed(row, tenantId, error);
    }
    await notificationSent(sql, id);
    this.logAttempt(row, "sent");
    return "sent";
  }

  private async send(row: NotificationRow, message: EscalationMessage, tenantId: string) {
    if (row.kind === "email") {
      const mailer = (await this.deps.tenantMailer?.(tenantId)) ?? this.deps.mailer;
      if (!mailer) throw new FinalFailure("no mailer is configured (SMTP_URL) and no mailbox is connected");
      await mailer.send({ to: row.target, subject: message.subject, text: message.text });
      return;
    }
    let url: string;
    try {
      url = await this.deps.secrets.get(row.target);
    } catch (error) {
      // The tenant removed its webhook: nothing to post to, ever.
      if (error instanceof SecretStoreError && error.code === "not_found")
        throw new FinalFailure("the Slack webhook was removed");
      throw error;
    }
    await this.deps.slack.post(url, message.slack);
  }

  private async failed(row: NotificationRow, tenantId: string, error: unknown): Promise<string> {
    const final = error instanceof FinalFailure || row.attempts >= this.deps.maxAttempts;
    const retryAt = final ? undefined : notificationBackoff(row.attempts, new Date());
    const reason = safeError(error);
    await notificationFailed(this.deps.sql, row.id, reason, retryAt);
    this.logAttempt(row, final ? "failed" : "retry", reason);
    if (retryAt) {
      try {
        await this.deps.queue.enqueue(row.id, {
          attempt: row.attempts + 1,
          notBefore: retryAt,
          tenantId,
          kind: "notification",
        });
      } catch {
        // The row is pending with its retry time: the sweep dispatches it.
      }
    }
    return final ? "failed" : "retry";
  }

  private logAttempt(row: NotificationRow, outcome: NotificationOutcome, error?: string) {
    const fields = {
      event: NOTIFICATION_EVENT,
      kind: row.kind,
      topic: row.topic,
      outcome,
      attempts: row.attempts,
      notificationId: row.id,
      ...(error ? { reason: error } : {}),
    };
    if (outcome === "sent") this.deps.log.info(fields, `${row.kind} notification sent`);
    else
      this.deps.log.warn(
        fields,
        `${row.kind} notification ${outcome === "retry" ? "will be retried" : "failed"}`,
      );
  }

  /** An escalation's message, or (no escalation) the message its payload carries. */
  private async messageOf(tenantId: string, row: NotificationRow): Promise<EscalationMessage> {
    if (row.topic === "endpoint.disabled" && row.payload)
      return endpointDisabledMessage(await this.deps.businessName(tenantId), row.payload);
    if (row.topic === "mailbox.disconnected" && row.payload)
      return mailboxDisconnectedMessage(await this.deps.businessName(tenantId), row.payload);
    const escalation = row.escalationId ? await findEscalation(this.deps.sql, row.escalationId) : undefined;
    if (!escalation) throw new FinalFailure("the escalation is gone");
    return this.message(tenantId, escalation);
  }

  private async message(tenantId: string, e: EscalationRow): Promise<EscalationMessage> {
    const name = await this.deps.businessName(tenantId);
    const link = this.deps.link?.(tenantId, e.id);
    return escalationMessage(name, e, link);
  }

  /** The notifications' sweep (run on every poll): due pending rows across tenants, dispatched again. */
  sweep(limit = 100): Sweep {
    return {
      name: "notifications",
      run: async () => {
        const due = await dueNotifications(this.deps.sql, limit);
        for (const n of due) {
          await this.deps.queue.enqueue(n.id, {
            attempt: n.attempts + 1,
            tenantId: n.tenantId,
            kind: "notification",
          });
        }
        return { dispatched: due.length };
      },
    };
  }
}

/** A failure no retry can fix. */
class FinalFailure extends Error {}

/** The error as stored and logged: its message without any URL (a webhook URL, an SMTP URL's password). */
function safeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]").slice(0, 300);
}

export interface EscalationMessage {
  subject: string;
  text: string;
  slack: SlackMessage;
}

const words = (reason: string) => reason.replace(/_/g, " ");

/** What the team reads: who is waiting, on which channel, why, and what they should know. */
export function escalationMessage(businessName: string, e: EscalationRow, link?: string): EscalationMessage {
  const headline = `A ${e.channel} customer of ${businessName} is waiting for a person (${words(e.reason)})`;
  const lines = [
    headline,
    "",
    `Channel: ${e.channel}`,
    `Conversation: ${e.conversationId}`,
    `Reason: ${words(e.reason)}`,
    e.summary ? `Summary: ${e.summary}` : "Summary: none yet",
    `Opened: ${new Date(e.createdAt).toISOString()}`,
    link ? `Claim it: ${link}` : `Escalation id: ${e.id}`,
  ];
  const fields = [
    `*Channel:* ${e.channel}`,
    `*Reason:* ${words(e.reason)}`,
    `*Conversation:* ${e.conversationId}`,
    `*Escalation:* ${link ? `<${link}|${e.id}>` : e.id}`,
  ];
  return {
    subject: `[${businessName}] A customer is waiting for a person (${e.channel})`,
    text: lines.join("\n"),
    slack: {
      text: headline,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
        { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text })) },
        ...(e.summary
          ? [{ type: "section", text: { type: "plain_text", text: e.summary.slice(0, 2900) } }]
          : []),
      ],
    },
  };
}

/** A webhook endpoint of the tenant was disabled: where, why, and how to turn it back on. */
export function endpointDisabledMessage(businessName: string, p: Record<string, string>): EscalationMessage {
  const headline = `${businessName}: the webhook endpoint at ${p.host} was disabled after repeated failures`;
  const text = [
    headline,
    "",
    `Endpoint: ${p.endpointId}${p.description ? ` (${p.description})` : ""}`,
    `Why: ${p.reason}`,
    "Its events are kept. Fix the receiver, then re-enable the endpoint (PATCH …/webhook-endpoints/{id}",
    'with {"enabled": true}); what it kept is sent at once, in order (docs/webhooks.md).',
  ].join("\n");
  return {
    subject: `[${businessName}] A webhook endpoint was disabled (${p.host})`,
    text,
    slack: { text: headline, blocks: [{ type: "section", text: { type: "mrkdwn", text: `*${headline}*` } }] },
  };
}

/**
 * A mailbox of the e-mail channel was disconnected because Google refused its refresh token: which one,
 * what it means for the customers writing to it, and how to connect it again.
 */
export function mailboxDisconnectedMessage(
  businessName: string,
  p: Record<string, string>,
): EscalationMessage {
  const headline = `${businessName}: the mailbox ${p.address} was disconnected, and its mail is no longer answered`;
  const text = [
    headline,
    "",
    "Google no longer accepts Switchboard's access to it: the access was revoked in the Google account, the",
    'password changed, or the OAuth app is in "Testing" status, whose refresh tokens expire after 7 days',
    "(publish the app, or make it Internal, to stop that; docs/email.md).",
    "",
    `Reconnect it: as a tenant admin, call GET ${p.connectUrl} (it answers with Google's consent URL), and`,
    `open that URL in a browser signed in to ${p.address}. Mail that arrived meanwhile is answered once the`,
    "mailbox is connected again.",
  ].join("\n");
  return {
    subject: `[${businessName}] The mailbox ${p.address} was disconnected`,
    text,
    slack: {
      text: headline,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
        { type: "section", text: { type: "mrkdwn", text: `Reconnect it: ${p.connectUrl}` } },
      ],
    },
  };
}
