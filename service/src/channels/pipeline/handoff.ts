import type { Sql } from "../../db/client";
import {
  finishHandoff,
  type HandoffRecord,
  handoffStepDone,
  openHandoff,
  startHandoffStep,
} from "../../db/handoffs";
import { listMessages } from "../../db/messages";
import type { ConversationKey } from "../../db/pipeline";
import { findSessionByRef } from "../../db/sessions";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { HandoffContext, HandoffStep, QueuedChannel } from "./channel";

export interface HandoffDeps {
  sql: Sql;
  log: Logger;
}

/**
 * Hands a conversation to a person through the channel's steps, then keeps the bot silent on it. Each step
 * is recorded, so a handoff interrupted by an error resumes where it stopped; a step that must not run
 * twice is recorded before it runs as well, and is not repeated if it was interrupted.
 */
export async function handOff<View>(
  deps: HandoffDeps,
  channel: QueuedChannel<View>,
  turn: { key: ConversationKey; view: View; outboxIds: string[] },
  reason: string,
): Promise<"handoff"> {
  const { sql, log } = deps;
  const { key } = turn;
  const record = await openHandoff(sql, key, reason);
  const context = await handoffContext(sql, key, reason);
  for (const step of channel.sender.handoffSteps(turn.view, context)) {
    await runStep(deps, record, step, key);
  }
  await finishHandoff(sql, key, record.id, turn.outboxIds);
  log.info(
    { event: LOG_EVENT.handoff, channel: key.channel, reason, conversationId: key.conversationId },
    `conversation handed to a person (${reason})`,
  );
  return "handoff";
}

async function runStep(deps: HandoffDeps, record: HandoffRecord, step: HandoffStep, key: ConversationKey) {
  const { sql, log } = deps;
  if (record.steps.includes(step.name)) return;
  if (!step.repeatable) {
    if (record.startedStep === step.name) {
      // Begun by a process that died before recording it: it may have happened, so it is not repeated.
      log.warn(
        { event: "handoff.step_interrupted", step: step.name, conversationId: key.conversationId },
        "a handoff step was interrupted; not repeated",
      );
      await handoffStepDone(sql, record.id, step.name);
      return;
    }
    await startHandoffStep(sql, record.id, step.name);
  }
  await step.run();
  await handoffStepDone(sql, record.id, step.name);
  record.steps.push(step.name);
}

/** The session's summary and last messages, for the person taking over. */
async function handoffContext(sql: Sql, key: ConversationKey, reason: string): Promise<HandoffContext> {
  const session = await findSessionByRef(sql, key.channel, key.conversationId);
  const recent = session ? await listMessages(sql, session.id, { limit: 6 }) : [];
  return {
    reason,
    summary: session?.summary ?? null,
    recent: recent.map((m) => ({ role: m.role, content: m.content })),
  };
}
