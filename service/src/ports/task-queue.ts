/**
 * What a task runs: an inbound outbox row (answer a conversation), an outbound event delivery (a signed
 * webhook to a tenant's endpoint), a notification to a tenant's team (e-mail, Slack), or a sync of a
 * connected Gmail mailbox (its id the mailbox's connection id). Each names a row of its own table; the
 * row, not the task, is the record of the work.
 */
export type TaskKind = "outbox" | "event-delivery" | "notification" | "mailbox-sync";

export const TASK_KINDS: readonly TaskKind[] = ["outbox", "event-delivery", "notification", "mailbox-sync"];

/**
 * Where a task runs: the tenant its row belongs to. The task carries it, so the handler scopes its work to
 * that tenant before it reads the row (row-level security shows it no other tenant's rows).
 */
export interface TaskOptions {
  attempt: number;
  notBefore?: Date | undefined;
  tenantId: string;
  /** Default `outbox`. */
  kind?: TaskKind | undefined;
}

/** Work that outlives a request: one task per row, delivered at least once. */
export interface TaskQueue {
  readonly name: string;
  /**
   * Asks for the row `id` of `opts.kind` to be run, not before `notBefore`. `attempt` makes the task name
   * unique per dispatch, so a duplicate enqueue of the same dispatch is dropped by the queue. A queue that
   * takes the task without I/O (in-process) returns nothing; one that needs a round trip (Cloud Tasks)
   * returns its promise, and a webhook's acknowledgement waits for it.
   */
  enqueue(id: string, opts: TaskOptions): Promise<void> | void;
  /** Let running tasks finish (shutdown). */
  close(): Promise<void>;
}

/** Runs one task of a kind for a tenant; returns its outcome (logged, and the task route's answer). */
export type TaskHandler = (id: string, tenantId: string) => Promise<string>;

/** The handlers of the task kinds the deployment runs, registered by the parts that own each kind. */
export interface TaskRunner {
  has(kind: TaskKind): boolean;
  run(kind: TaskKind, id: string, tenantId: string): Promise<string>;
}
