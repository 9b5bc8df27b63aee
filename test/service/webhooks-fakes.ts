import { randomBytes, randomUUID } from "node:crypto";
import { DatabaseSecretStore } from "../../service/src/adapters/database-secret-store";
import { HttpWebhookSender } from "../../service/src/adapters/webhook-sender";
import type { Sql } from "../../service/src/db/client";
import { inTenant } from "../../service/src/db/tenant-scope";
import { insertEndpoint } from "../../service/src/db/webhook-endpoints";
import { OutboundEventOutbox } from "../../service/src/engine/outbound-events";
import { WebhookDeliveries, type WebhookDeliveryDeps } from "../../service/src/engine/webhook-delivery";
import {
  newWebhookSecret,
  WebhookSecretCache,
  webhookSecretKind,
} from "../../service/src/engine/webhook-secrets";
import { createLogger } from "../../service/src/logger";
import type { TaskOptions, TaskQueue } from "../../service/src/ports/task-queue";

/** The delivery side of outbound events, with a queue the test runs by hand and a clock it moves. */

/** Tasks are recorded; `runDue` runs those due by the (faked) clock, as Cloud Tasks would. */
export class ClockQueue implements TaskQueue {
  readonly name = "clock";
  tasks: ({ id: string } & TaskOptions)[] = [];
  enqueue(id: string, opts: TaskOptions) {
    this.tasks.push({ id, ...opts });
  }
  async close() {}
  /** Runs every task due now, and those they enqueue that are due now too; returns the outcomes. */
  async runDue(deliveries: WebhookDeliveries): Promise<string[]> {
    const outcomes: string[] = [];
    for (;;) {
      const now = Date.now();
      const due = this.tasks.filter((t) => (t.notBefore?.getTime() ?? 0) <= now);
      if (due.length === 0) return outcomes;
      this.tasks = this.tasks.filter((t) => !due.includes(t));
      for (const task of due) outcomes.push(await deliveries.handle(task.id, task.tenantId));
    }
  }
}

export const silentLog = createLogger({ level: "silent" });

export function webhookParts(sql: Sql, extra: Partial<WebhookDeliveryDeps> = {}) {
  const store = new DatabaseSecretStore(sql, { key: randomBytes(32) });
  const queue = new ClockQueue();
  const secrets = new WebhookSecretCache(store, 0);
  const deliveries = new WebhookDeliveries({
    sql,
    queue,
    sender: new HttpWebhookSender({ allowLocal: true, timeoutMs: 5_000 }),
    secret: (ref) => secrets.get(ref),
    log: silentLog,
    ...extra,
  });
  const outbox = new OutboundEventOutbox({ queue, log: silentLog });
  return { store, queue, deliveries, outbox };
}

/** An endpoint of the current tenant with its secret in the store; returns its id and `whsec_` secret. */
export async function addEndpoint(
  sql: Sql,
  store: DatabaseSecretStore,
  tenantId: string,
  input: { url: string; events: string[]; description?: string },
) {
  const id = randomUUID();
  const secret = newWebhookSecret();
  const ref = await store.put({ tenantId, kind: webhookSecretKind(id) }, secret);
  await inTenant(tenantId, () =>
    insertEndpoint(sql, {
      id,
      url: input.url,
      events: input.events,
      description: input.description ?? null,
      secretName: ref,
    }),
  );
  return { id, secret };
}
