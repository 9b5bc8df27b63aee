import type { Identity, Tier } from "../../domain/identity";
import type { IntercomConversation } from "../../ports/intercom";
import type { ChannelPolicy, ConversationState, PendingMessage, PendingWork } from "../pipeline/channel";
import { unansweredParts } from "./parts";

/**
 * Intercom's rules for a turn: the bot is silent on a closed conversation and while a person has it
 * (assigned to another admin, or taken over); it answers only customer parts that no admin comment
 * follows yet, so its own reply (or a person's) is never answered, nor a message answered twice.
 */
export class IntercomPolicy implements ChannelPolicy<IntercomConversation> {
  constructor(
    private readonly settings: {
      /** The bot's admin id: its own parts never trigger a reply. */
      adminId: string;
      customerTier: Tier;
    },
  ) {}

  identity(conversation: IntercomConversation): Identity {
    return {
      id: `intercom:${conversation.contactId ?? conversation.id}`,
      kind: "intercom",
      tier: this.settings.customerTier,
    };
  }

  skipReason(conversation: IntercomConversation, state: ConversationState): "closed" | "human" | undefined {
    if (!conversation.open) return "closed";
    const assignee = conversation.adminAssigneeId;
    const humanAssigned = assignee !== null && assignee !== this.settings.adminId;
    return state.mode === "human" || humanAssigned ? "human" : undefined;
  }

  pending(conversation: IntercomConversation, messages: PendingMessage[]): PendingWork {
    const wanted = new Set(messages.map((m) => m.id));
    const unanswered = new Set(unansweredParts(conversation, this.settings.adminId).map((p) => p.id));
    const parts = conversation.parts.filter((p) => wanted.has(p.id));
    // Answered already (a crash after the reply was posted, or a person replied): never answered twice.
    const open = parts.filter((p) => unanswered.has(p.id));
    if (open.length > 0) {
      const text = open
        .map((p) => p.body.trim())
        .filter(Boolean)
        .join("\n");
      return { kind: "answer", text };
    }
    return parts.length === 0 ? { kind: "missing" } : { kind: "answered" };
  }
}
