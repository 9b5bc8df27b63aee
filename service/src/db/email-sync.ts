import type { Sql } from "./client";

/**
 * The current tenant's mailbox sync state (migration 00016, email_mailboxes): what pushes asked for, the
 * sync lease, and how far the mailbox's history was read. One statement each, so a crash between any two
 * leaves a state a later sync (or the catch-up sweep) continues from.
 *
 * The lease is `sync_lease_until` itself: taken only when empty or expired, cut to milliseconds so the
 * holder can present it back exactly (a JavaScript Date has no microseconds), and every later write of the
 * holder names it: a sync whose lease ran out and was taken over writes nothing more.
 */

const until = (sql: Sql, seconds: number) =>
  sql`date_trunc('milliseconds', now()) + ${`${seconds} seconds`}::interval`;

/** How a push was recorded. */
export type PushRecord =
  /** This Pub/Sub message was recorded before (a redelivery): nothing changed. */
  | { kind: "duplicate" }
  /** Recorded; `syncRequests` numbers this request (the sync task's name is unique per request). */
  | { kind: "recorded"; syncRequests: number }
  /** The mailbox is no longer there. */
  | { kind: "gone" };

/**
 * A push, in one statement: the Pub/Sub message id as a delivery (a redelivery is a duplicate and changes
 * nothing), the pushed historyId raised (never lowered: pushes arrive out of order), and a sync request
 * counted.
 */
export async function recordPush(
  sql: Sql,
  push: { connectionId: string; pubsubMessageId: string; historyId: string },
): Promise<PushRecord> {
  const [row] = await sql<{ fresh: boolean; syncRequests: number | null }[]>`
    with delivery as (
      insert into webhook_deliveries (channel, notification_id, topic)
      values ('email', ${`pubsub:${push.pubsubMessageId}`}, 'gmail.push')
      on conflict do nothing
      returning 1
    ),
    raised as (
      update email_mailboxes set
        pushed_history_id = greatest(coalesce(pushed_history_id, 0), ${push.historyId}::numeric),
        sync_requests = sync_requests + 1,
        updated_at = now()
      where connection_id = ${push.connectionId} and exists (select 1 from delivery)
      returning sync_requests::int
    )
    select exists (select 1 from delivery) as fresh, (select sync_requests from raised) as sync_requests`;
  if (!row?.fresh) return { kind: "duplicate" };
  return row.syncRequests === null ? { kind: "gone" } : { kind: "recorded", syncRequests: row.syncRequests };
}

/** Counts one more sync request of a connected mailbox (a sweep's, a retry's); undefined when it is not connected. */
export async function requestSync(sql: Sql, connectionId: string): Promise<number | undefined> {
  const [row] = await sql<{ syncRequests: number }[]>`
    update email_mailboxes set sync_requests = sync_requests + 1, updated_at = now()
    where connection_id = ${connectionId} and status = 'connected'
    returning sync_requests::int`;
  return row?.syncRequests;
}

export type LeaseTake =
  | { kind: "taken"; lease: Date }
  /** Another sync holds the mailbox. */
  | { kind: "busy" }
  /** No such mailbox, or it is disconnected. */
  | { kind: "gone" };

/** Takes the mailbox's sync lease for `seconds`, when nobody holds it. */
export async function takeSyncLease(sql: Sql, connectionId: string, seconds: number): Promise<LeaseTake> {
  const [row] = await sql<{ status: string; lease: Date | null }[]>`
    with taken as (
      update email_mailboxes set sync_lease_until = ${until(sql, seconds)}
      where connection_id = ${connectionId} and status = 'connected'
        and (sync_lease_until is null or sync_lease_until < now())
      returning sync_lease_until
    )
    select m.status, (select sync_lease_until from taken) as lease
    from email_mailboxes m where m.connection_id = ${connectionId}`;
  if (row?.status !== "connected") return { kind: "gone" };
  return row.lease ? { kind: "taken", lease: row.lease } : { kind: "busy" };
}

/** The lease for `seconds` more; undefined when it is no longer the holder's (expired and taken over). */
export async function extendSyncLease(
  sql: Sql,
  connectionId: string,
  lease: Date,
  seconds: number,
): Promise<Date | undefined> {
  const [row] = await sql<{ syncLeaseUntil: Date }[]>`
    update email_mailboxes set sync_lease_until = ${until(sql, seconds)}
    where connection_id = ${connectionId} and sync_lease_until = ${lease}
    returning sync_lease_until`;
  return row?.syncLeaseUntil;
}

/**
 * Everything up to `historyId` was looked at: stored (never lowered), with the lease extended; undefined
 * when the lease is no longer the holder's.
 */
export async function storeSyncPosition(
  sql: Sql,
  connectionId: string,
  lease: Date,
  position: { historyId: string; leaseSeconds: number },
): Promise<Date | undefined> {
  const [row] = await sql<{ syncLeaseUntil: Date }[]>`
    update email_mailboxes set
      history_id = greatest(coalesce(history_id, 0), ${position.historyId}::numeric),
      sync_lease_until = ${until(sql, position.leaseSeconds)},
      updated_at = now()
    where connection_id = ${connectionId} and sync_lease_until = ${lease}
    returning sync_lease_until`;
  return row?.syncLeaseUntil;
}

/**
 * Ends a sync, in one statement: `done` (lease released, synced_at set) unless a push announced history
 * beyond what was read (`more`: the holder reads on; the push's own task found the lease taken and left it
 * to the holder), or the lease is no longer the holder's (`lost`). The push's raise and this release lock
 * the same row, so one of them always sees the other: no push is left unread.
 */
export async function finishSync(
  sql: Sql,
  connectionId: string,
  lease: Date,
): Promise<"done" | "more" | "lost"> {
  const [row] = await sql<{ held: boolean; done: boolean }[]>`
    with done as (
      update email_mailboxes set sync_lease_until = null, synced_at = now(), updated_at = now()
      where connection_id = ${connectionId} and sync_lease_until = ${lease}
        and not (coalesce(pushed_history_id, 0) > coalesce(history_id, 0))
      returning 1
    )
    select
      exists (select 1 from email_mailboxes where connection_id = ${connectionId} and sync_lease_until = ${lease})
        as held,
      exists (select 1 from done) as done`;
  if (row?.done) return "done";
  return row?.held ? "more" : "lost";
}

/** Gives the lease up without marking the mailbox synced (the sync failed; the sweep or a retry comes back). */
export async function releaseSyncLease(sql: Sql, connectionId: string, lease: Date): Promise<void> {
  await sql`
    update email_mailboxes set sync_lease_until = null
    where connection_id = ${connectionId} and sync_lease_until = ${lease}`;
}
