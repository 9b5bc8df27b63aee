import { CloudTasksClient } from "@google-cloud/tasks";
import type { TaskOptions, TaskQueue } from "../ports/task-queue";

export type CloudTasksClientOptions = ConstructorParameters<typeof CloudTasksClient>[0];

export interface CloudTasksQueueOptions {
  /** projects/P/locations/L/queues/Q */
  queue: string;
  /** Base URL of the service that serves /internal/* (the worker's, or this service's own); tasks push to
   * `${targetUrl}/internal/tasks/<kind>/<id>` (`outbox`, `event-delivery`, `notification`). */
  targetUrl: string;
  /** The identity Cloud Tasks signs the OIDC token as (it needs run.invoker on this service). */
  invokerServiceAccount: string;
  /** The OIDC token audience the service verifies. */
  audience: string;
  clientOptions?: CloudTasksClientOptions;
}

const ALREADY_EXISTS = 6;

/**
 * Cloud Tasks push queue. Each dispatch is a named task (`<kind>-<id>-<attempt>`), so an enqueue repeated
 * by a retry is rejected by Cloud Tasks as a duplicate instead of answering the customer twice.
 * https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues.tasks/create
 */
export class CloudTasksQueue implements TaskQueue {
  readonly name = "cloud-tasks";
  private readonly client: CloudTasksClient;

  constructor(private readonly opts: CloudTasksQueueOptions) {
    this.client = new CloudTasksClient(opts.clientOptions);
  }

  async enqueue(id: string, opts: TaskOptions) {
    const base = this.opts.targetUrl.replace(/\/+$/, "");
    const kind = opts.kind ?? "outbox";
    try {
      await this.client.createTask({
        parent: this.opts.queue,
        task: {
          name: `${this.opts.queue}/tasks/${kind}-${id}-${opts.attempt}`,
          ...(opts.notBefore
            ? { scheduleTime: { seconds: Math.ceil(opts.notBefore.getTime() / 1000) } }
            : {}),
          httpRequest: {
            httpMethod: "POST",
            url: `${base}/internal/tasks/${kind}/${id}`,
            headers: { "Content-Type": "application/json" },
            // The handler scopes itself to the row's tenant (tasks queued before tenants carry none: the default).
            body: Buffer.from(
              JSON.stringify(
                kind === "outbox" ? { outboxId: id, tenantId: opts.tenantId } : { tenantId: opts.tenantId },
              ),
            ).toString("base64"),
            oidcToken: { serviceAccountEmail: this.opts.invokerServiceAccount, audience: this.opts.audience },
          },
        },
      });
    } catch (error) {
      const e = error as { code?: number; status?: number };
      if (e.code === ALREADY_EXISTS || e.code === 409 || e.status === 409) return;
      throw error;
    }
  }

  async close() {
    await this.client.close();
  }
}
