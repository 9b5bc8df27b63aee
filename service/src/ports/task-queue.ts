/**
 * Where a task runs: the tenant its outbox row belongs to. The task carries it, so the handler scopes its
 * work to that tenant before it reads the row (row-level security shows it no other tenant's rows).
 */
export interface TaskOptions {
  attempt: number;
  notBefore?: Date | undefined;
  tenantId: string;
}

/** Work that outlives a request: one task per outbox row, delivered at least once. */
export interface TaskQueue {
  readonly name: string;
  /**
   * Asks for `process(outboxId)` to run, not before `notBefore`. `attempt` makes the task name unique per
   * dispatch, so a duplicate enqueue of the same dispatch is dropped by the queue. A queue that takes the
   * task without I/O (in-process) returns nothing; one that needs a round trip (Cloud Tasks) returns its
   * promise, and a webhook's acknowledgement waits for it.
   */
  enqueue(outboxId: string, opts: TaskOptions): Promise<void> | void;
  /** Let running tasks finish (shutdown). */
  close(): Promise<void>;
}
