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
import type { EscalationRequest } from "../../engine/follow-up";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import { redactPii } from "../../redaction";
import type { HandoffContext, HandoffStep, QueuedChannel } from "./channel";

export interface HandoffDeps {
  sql: Sql;
  log: Logger;
  /** Opens the conversation's escalation for the tenant's team (engine/escalations.ts `handOff`). */
  escalations?: { handOff(request: EscalationRequest): Promise<unknown> } | undefined;
}

/**
 * Hands a conversation to a person through the channel's steps, then keeps the bot silent on it. Each step
 * is recorded, so a handoff interrupted by an error resumes where it stopped; a step that must not run
 * twice is recorded before it runs as well, and is not repeated if it was interrupted.
 */
export async function handOff<View>(
  deps: HandoffDeps,
  channel: QueuedChannel<View>,
  turn: { key: ConversationKey; view: View; outboxIds: string[]; contactId: string | null },
  reason: string,
  /** What the customer wrote that is being handed over (the turn's waiting messages). */
  waiting?: string,
): Promise<"handoff"> {
  const { sql, log } = deps;
  const { key } = turn;
  const record = await openHandoff(sql, key, reason);
  const { context, sessionId } = await handoffContext(sql, key, reason);
  // First, so the team hears of it even when a channel step keeps failing. Not a recorded step: opening
  // joins the conversation's unresolved escalation, so it is harmless again after an interruption.
  await deps.escalations?.handOff({
    channel: key.channel as EscalationRequest["channel"],
    conversationId: key.conversationId,
    // A channel's own contact id (Intercom's) is not a Switchboard contact: linked later by the contacts part.
    contactId: turn.contactId && UUID.test(turn.contactId) ? turn.contactId : null,
    sessionId,
    reason,
    summary: context.summary ?? customerWords(context.recent, waiting),
  });
  const steps = channel.sender.handoffSteps(turn.view, context);
  for (const step of steps) {
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The session's summary and last messages, for the person taking over, and the session's id. */
async function handoffContext(
  sql: Sql,
  key: ConversationKey,
  reason: string,
): Promise<{ context: HandoffContext; sessionId: string | null }> {
  const session = await findSessionByRef(sql, key.channel, key.conversationId);
  const recent = session ? await listMessages(sql, session.id, { limit: 6 }) : [];
  return {
    context: {
      reason,
      summary: session?.summary ?? null,
      // A person's earlier answer reads as the assistant's side for whoever takes over now.
      recent: recent.map((m) => ({ role: m.role === "user" ? "user" : "assistant", content: m.content })),
    },
    sessionId: session?.id ?? null,
  };
}

/**
 * Without a session summary (a first message handed over before any turn), the person taking over reads
 * what the customer wrote last, redacted as everything stored is, so the team's notice never says only
 * "none yet".
 */
function customerWords(recent: HandoffContext["recent"], waiting: string | undefined): string | null {
  const said = [...recent.filter((m) => m.role === "user").map((m) => m.content), waiting ?? ""]
    .map((line) => redactPii(line.replace(/\s+/g, " ").trim()).text)
    // After a turn the session holds the waiting message already (stored redacted): once is enough.
    .filter((line, i, all) => line.length > 0 && line !== all[i + 1])
    .slice(-3);
  if (said.length === 0) return null;
  const text = `The customer wrote: ${said.map((line) => `"${line}"`).join(" / ")}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
