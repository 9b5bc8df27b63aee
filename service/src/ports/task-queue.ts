/** Work that outlives a request: one task per outbox row, delivered at least once. */
export interface TaskQueue {
  readonly name: string;
  /**
   * Asks for `process(outboxId)` to run, not before `notBefore`. `attempt` makes the task name unique per
   * dispatch, so a duplicate enqueue of the same dispatch is dropped by the queue.
   */
  enqueue(outboxId: string, opts: { attempt: number; notBefore?: Date | undefined }): Promise<void>;
  /** Let running tasks finish (shutdown). */
  close(): Promise<void>;
}
