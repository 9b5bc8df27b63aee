import type { Sql } from "../db/client";
import { completeHandoff, handoffStep, openHandoff, setConversationMode } from "../db/intercom";
import { listMessages } from "../db/messages";
import { findSessionByRef } from "../db/sessions";
import { type BusinessHours, isWithinBusinessHours } from "../domain/business-hours";
import type { HandoffRules } from "../engine/handoff-policy";
import type { Logger } from "../logger";
import { LOG_EVENT } from "../observability/log-events";
import type { IntercomConversation, IntercomGateway } from "../ports/intercom";
import { redactPii } from "../redaction";
import { toIntercomHtml } from "./html";
import { CUSTOMER_AUTHORS } from "./intercom-parts";

export interface HandoffSettings extends Omit<HandoffRules, "maxAttempts"> {
  /** Who gets the conversation; unassigned (left in the inbox) when absent. */
  assignee?: { type: "admin" | "team"; id: string } | undefined;
  tag: string;
  message: string;
  afterHoursMessage: string;
  businessHours: BusinessHours;
}

/**
 * Hands an Intercom conversation to a person: customer message, internal note with a summary, tag,
 * assignment; then the bot stays silent. Each step is recorded, so a handoff interrupted by an error
 * resumes where it stopped.
 */
export class IntercomHandoff {
  constructor(
    private readonly deps: {
      sql: Sql;
      gateway: IntercomGateway;
      adminId: string;
      settings: HandoffSettings;
      log: Logger;
    },
  ) {}

  async run(conversation: IntercomConversation, reason: string): Promise<void> {
    const { sql, gateway, adminId, settings: h, log } = this.deps;
    const record = await openHandoff(sql, conversation.id, reason);
    const step = async (name: string, fn: () => Promise<void>) => {
      if (record.steps.includes(name)) return;
      await fn();
      await handoffStep(sql, record.id, name);
      record.steps.push(name);
    };
    const inHours = isWithinBusinessHours(h.businessHours, new Date());
    await step("message", () =>
      gateway.reply(conversation.id, {
        adminId,
        kind: "comment",
        html: toIntercomHtml(inHours ? h.message : h.afterHoursMessage),
      }),
    );
    await step("note", async () =>
      gateway.reply(conversation.id, {
        adminId,
        kind: "note",
        html: await this.noteFor(conversation, reason),
      }),
    );
    await step("tag", () => gateway.tag(conversation.id, { adminId, tagName: h.tag }));
    const assignee = h.assignee;
    if (assignee) {
      await step("assign", () =>
        gateway.assign(conversation.id, { adminId, assigneeType: assignee.type, assigneeId: assignee.id }),
      );
    }
    await setConversationMode(sql, conversation.id, "human");
    await completeHandoff(sql, record.id);
    log.info(
      { event: LOG_EVENT.handoff, reason, conversationId: conversation.id },
      `conversation handed to a person (${reason})`,
    );
  }

  private async noteFor(conversation: IntercomConversation, reason: string): Promise<string> {
    const session = await findSessionByRef(this.deps.sql, "intercom", conversation.id);
    const recent = session ? await listMessages(this.deps.sql, session.id, { limit: 6 }) : [];
    const customer = conversation.parts
      .filter((p) => CUSTOMER_AUTHORS.has(p.authorType))
      .slice(-3)
      .map((p) => redactPii(p.body).text);
    const lines = [
      `Switchboard handed this conversation to a person. Reason: ${reason.replace(/_/g, " ")}.`,
      session?.summary ? `Summary: ${session.summary}` : "",
      recent.length
        ? `Last exchange:\n${recent.map((m) => `${m.role === "user" ? "Customer" : "Bot"}: ${m.content.slice(0, 300)}`).join("\n")}`
        : customer.length
          ? `Customer wrote:\n${customer.map((c) => `- ${c.slice(0, 300)}`).join("\n")}`
          : "",
    ];
    return toIntercomHtml(lines.filter(Boolean).join("\n\n"));
  }
}
