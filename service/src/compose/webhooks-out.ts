import { HttpWebhookSender } from "../adapters/webhook-sender";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { OutboundEvents } from "../engine/follow-up";
import { OutboundEventOutbox } from "../engine/outbound-events";
import { type DisabledEndpoint, WebhookDeliveries } from "../engine/webhook-delivery";
import { WebhookSecretCache } from "../engine/webhook-secrets";
import { checkTarget, type TargetPolicy } from "../engine/webhook-targets";
import type { Logger } from "../logger";
import type { SecretStore } from "../ports/secret-store";
import type { WebhookAdminDeps } from "../routes/admin/webhook-deps";
import type { Tasks } from "./tasks";

export interface WebhooksOut {
  /** What the other parts record their events with (contacts/leads, calls, escalations, erasure). */
  events: OutboundEvents;
  deliveries: WebhookDeliveries;
  /** What the admin API's endpoint and delivery routes need. */
  admin: WebhookAdminDeps;
}

/** http to localhost and private addresses: only outside production, and only while the flag allows it. */
export function webhookTargetPolicy(config: Config): TargetPolicy {
  return { allowLocal: config.WEBHOOK_ALLOW_LOCAL_TARGETS && config.NODE_ENV !== "production" };
}

/**
 * Signed webhooks out: the outbox the other parts record events with, the `event-delivery` task handler
 * and its sweep (registered on the one task queue), and the admin API's part. `onEndpointDisabled` is
 * the team notification of an endpoint the circuit switched off (until it is wired: a log line only).
 */
export function buildWebhooksOut(
  config: Config,
  deps: {
    sql: Sql;
    log: Logger;
    tasks: Tasks;
    secretStore: SecretStore;
    onEndpointDisabled?: ((endpoint: DisabledEndpoint) => Promise<void>) | undefined;
  },
): WebhooksOut {
  const { sql, log, tasks, secretStore } = deps;
  const targets = webhookTargetPolicy(config);
  const secrets = new WebhookSecretCache(secretStore);
  const deliveries = new WebhookDeliveries({
    sql,
    log,
    queue: tasks.queue,
    sender: new HttpWebhookSender({ allowLocal: targets.allowLocal, timeoutMs: config.WEBHOOK_TIMEOUT_MS }),
    secret: (ref) => secrets.get(ref),
    onEndpointDisabled: deps.onEndpointDisabled,
  });
  tasks.handlers.register("event-delivery", (id, tenantId) => deliveries.handle(id, tenantId));
  tasks.sweeps.push(deliveries.sweep());
  return {
    events: new OutboundEventOutbox({ queue: tasks.queue, log }),
    deliveries,
    admin: {
      checkTarget: (url) => checkTarget(url, targets),
      secretCache: secrets,
      queue: tasks.queue,
      log,
    },
  };
}
