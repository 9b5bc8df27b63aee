import { appendAudit } from "../db/audit";
import type { Sql } from "../db/client";
import {
  type ClaimedDelivery,
  claimDelivery,
  holdDelivery,
  nextInLine,
  settleDelivery,
} from "../db/event-deliveries";
import { dueDeliveries } from "../db/platform-deliveries";
import { inTenant } from "../db/tenant-scope";
import { disableEndpoint } from "../db/webhook-endpoints";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import type { TaskQueue } from "../ports/task-queue";
import type { WebhookSender } from "../ports/webhook-sender";
import { dispatchDeliveries } from "./outbound-events";
import type { Sweep } from "./sweeps";
import {
  type CircuitPolicy,
  circuitOpens,
  DEFAULT_CIRCUIT,
  RETRY_DELAYS_MS,
  retryAt,
} from "./webhook-schedule";

/**
 * The HTTP status class of an attempt (`2xx`, `4xx`, `5xx`, …), `none` when nothing answered: a metric label
 * of few values, where the status itself would make a series per code.
 */
export function statusClass(statusCode: number | null): string {
  return statusCode === null ? "none" : `${Math.floor(statusCode / 100)}xx`;
}

/** An endpoint the circuit switched off: for the tenant's team (the lead wires the notifier). */
export interface DisabledEndpoint {
  tenantId: string;
  endpointId: string;
  description: string | null;
  /** The URL's host only: the rest of a Zapier URL is its credential. */
  host: string;
  reason: string;
}

export interface WebhookDeliveryDeps {
  sql: Sql;
  queue: TaskQueue;
  sender: WebhookSender;
  /** An endpoint's `whsec_` secret by its store reference (WebhookSecretCache). */
  secret: (ref: string) => Promise<string>;
  log: Logger;
  /** Told when the circuit disables an endpoint (after the audit entry is written). */
  onEndpointDisabled?: ((endpoint: DisabledEndpoint) => Promise<void>) | undefined;
  circuit?: CircuitPolicy | undefined;
  retryDelaysMs?: readonly number[] | undefined;
  /** How long a sender holds a delivery (longer than the sender's timeout). @default 60_000 */
  leaseMs?: number | undefined;
  /** The sweep leaves a due delivery this long to its own task before dispatching it again. @default 60_000 */
  sweepGraceMs?: number | undefined;
  now?: (() => Date) | undefined;
}

/** After a secret store failure the delivery is tried again this much later (not the endpoint's fault). */
const SECRET_RETRY_MS = 60_000;

/**
 * Sends the deliveries of outbound events: the `event-delivery` task handler and its sweep. A delivery
 * goes out only after the older pending ones of its endpoint and ordering key (a CRM sees a contact's
 * `lead.created` before its `lead.updated`); a failure is retried on the backoff schedule, and an endpoint
 * that keeps failing is disabled (its pending deliveries kept for when it is enabled again).
 */
export class WebhookDeliveries {
  private readonly now: () => Date;

  constructor(private readonly deps: WebhookDeliveryDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The task handler: one attempt at the delivery `id`, in its tenant's scope; returns the outcome. */
  handle(id: string, tenantId: string): Promise<string> {
    return inTenant(tenantId, async () => {
      const { sql } = this.deps;
      const delivery = await claimDelivery(sql, id, this.now(), this.deps.leaseMs ?? 60_000);
      if (!delivery) return "nothing to send (delivered, not due, or held by another sender)";
      if (delivery.endpointStatus !== "enabled") {
        await holdDelivery(sql, id, null);
        return "held: the endpoint is disabled";
      }
      if (delivery.blockedUntil) {
        await holdDelivery(sql, id, new Date(new Date(delivery.blockedUntil).getTime() + 1000));
        return "waiting for an older delivery of its ordering key";
      }
      let secret: string;
      try {
        secret = await this.deps.secret(delivery.secretName);
      } catch (error) {
        this.deps.log.warn(
          { event: "webhook.secret_unavailable", deliveryId: id, endpointId: delivery.endpointId, error },
          "the endpoint's signing secret could not be read; the delivery waits",
        );
        await holdDelivery(sql, id, new Date(this.now().getTime() + SECRET_RETRY_MS));
        return "held: the signing secret is unavailable";
      }
      return this.attempt(tenantId, delivery, secret);
    });
  }

  private async attempt(tenantId: string, delivery: ClaimedDelivery, secret: string): Promise<string> {
    const { sql, log } = this.deps;
    const sent = await this.deps.sender.send({
      url: delivery.url,
      secret,
      messageId: delivery.eventId,
      body: JSON.stringify(delivery.payload),
    });
    const now = this.now();
    const delivered = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300;
    const retry = delivered
      ? null
      : retryAt(delivery.attempts + 1, now, this.deps.retryDelaysMs ?? RETRY_DELAYS_MS);
    const settled = await settleDelivery(sql, delivery.id, now, { delivered, ...sent, retryAt: retry });
    const fields = {
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      webhookId: delivery.eventId,
      attempt: delivery.attempts + 1,
      statusCode: sent.statusCode,
      statusClass: statusClass(sent.statusCode),
      durationMs: sent.durationMs,
    };
    if (delivered) {
      log.info({ event: LOG_EVENT.webhookDelivered, ...fields }, "webhook delivered");
    } else {
      log.warn(
        {
          event: LOG_EVENT.webhookAttemptFailed,
          ...fields,
          error: sent.error,
          retryAt: retry?.toISOString() ?? null,
        },
        retry ? "webhook attempt failed; retrying later" : "webhook delivery failed for good",
      );
    }
    if (retry && settled) {
      await dispatchDeliveries(
        this.deps.queue,
        log,
        tenantId,
        [{ id: delivery.id, dispatches: settled.dispatches }],
        retry,
      );
    }
    if (!delivered && settled && circuitOpens(settled, now, this.deps.circuit ?? DEFAULT_CIRCUIT)) {
      await this.openCircuit(tenantId, delivery, settled.consecutiveFailures);
    }
    // Settled for good either way: the next delivery of its key need not wait any longer.
    if ((delivered || !retry) && delivery.orderingKey !== null) {
      const next = await nextInLine(sql, delivery.endpointId, delivery.orderingKey, now);
      if (next) await dispatchDeliveries(this.deps.queue, log, tenantId, [next]);
    }
    return delivered
      ? `delivered (${sent.statusCode})`
      : `failed (${sent.error})${retry ? "; retrying" : ""}`;
  }

  /** Disables the endpoint with an audit entry (once, whichever sender gets there first), then tells. */
  private async openCircuit(tenantId: string, delivery: ClaimedDelivery, failures: number) {
    const { sql, log } = this.deps;
    const reason = `${failures} failed attempts in a row`;
    const disabled = await sql.begin(async (tx) => {
      const endpoint = await disableEndpoint(tx as unknown as Sql, delivery.endpointId, reason);
      if (!endpoint) return undefined;
      await appendAudit(tx as unknown as Sql, {
        actor: "system",
        role: "system",
        action: "webhook_endpoint.disabled",
        target: endpoint.id,
        summary: { reason, consecutiveFailures: failures, failingSince: endpoint.failingSince },
      });
      return endpoint;
    });
    if (!disabled) return;
    const notice: DisabledEndpoint = {
      tenantId,
      endpointId: disabled.id,
      description: disabled.description,
      host: new URL(disabled.url).host,
      reason,
    };
    log.warn(
      { event: LOG_EVENT.webhookEndpointDisabled, ...notice },
      "a webhook endpoint kept failing and was disabled",
    );
    await this.deps
      .onEndpointDisabled?.(notice)
      .catch((error: unknown) =>
        log.warn(
          { event: "webhook.disabled_notice_failed", endpointId: disabled.id, error },
          "could not tell the tenant",
        ),
      );
  }

  /** The poll's sweep: deliveries due a while ago whose task was lost are dispatched again. */
  sweep(): Sweep {
    return {
      name: "event-deliveries",
      run: async () => {
        const now = this.now();
        const dueBefore = new Date(now.getTime() - (this.deps.sweepGraceMs ?? 60_000));
        const due = await dueDeliveries(this.deps.sql, now, dueBefore, 200);
        for (const d of due) await dispatchDeliveries(this.deps.queue, this.deps.log, d.tenantId, [d]);
        return { redispatched: due.length };
      },
    };
  }
}
