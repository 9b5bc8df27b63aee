import type { Sql } from "./client";

/**
 * Notifications to a tenant's team (migration 00014): one row per escalation and target, each sent and
 * retried on its own by the task queue, so a failed one never loses the escalation or the others. A Slack
 * target is the secret-store reference of its webhook URL, never the URL.
 */

export type NotificationKind = "email" | "slack";

export interface NotificationTarget {
  kind: NotificationKind;
  target: string;
}

export interface NotificationRow extends NotificationTarget {
  id: string;
  escalationId: string | null;
  topic: string;
  /** What a notification not about an escalation says. */
  payload: Record<string, string> | null;
  status: "pending" | "sent" | "failed";
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentAt: Date | null;
  createdAt: Date;
}

const COLUMNS = (sql: Sql) => sql`
  id::text, escalation_id::text, topic, payload, kind, target, status, attempts, next_attempt_at, last_error,
  sent_at, created_at`;

/** A row per target (once: a retried open writes none twice); returns the ids written now. */
export async function insertNotifications(
  sql: Sql,
  escalationId: string | null,
  topic: string,
  targets: readonly NotificationTarget[],
  payload: Record<string, string> | null = null,
): Promise<{ id: string; attempts: number }[]> {
  if (targets.length === 0) return [];
  const rows = targets.map((t) => ({
    escalation_id: escalationId,
    topic,
    kind: t.kind,
    target: t.target,
    payload: payload === null ? null : sql.json(payload),
  }));
  return sql<{ id: string; attempts: number }[]>`
    insert into notifications ${sql(rows, "escalation_id", "topic", "kind", "target", "payload")}
    on conflict (tenant_id, escalation_id, topic, kind, target) do nothing
    returning id::text, attempts`;
}

export async function findNotification(sql: Sql, id: string): Promise<NotificationRow | undefined> {
  const [row] = await sql<NotificationRow[]>`select ${COLUMNS(sql)} from notifications where id = ${id}`;
  return row;
}

export async function notificationsOf(sql: Sql, escalationId: string): Promise<NotificationRow[]> {
  return sql<NotificationRow[]>`
    select ${COLUMNS(sql)} from notifications where escalation_id = ${escalationId} order by created_at, kind`;
}

/**
 * Takes a due pending row for one attempt: counts the attempt and pushes its next try out by `leaseSeconds`
 * (so a sweep does not send it again meanwhile). Undefined when it is not pending, or not due yet.
 */
export async function takeNotification(
  sql: Sql,
  id: string,
  leaseSeconds: number,
): Promise<NotificationRow | undefined> {
  const [row] = await sql<NotificationRow[]>`
    update notifications
    set attempts = attempts + 1, next_attempt_at = now() + ${`${leaseSeconds} seconds`}::interval
    where id = ${id} and status = 'pending' and next_attempt_at <= now()
    returning ${COLUMNS(sql)}`;
  return row;
}

export async function notificationSent(sql: Sql, id: string): Promise<void> {
  await sql`
    update notifications set status = 'sent', sent_at = now(), last_error = null
    where id = ${id} and status = 'pending'`;
}

/** A failed attempt: tried again at `retryAt`, or, with none, given up on as `failed`. */
export async function notificationFailed(
  sql: Sql,
  id: string,
  error: string,
  retryAt: Date | undefined,
): Promise<void> {
  await sql`
    update notifications
    set last_error = ${error.slice(0, 500)},
        status = ${retryAt ? "pending" : "failed"},
        next_attempt_at = coalesce(${retryAt ?? null}::timestamptz, next_attempt_at)
    where id = ${id} and status = 'pending'`;
}

/** The Slack incoming webhook's secret-store reference, when the tenant set one. */
export async function slackWebhookRef(sql: Sql): Promise<string | undefined> {
  const [row] = await sql<{ slackWebhookRef: string | null }[]>`
    select slack_webhook_ref from notification_targets`;
  return row?.slackWebhookRef ?? undefined;
}

/** Sets (a reference) or clears (null) the tenant's Slack webhook; returns the reference it replaced. */
export async function setSlackWebhookRef(sql: Sql, ref: string | null): Promise<string | undefined> {
  const [row] = await sql<{ previous: string | null }[]>`
    with previous as (select slack_webhook_ref from notification_targets)
    insert into notification_targets (slack_webhook_ref) values (${ref})
    on conflict (tenant_id) do update set slack_webhook_ref = excluded.slack_webhook_ref, updated_at = now()
    returning (select slack_webhook_ref from previous) as previous`;
  return row?.previous ?? undefined;
}
