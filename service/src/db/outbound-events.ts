import type { Sql } from "./client";

/**
 * The outbox of events to the tenant's endpoints (migration 00015), in the tenant's scope: the event and
 * its deliveries are written by one statement, with the caller's transaction, so they commit with the
 * change that caused them or not at all.
 */

/** A delivery to dispatch: its task's attempt number is its `dispatches`. */
export interface DeliveryToDispatch {
  id: string;
  dispatches: number;
}

export interface EventRow {
  /** `msg_…`: the Standard Webhooks `webhook-id`. */
  id: string;
  type: string;
  orderingKey: string | null;
  /** The envelope `{ type, timestamp, data }`, sent as the body. */
  payload: Record<string, unknown>;
}

/**
 * The event, and one pending delivery per enabled endpoint subscribed to its type. An event no endpoint
 * subscribes to is not written at all: nobody would receive it, and its payload may name a person (a
 * `contact.erased` carries the handles erased) who should then be kept nowhere.
 */
export async function recordEvent(sql: Sql, event: EventRow): Promise<DeliveryToDispatch[]> {
  return await sql<DeliveryToDispatch[]>`
    with subscriber as (
      select id, created_at from webhook_endpoints
      where status = 'enabled' and ${event.type} = any(events)),
    event as (
      insert into outbound_events (id, type, ordering_key, payload)
      select ${event.id}, ${event.type}, ${event.orderingKey}, ${sql.json(event.payload as never)}
      where exists (select from subscriber)
      returning id, ordering_key)
    insert into event_deliveries (event_id, endpoint_id, ordering_key)
    select event.id, subscriber.id, event.ordering_key from event, subscriber
    order by subscriber.created_at, subscriber.id
    returning id, dispatches`;
}

/** A test event to one endpoint only, whatever it subscribes to (the admin API's "send a test"). */
export async function recordTestEvent(
  sql: Sql,
  endpointId: string,
  event: EventRow,
): Promise<DeliveryToDispatch | undefined> {
  const [row] = await sql<DeliveryToDispatch[]>`
    with endpoint as (select id from webhook_endpoints where id = ${endpointId}),
    event as (
      insert into outbound_events (id, type, ordering_key, payload)
      select ${event.id}, ${event.type}, ${event.orderingKey}, ${sql.json(event.payload as never)}
      from endpoint
      returning id, ordering_key)
    insert into event_deliveries (event_id, endpoint_id, ordering_key)
    select event.id, endpoint.id, event.ordering_key from event, endpoint
    returning id, dispatches`;
  return row;
}

/**
 * GDPR erasure of a contact: its events (their payloads may name the person) and their deliveries, sent
 * or still pending, are deleted; a pending one is never sent after the erasure. Call it in the erasure's
 * transaction before recording `contact.erased`. Returns how many events were deleted.
 */
export async function forgetEventsOf(sql: Sql, orderingKey: string): Promise<number> {
  const result = await sql`delete from outbound_events where ordering_key = ${orderingKey}`;
  return result.count;
}
