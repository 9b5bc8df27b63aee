import type { Logger } from "../logger";
import type { TaskKind, TaskOptions, TaskQueue } from "../ports/task-queue";

/**
 * The local queue: runs tasks in this process with bounded concurrency. Nothing depends on it for
 * durability: the outbox row stays pending until processed, and the sweeper re-dispatches lost work.
 */
export class InProcessTaskQueue implements TaskQueue {
  readonly name = "in-process";
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private readonly queued = new Set<string>();
  private closed = false;

  constructor(
    private readonly run: (id: string, tenantId: string, kind: TaskKind) => Promise<void>,
    private readonly log: Logger,
    private readonly concurrency = 4,
  ) {}

  /** Synchronous: a timer, no I/O (the webhook acknowledgement does not wait on it). */
  enqueue(id: string, opts: TaskOptions): void {
    if (this.closed) return;
    const kind = opts.kind ?? "outbox";
    const key = `${kind}:${id}:${opts.attempt}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const delay = Math.max(0, (opts.notBefore?.getTime() ?? 0) - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.queued.delete(key);
      void this.start(id, opts.tenantId, kind);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private async start(id: string, tenantId: string, kind: TaskKind) {
    while (this.running.size >= this.concurrency)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) return;
    const task = this.run(id, tenantId, kind)
      .catch((error: unknown) => this.log.error({ error, kind, id }, "in-process task failed"))
      .finally(() => {
        this.running.delete(task);
        this.waiting.shift()?.();
      });
    this.running.add(task);
  }

  async close() {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.allSettled([...this.running]);
  }
}
