import type { TaskHandler, TaskKind, TaskRunner } from "../ports/task-queue";

/**
 * The task kinds' handlers, registered at composition by the part that owns each kind (the inbound
 * pipeline its outbox rows, outbound events their deliveries, escalations their notifications). One queue
 * and one task route serve them all.
 */
export class TaskHandlers implements TaskRunner {
  private readonly handlers = new Map<TaskKind, TaskHandler>();

  register(kind: TaskKind, handler: TaskHandler): this {
    if (this.handlers.has(kind)) throw new Error(`a handler of ${kind} tasks is registered already`);
    this.handlers.set(kind, handler);
    return this;
  }

  has(kind: TaskKind): boolean {
    return this.handlers.has(kind);
  }

  async run(kind: TaskKind, id: string, tenantId: string): Promise<string> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler of ${kind} tasks`);
    return handler(id, tenantId);
  }
}
