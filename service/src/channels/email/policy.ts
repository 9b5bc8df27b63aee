import type { Identity } from "../../domain/identity";
import type { ChannelPolicy, ConversationState, PendingMessage, PendingWork } from "../pipeline/channel";
import { answering, customerAddress, type EmailView } from "./view";

/**
 * E-mail's rules for a turn. The customer's address is their identity within the tenant; each Gmail thread
 * is its own conversation (engine session). The bot is silent while a person has the thread; the waiting
 * messages of a thread are answered together, by one reply to the newest.
 */
export const emailPolicy: ChannelPolicy<EmailView> = {
  identity(view: EmailView, conversationId: string): Identity {
    const address = customerAddress(view);
    return { id: `email:${address ?? conversationId}`, kind: "email", tier: "free" };
  },
  skipReason(view: EmailView, state: ConversationState): string | undefined {
    if (state.mode === "human") return "human";
    // Nothing could be sent from it: the model is not asked for a reply nobody would get.
    return view.mailbox ? undefined : "mailbox_disconnected";
  },
  pending(view: EmailView, messages: PendingMessage[]): PendingWork {
    const recorded = new Set(view.inbound.map((m) => m.gmailId));
    const waiting = messages.filter((m) => recorded.has(m.id));
    // The sync worker records a message before it queues it: without its row there is nothing to thread
    // a reply to (erased, or the mailbox deleted and connected again).
    if (waiting.length === 0) return { kind: "missing" };
    // The newest already has its reply (sent or drafted before a crash lost the outbox's record of it).
    const newest = answering(view)?.gmailId;
    if (view.answers.some((a) => a.answersGmailId === newest && a.status !== "failed" && a.gmailId))
      return { kind: "answered" };
    const text = waiting
      .map((m) => m.text?.trim() ?? "")
      .filter(Boolean)
      .join("\n\n");
    return text ? { kind: "answer", text } : { kind: "missing" };
  },
};
