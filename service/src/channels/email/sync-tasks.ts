import type { Logger } from "../../logger";
import type { TaskQueue } from "../../ports/task-queue";

export interface SyncTask {
  connectionId: string;
  tenantId: string;
  /** The mailbox's sync request number: Cloud Tasks names the task by it, so each request is a new task. */
  attempt: number;
  notBefore?: Date | undefined;
}

/**
 * Asks the queue for a `mailbox-sync` task. A failed enqueue is logged and loses nothing: the mailbox's
 * state says a sync is owed, and the catch-up sweep finds it on the next poll.
 */
export async function dispatchSync(
  deps: { queue: TaskQueue; log: Logger },
  task: SyncTask,
): Promise<boolean> {
  const { connectionId, tenantId, attempt, notBefore } = task;
  try {
    await deps.queue.enqueue(connectionId, { kind: "mailbox-sync", attempt, tenantId, notBefore });
    return true;
  } catch (error) {
    deps.log.warn(
      { event: "email.sync_enqueue_failed", tenantId, connectionId, error },
      "could not enqueue a mailbox sync; the sweep will ask again",
    );
    return false;
  }
}
