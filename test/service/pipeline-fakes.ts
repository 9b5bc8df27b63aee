import type { InboundPipeline } from "../../service/src/channels/pipeline/pipeline";
import type { TurnInput, TurnResult } from "../../service/src/domain/turn";
import type { TurnEngine } from "../../service/src/engine/conversation-engine";
import type { TaskOptions, TaskQueue } from "../../service/src/ports/task-queue";

/** Fakes of what the inbound pipeline drives: the task queue and the engine (pipeline and SMS tests). */

/** Tasks are recorded and run only when the test says. */
export class FakeQueue implements TaskQueue {
  readonly name = "fake";
  tasks: ({ id: string } & TaskOptions)[] = [];
  enqueue(id: string, opts: TaskOptions) {
    this.tasks.push({ id, ...opts });
  }
  async close() {}
  async runAll(pipeline: InboundPipeline) {
    const due = this.tasks.splice(0);
    const outcomes: string[] = [];
    for (const task of due) outcomes.push(await pipeline.process(task.id, task.tenantId));
    return outcomes;
  }
}

/** A model that answers every question with a reply naming it (and counts the questions). */
export class FakeEngine implements TurnEngine {
  readonly turns: TurnInput[] = [];
  reply: (input: TurnInput) => string = (input) => `Answer to: ${input.message}`;
  async respond(input: TurnInput): Promise<TurnResult> {
    this.turns.push(input);
    return {
      sessionId: "00000000-0000-4000-8000-000000000000",
      reply: this.reply(input),
      model: "fake-model",
      provider: "fake",
      usage: { inputTokens: 10, outputTokens: 5, cachedTokens: 0, thoughtsTokens: 0, costUsd: 0 },
      outcome: "answered",
      confident: true,
      functionCalls: [],
      budget: { status: "ok", remaining: null },
    };
  }
  prepare(): never {
    throw new Error("not used by the pipeline");
  }
  run(): never {
    throw new Error("not used by the pipeline");
  }
}
