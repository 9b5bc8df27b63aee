import type { CloudTasksClientOptions } from "../adapters/cloud-tasks-queue";
import { InProcessTaskQueue } from "../adapters/in-process-queue";
import { TaskHandlers } from "../adapters/task-handlers";
import { type Config, internalAudience, taskTargetUrl } from "../config";
import type { Sweep } from "../engine/sweeps";
import type { Logger } from "../logger";
import type { TaskQueue } from "../ports/task-queue";

/**
 * The one task queue of every kind of task (inbound outbox rows, outbound event deliveries, team
 * notifications), its handlers (registered by the parts that own each kind, after the queue exists: the
 * parts need the queue to dispatch), and the periodic sweeps those parts add.
 */
export interface Tasks {
  queue: TaskQueue;
  handlers: TaskHandlers;
  sweeps: Sweep[];
}

export async function buildTasks(
  config: Config,
  deps: { log: Logger; cloudTasksClientOptions?: CloudTasksClientOptions | undefined },
): Promise<Tasks> {
  const handlers = new TaskHandlers();
  return { queue: await taskQueue(config, handlers, deps), handlers, sweeps: [] };
}

async function taskQueue(
  config: Config,
  handlers: TaskHandlers,
  deps: { log: Logger; cloudTasksClientOptions?: CloudTasksClientOptions | undefined },
): Promise<TaskQueue> {
  if (config.TASK_QUEUE === "in-process") {
    return new InProcessTaskQueue(
      async (id, tenantId, kind) => void (await handlers.run(kind, id, tenantId)),
      deps.log,
    );
  }
  const { CloudTasksQueue } = await import("../adapters/cloud-tasks-queue");
  return new CloudTasksQueue({
    queue: config.CLOUD_TASKS_QUEUE ?? "",
    targetUrl: taskTargetUrl(config),
    invokerServiceAccount: config.TASKS_INVOKER_SA ?? "",
    audience: internalAudience(config),
    clientOptions: deps.cloudTasksClientOptions,
  });
}
