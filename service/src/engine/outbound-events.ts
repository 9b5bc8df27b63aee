import { randomUUID } from "node:crypto";
import type { Sql } from "../db/client";
import { type DeliveryToDispatch, recordEvent } from "../db/outbound-events";
import { currentTenantId } from "../db/tenant-scope";
import type { Logger } from "../logger";
import type { TaskQueue } from "../ports/task-queue";
import type { DispatchAfterCommit, OutboundEvent, OutboundEvents } from "./follow-up";

/** A Standard Webhooks message id: `msg_` and 32 hex digits, the same on every retry and replay. */
export const newMessageId = () => `msg_${randomUUID().replaceAll("-", "")}`;

/** The body every endpoint gets: the Standard Webhooks envelope. */
export function envelope(type: string, data: Record<string, unknown>, at: Date) {
  return { type, timestamp: at.toISOString(), data };
}

/**
 * Enqueues deliveries' tasks (kind `event-delivery`) in the tenant's name. A refused enqueue loses
 * nothing: the delivery stays pending and the sweep dispatches it.
 */
export async function dispatchDeliveries(
  queue: TaskQueue,
  log: Pick<Logger, "warn">,
  tenantId: string,
  deliveries: readonly DeliveryToDispatch[],
  notBefore?: Date,
): Promise<void> {
  await Promise.all(
    deliveries.map(async (d) => {
      try {
        await queue.enqueue(d.id, { attempt: d.dispatches, tenantId, kind: "event-delivery", notBefore });
      } catch (error) {
        log.warn(
          { event: "webhook.enqueue_failed", deliveryId: d.id, error },
          "enqueue of a webhook delivery failed; the sweep will dispatch it",
        );
      }
    }),
  );
}

/**
 * The outbox of events to tenants' endpoints (engine/follow-up.ts's `OutboundEvents`): the event and one
 * delivery per subscribed endpoint are written with the caller's transaction; what it returns enqueues
 * them once that transaction committed.
 */
export class OutboundEventOutbox implements OutboundEvents {
  constructor(private readonly deps: { queue: TaskQueue; log: Pick<Logger, "warn"> }) {}

  async record(sql: Sql, event: OutboundEvent): Promise<DispatchAfterCommit> {
    const tenantId = currentTenantId();
    if (!tenantId) throw new Error("an outbound event is recorded in a tenant's scope (inTenant)");
    const deliveries = await recordEvent(sql, {
      id: newMessageId(),
      type: event.type,
      orderingKey: event.orderingKey,
      payload: envelope(event.type, event.data, new Date()),
    });
    return () => dispatchDeliveries(this.deps.queue, this.deps.log, tenantId, deliveries);
  }
}
