import { type BusinessHours, isWithinBusinessHours } from "../../domain/business-hours";
import type { IntercomConversation, IntercomGateway } from "../../ports/intercom";
import { redactPii } from "../../redaction";
import type { HandoffContext, HandoffStep } from "../pipeline/channel";
import { toIntercomHtml } from "./html";
import { CUSTOMER_AUTHORS } from "./parts";

export interface IntercomHandoffSettings {
  /** Who gets the conversation; unassigned (left in the inbox) when absent. */
  assignee?: { type: "admin" | "team"; id: string } | undefined;
  tag: string;
  message: string;
  afterHoursMessage: string;
  businessHours: BusinessHours;
}

/**
 * Handing an Intercom conversation to a person: a message to the customer (in or after business hours),
 * an internal note with what the person should know, the handoff tag and the assignment. The two messages
 * are never sent twice; tagging and assigning again are harmless.
 */
export function intercomHandoffSteps(
  deps: { gateway: IntercomGateway; adminId: string; settings: IntercomHandoffSettings; now: Date },
  conversation: IntercomConversation,
  context: HandoffContext,
): HandoffStep[] {
  const { gateway, adminId, settings: h } = deps;
  const id = conversation.id;
  const inHours = isWithinBusinessHours(h.businessHours, deps.now);
  const steps: HandoffStep[] = [
    {
      name: "message",
      repeatable: false,
      run: () =>
        gateway.reply(id, {
          adminId,
          kind: "comment",
          html: toIntercomHtml(inHours ? h.message : h.afterHoursMessage),
        }),
    },
    {
      name: "note",
      repeatable: false,
      run: () => gateway.reply(id, { adminId, kind: "note", html: handoffNote(conversation, context) }),
    },
    { name: "tag", repeatable: true, run: () => gateway.tag(id, { adminId, tagName: h.tag }) },
  ];
  const assignee = h.assignee;
  if (assignee) {
    steps.push({
      name: "assign",
      repeatable: true,
      run: () => gateway.assign(id, { adminId, assigneeType: assignee.type, assigneeId: assignee.id }),
    });
  }
  return steps;
}

/**
 * The internal note for the person taking over: why, the session's summary, and the last exchange (or,
 * when the model was never asked, what the customer wrote, redacted).
 */
export function handoffNote(conversation: IntercomConversation, context: HandoffContext): string {
  const { reason, summary, recent } = context;
  const customer = conversation.parts
    .filter((p) => CUSTOMER_AUTHORS.has(p.authorType))
    .slice(-3)
    .map((p) => redactPii(p.body).text);
  const lines = [
    `Switchboard handed this conversation to a person. Reason: ${reason.replace(/_/g, " ")}.`,
    summary ? `Summary: ${summary}` : "",
    recent.length
      ? `Last exchange:\n${recent.map((m) => `${m.role === "user" ? "Customer" : "Bot"}: ${m.content.slice(0, 300)}`).join("\n")}`
      : customer.length
        ? `Customer wrote:\n${customer.map((c) => `- ${c.slice(0, 300)}`).join("\n")}`
        : "",
  ];
  return toIntercomHtml(lines.filter(Boolean).join("\n\n"));
}
