import type { Sql } from "../db/client";
import {
  claimEscalation,
  type EscalationRow,
  findEscalation,
  openEscalation,
  resolveEscalation,
  unresolvedStatus,
} from "../db/escalations";
import { insertNotifications, type NotificationTarget, slackWebhookRef } from "../db/notifications";
import { currentTenantId } from "../db/tenant-scope";
import { listTenantUsers } from "../db/tenant-users";
import type { BusinessHours } from "../domain/business-hours";
import { isWithinBusinessHours } from "../domain/business-hours";
import { handoffNoticeText } from "../domain/handoff-notice";
import type { Channel } from "../domain/turn";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import type { TaskQueue } from "../ports/task-queue";
import type {
  DispatchAfterCommit,
  EscalationRequest,
  Escalations,
  OpenedEscalation,
  OutboundEvents,
} from "./follow-up";

/** A tenant's escalation settings with the defaults filled in (compose/escalations.ts reads them). */
export interface EscalationSettings {
  /** Who is e-mailed a new escalation (none without a mailer). */
  emails: readonly string[];
  resumeBotOnResolve: boolean;
  /** The tenant's team works in Intercom's inbox: an Intercom handoff reaches them there, no escalation. */
  intercomInbox: boolean;
  /** The support hours the customer's notice speaks of. */
  hours: BusinessHours;
  /** The tenant's own notice in and after hours (its `handoff` settings), replacing the generated one. */
  message?: string | undefined;
  afterHoursMessage?: string | undefined;
}

export interface EscalationDeps {
  sql: Sql;
  events: OutboundEvents;
  queue: TaskQueue;
  log: Logger;
  settings(tenantId: string): Promise<EscalationSettings>;
  /** E-mail targets are written only when a mailer can send them. */
  mailer: boolean;
  /**
   * Without the deployment's mailer: whether the current tenant (the scope of `sql`) can mail its team
   * through a mailbox of its own (the e-mail channel's connected mailbox).
   */
  tenantMails?: ((sql: Sql) => Promise<boolean>) | undefined;
  now?: () => Date;
}

/** How a person reaches the customer back, per channel: the notice's words. */
const REACH: Record<Channel, string> = {
  web: "reply to you here",
  intercom: "reply to you here",
  sms: "text you back here",
  voice: "call you back",
  email: "reply to your e-mail",
};

export const NOTIFICATION_TOPIC = "escalation.created";

/**
 * What the team hears of besides escalations: a webhook endpoint disabled by its circuit, a mailbox of the
 * e-mail channel disconnected (its refresh token revoked or expired).
 */
export type TeamTopic = "endpoint.disabled" | "mailbox.disconnected";

/** Writes a team notification in a transaction (`sql`); what it returns dispatches it after the commit. */
export type TeamNoticeWriter = (
  sql: Sql,
  topic: TeamTopic,
  payload: Record<string, string>,
) => Promise<() => Promise<void>>;

/** Topics the tenant's admins (their users' e-mails) hear of as well as the escalation contacts. */
const ADMIN_TOPICS: ReadonlySet<string> = new Set<TeamTopic>(["mailbox.disconnected"]);

/** Why a claim was refused: the admin API's 404 and 409. */
export type ClaimRefusal = "not_found" | "claimed_by_other" | "resolved";

/**
 * Escalations: a handoff of any channel becomes a row a person claims and resolves. Opening one writes,
 * in the same transaction, its notifications to the tenant's team (a row per target, each sent and
 * retried on its own: notifications.ts) and its `escalation.created` event; both are dispatched after the
 * commit, and a dispatch lost to a crash is done by the sweeps. Everything runs in the current tenant's
 * scope.
 */
export class TenantEscalations implements Escalations {
  constructor(private readonly deps: EscalationDeps) {}

  private now() {
    return this.deps.now?.() ?? new Date();
  }

  private tenantId(): string {
    const id = currentTenantId();
    if (!id) throw new Error("escalations run in a tenant's scope");
    return id;
  }

  async open(request: EscalationRequest): Promise<OpenedEscalation> {
    const tenantId = this.tenantId();
    const settings = await this.deps.settings(tenantId);
    const opened = await this.deps.sql.begin(async (tx) => {
      const sql = tx as unknown as Sql;
      const { row, created } = await openEscalation(sql, {
        channel: request.channel,
        conversationId: request.conversationId,
        contactId: request.contactId,
        sessionId: request.sessionId ?? null,
        reason: request.reason,
        summary: request.summary,
      });
      if (!created) return { row, created, notifications: [], dispatch: undefined };
      const targets = await this.targets(sql, settings);
      const notifications = await insertNotifications(sql, row.id, NOTIFICATION_TOPIC, targets);
      const dispatch = await this.deps.events.record(sql, {
        type: "escalation.created",
        orderingKey: row.contactId,
        data: escalationData(row),
      });
      return { row, created, notifications, dispatch };
    });
    if (opened.created) {
      this.deps.log.info(
        {
          event: LOG_EVENT.escalationOpened,
          channel: request.channel,
          reason: request.reason,
          escalationId: opened.row.id,
        },
        `escalation opened (${request.reason})`,
      );
    }
    await this.afterCommit(tenantId, opened.notifications, opened.dispatch);
    return { id: opened.row.id, created: opened.created, notice: this.notice(request.channel, settings) };
  }

  /**
   * A channel's handoff: opens (or joins) the conversation's escalation, unless the channel's own handoff
   * already reaches the tenant's team (Intercom, when the tenant works in Intercom's inbox).
   */
  async handOff(request: EscalationRequest): Promise<OpenedEscalation | undefined> {
    if (request.channel === "intercom" && (await this.deps.settings(this.tenantId())).intercomInbox)
      return undefined;
    return this.open(request);
  }

  async silenced(channel: Channel, conversationId: string): Promise<boolean> {
    return (await unresolvedStatus(this.deps.sql, channel, conversationId)) === "claimed";
  }

  /** What the customer is told: the tenant's own words when set, else the generated notice. */
  notice(channel: Channel, settings: EscalationSettings): string {
    const now = this.now();
    const inHours = isWithinBusinessHours(settings.hours, now);
    const own = inHours ? settings.message : settings.afterHoursMessage;
    return own ?? handoffNoticeText(REACH[channel], now, settings.hours);
  }

  /** Claims it for `actor` (a retried claim by the same person is fine). */
  async claim(id: string, actor: string): Promise<EscalationRow | ClaimRefusal> {
    const claimed = await claimEscalation(this.deps.sql, id, actor);
    if (claimed) return claimed;
    const found = await findEscalation(this.deps.sql, id);
    if (!found) return "not_found";
    return found.status === "resolved" ? "resolved" : "claimed_by_other";
  }

  /**
   * Resolves it with its `escalation.resolved` event in one transaction; the bot answers the conversation
   * again when the tenant's setting says so. Undefined when there is no such escalation; an escalation
   * resolved already is returned as it is (no second event).
   */
  async resolve(id: string, actor: string): Promise<{ row: EscalationRow; resolved: boolean } | undefined> {
    const tenantId = this.tenantId();
    const settings = await this.deps.settings(tenantId);
    const done = await this.deps.sql.begin(async (tx) => {
      const sql = tx as unknown as Sql;
      const row = await resolveEscalation(sql, id, actor, settings.resumeBotOnResolve);
      if (!row) return undefined;
      const dispatch = await this.deps.events.record(sql, {
        type: "escalation.resolved",
        orderingKey: row.contactId,
        data: escalationData(row),
      });
      return { row, dispatch };
    });
    if (done) {
      await this.afterCommit(tenantId, [], done.dispatch);
      return { row: done.row, resolved: true };
    }
    const found = await findEscalation(this.deps.sql, id);
    return found ? { row: found, resolved: false } : undefined;
  }

  /**
   * Tells the tenant's team (the escalation targets: e-mail, Slack) something that is not an escalation:
   * `endpoint.disabled` when the circuit of one of its webhook endpoints opened. In the tenant's scope.
   */
  async notifyTeam(topic: TeamTopic, payload: Record<string, string>): Promise<void> {
    const write = await this.teamNoticeWriter();
    const dispatch = await this.deps.sql.begin((tx) => write(tx as unknown as Sql, topic, payload));
    await dispatch();
  }

  /**
   * What writes the team's notifications of a topic in the caller's transaction (so they are written
   * exactly when what they tell of is), returning what dispatches them once it committed; a dispatch lost
   * to a crash loses nothing (the rows are pending, the sweep sends them). The tenant's settings are read
   * now, before that transaction: inside it, every statement must use its connection. In the tenant's scope.
   */
  async teamNoticeWriter(): Promise<TeamNoticeWriter> {
    const tenantId = this.tenantId();
    const settings = await this.deps.settings(tenantId);
    return async (sql, topic, payload) => {
      const targets = await this.targets(sql, settings, ADMIN_TOPICS.has(topic));
      const rows = await insertNotifications(sql, null, topic, targets, payload);
      return () => this.afterCommit(tenantId, rows, undefined);
    };
  }

  private async targets(
    sql: Sql,
    settings: EscalationSettings,
    withAdmins = false,
  ): Promise<NotificationTarget[]> {
    const mails = this.deps.mailer || ((await this.deps.tenantMails?.(sql)) ?? false);
    const admins = mails && withAdmins ? await adminEmails(sql) : [];
    // One mail per person, however often they are listed (as a contact and as an admin).
    const addresses = new Map([...settings.emails, ...admins].map((a) => [a.toLowerCase(), a]));
    const emails = mails ? [...addresses.values()].map((target) => ({ kind: "email" as const, target })) : [];
    const slack = await slackWebhookRef(sql);
    return slack ? [...emails, { kind: "slack", target: slack }] : emails;
  }

  /**
   * The event's deliveries and the notifications, asked of the queue once the rows are committed. A failed
   * dispatch loses nothing: the rows are pending and the sweeps send them.
   */
  private async afterCommit(
    tenantId: string,
    notifications: { id: string; attempts: number }[],
    dispatch: DispatchAfterCommit | undefined,
  ) {
    const { queue, log } = this.deps;
    for (const n of notifications) {
      try {
        await queue.enqueue(n.id, { attempt: n.attempts + 1, tenantId, kind: "notification" });
      } catch (error) {
        log.warn(
          { event: "notification.enqueue_failed", notificationId: n.id, error },
          "the sweep will send it",
        );
      }
    }
    await dispatch?.().catch((error: unknown) =>
      log.warn({ event: "outbound_event.dispatch_failed", error }, "the sweep will deliver it"),
    );
  }
}

/** The escalation as events and the admin API show it. */
export function escalationData(row: EscalationRow) {
  return {
    id: row.id,
    status: row.status,
    channel: row.channel,
    conversationId: row.conversationId,
    contactId: row.contactId,
    sessionId: row.sessionId,
    reason: row.reason,
    summary: row.summary,
    claimedBy: row.claimedBy,
    claimedAt: row.claimedAt ? new Date(row.claimedAt).toISOString() : null,
    resolvedBy: row.resolvedBy,
    resolvedAt: row.resolvedAt ? new Date(row.resolvedAt).toISOString() : null,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

/** The e-mail addresses of the current tenant's admins (its users with the tenant_admin role). */
async function adminEmails(sql: Sql): Promise<string[]> {
  const users = await listTenantUsers(sql);
  return users.flatMap((u) => (u.role === "tenant_admin" && u.email ? [u.email] : []));
}
