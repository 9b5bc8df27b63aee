import type { Sql } from "./client";
import type { DeliveryToDispatch } from "./outbound-events";

/**
 * Deliveries of events to endpoints and their attempts (migration 00015), in the tenant's scope. A sender
 * holds a delivery by a lease while it posts, so a duplicate task finds it taken; the attempt, the
 * delivery's new state and the endpoint's failure count are written by one statement.
 */

export interface ClaimedDelivery {
  id: string;
  seq: string;
  eventId: string;
  endpointId: string;
  orderingKey: string | null;
  attempts: number;
  url: string;
  secretName: string;
  endpointStatus: "enabled" | "disabled";
  payload: Record<string, unknown>;
  /** When an older pending delivery of the same endpoint and ordering key is due: this one waits. */
  blockedUntil: Date | null;
}

/**
 * Takes the pending delivery for `leaseMs` when it is due by `now` and nobody holds it; undefined when
 * it is delivered, failed for good, held, not due yet, or not this tenant's.
 */
export async function claimDelivery(
  sql: Sql,
  id: string,
  now: Date,
  leaseMs: number,
): Promise<ClaimedDelivery | undefined> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const [row] = await sql<ClaimedDelivery[]>`
    with claimed as (
      update event_deliveries set lease_until = ${leaseUntil}
      where id = ${id} and status = 'pending' and next_attempt_at <= ${now}::timestamptz + interval '2 seconds'
        and (lease_until is null or lease_until < ${now})
      returning id, seq, event_id, endpoint_id, ordering_key, attempts)
    select c.id, c.seq::text as seq, c.event_id, c.endpoint_id, c.ordering_key, c.attempts, e.url,
      e.secret_name, e.status as endpoint_status, o.payload,
      (select b.next_attempt_at from event_deliveries b
        where b.endpoint_id = c.endpoint_id and b.ordering_key = c.ordering_key and b.status = 'pending'
          and b.seq < c.seq
        order by b.seq limit 1) as blocked_until
    from claimed c
    join webhook_endpoints e on e.id = c.endpoint_id
    join outbound_events o on o.id = c.event_id`;
  return row;
}

/** What one attempt came to. */
export interface AttemptResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** When to try again; null when delivered or out of attempts (then failed for good). */
  retryAt: Date | null;
}

export interface SettledDelivery {
  /** The dispatch number of the retry's task (when there is a retry). */
  dispatches: number;
  consecutiveFailures: number;
  failingSince: Date | null;
}

/** Logs the attempt, moves the delivery on, counts the endpoint's failures (or clears them), releases it. */
export async function settleDelivery(
  sql: Sql,
  id: string,
  now: Date,
  result: AttemptResult,
): Promise<SettledDelivery | undefined> {
  const status = result.delivered ? "delivered" : result.retryAt ? "pending" : "failed";
  const retry = result.retryAt !== null;
  const [row] = await sql<SettledDelivery[]>`
    with delivery as (
      update event_deliveries set
        status = ${status},
        attempts = attempts + 1,
        next_attempt_at = coalesce(${result.retryAt}, next_attempt_at),
        dispatches = dispatches + ${retry ? 1 : 0},
        last_status = ${result.statusCode},
        last_error = ${result.error},
        delivered_at = ${result.delivered ? now : null},
        lease_until = null
      where id = ${id}
      returning id, endpoint_id, dispatches),
    attempt as (
      insert into event_delivery_attempts (delivery_id, at, status_code, error, duration_ms)
      select id, ${now}, ${result.statusCode}, ${result.error}, ${result.durationMs} from delivery),
    endpoint as (
      update webhook_endpoints set
        consecutive_failures = case when ${result.delivered} then 0 else consecutive_failures + 1 end,
        failing_since = case when ${result.delivered} then null else coalesce(failing_since, ${now}) end
      where id = (select endpoint_id from delivery)
      returning consecutive_failures, failing_since)
    select delivery.dispatches, endpoint.consecutive_failures, endpoint.failing_since
    from delivery, endpoint`;
  return row;
}

/**
 * Puts the delivery back without an attempt: it waits for an older one of its key (until that one's
 * next attempt) or for its endpoint to be enabled again.
 */
export async function holdDelivery(sql: Sql, id: string, until: Date | null): Promise<void> {
  await sql`
    update event_deliveries set lease_until = null,
      next_attempt_at = greatest(next_attempt_at, coalesce(${until}, next_attempt_at))
    where id = ${id}`;
}

/**
 * The next pending delivery of the endpoint and ordering key, made due now (its older one was just
 * settled), with its new dispatch number; undefined when none waits.
 */
export async function nextInLine(
  sql: Sql,
  endpointId: string,
  orderingKey: string,
  now: Date,
): Promise<DeliveryToDispatch | undefined> {
  const [row] = await sql<DeliveryToDispatch[]>`
    update event_deliveries set next_attempt_at = least(next_attempt_at, ${now}), dispatches = dispatches + 1
    where id = (
      select id from event_deliveries
      where endpoint_id = ${endpointId} and ordering_key = ${orderingKey} and status = 'pending'
      order by seq limit 1)
    returning id, dispatches`;
  return row;
}

/**
 * The endpoint's pending deliveries made due now and counted as dispatched again, oldest first (an
 * endpoint enabled again sends what it kept; the older of a key go first, the others wait for them).
 */
export async function duePending(
  sql: Sql,
  endpointId: string,
  now: Date,
  limit: number,
): Promise<DeliveryToDispatch[]> {
  return await sql<DeliveryToDispatch[]>`
    update event_deliveries set next_attempt_at = least(next_attempt_at, ${now}), dispatches = dispatches + 1
    where id in (
      select id from event_deliveries where endpoint_id = ${endpointId} and status = 'pending'
      order by seq limit ${limit})
    returning id, dispatches`;
}

export interface DeliveryAttempt {
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryLogEntry {
  id: string;
  seq: string;
  eventId: string;
  eventType: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /** The newest attempts first (at most 20). */
  attemptLog: DeliveryAttempt[];
}

/** An endpoint's deliveries, newest first, before `beforeSeq` (the previous page's last) when given. */
export async function listDeliveries(
  sql: Sql,
  endpointId: string,
  page: { beforeSeq?: string | undefined; limit: number },
): Promise<DeliveryLogEntry[]> {
  const before = page.beforeSeq === undefined ? sql`true` : sql`d.seq < ${page.beforeSeq}::bigint`;
  const rows = await sql<(Omit<DeliveryLogEntry, "attemptLog"> & { attemptLog: unknown[] })[]>`
    select d.id, d.seq::text as seq, d.event_id, o.type as event_type, d.status, d.attempts,
      d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at,
      coalesce((select json_agg(json_build_object('at', a.at, 'statusCode', a.status_code, 'error', a.error,
          'durationMs', a.duration_ms) order by a.id desc)
        from (select * from event_delivery_attempts where delivery_id = d.id order by id desc limit 20) a),
        '[]') as attempt_log
    from event_deliveries d join outbound_events o on o.id = d.event_id
    where d.endpoint_id = ${endpointId} and ${before}
    order by d.seq desc limit ${page.limit}`;
  return rows.map((r) => ({
    ...r,
    attemptLog: (r.attemptLog as Record<string, unknown>[]).map((a) => ({
      at: new Date(a.at as string),
      statusCode: (a.statusCode as number | null) ?? null,
      error: (a.error as string | null) ?? null,
      durationMs: a.durationMs as number,
    })),
  }));
}

/**
 * A delivery of the endpoint sent again: pending and due now, with its attempts counted afresh (the
 * log keeps the earlier ones); the event, and so its `webhook-id`, is the same.
 */
export async function replayDelivery(
  sql: Sql,
  endpointId: string,
  deliveryId: string,
  now: Date,
): Promise<DeliveryToDispatch | undefined> {
  const [row] = await sql<DeliveryToDispatch[]>`
    update event_deliveries set status = 'pending', attempts = 0, next_attempt_at = ${now},
      dispatches = dispatches + 1, delivered_at = null, lease_until = null
    where id = ${deliveryId} and endpoint_id = ${endpointId}
    returning id, dispatches`;
  return row;
}
