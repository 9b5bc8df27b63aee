import type { Identity } from "../../domain/identity";
import type { ConversationState, PendingMessage, PendingWork } from "../pipeline/channel";
import { classifyKeyword } from "./keywords";
import type { SmsView } from "./view";

/** The SMS channel's rules for a turn: pure decisions over what the sender read. */
export const smsPolicy = {
  /** A customer is their number within the tenant: one history and budget across days and numbers. */
  identity(view: SmsView): Identity {
    return { id: `phone:${view.customer}`, kind: "phone", tier: view.settings.tier };
  },

  skipReason(view: SmsView, state: ConversationState): string | undefined {
    if (!view.connection) return "channel_not_connected";
    return state.mode === "human" ? "human" : undefined;
  },

  /** The questions among the texts (commands were dealt with before), as one message. */
  pending(_view: SmsView, messages: PendingMessage[]): PendingWork {
    const questions = messages
      .map((m) => m.text?.trim() ?? "")
      .filter((text) => text !== "" && !classifyKeyword(text));
    return questions.length > 0 ? { kind: "answer", text: questions.join("\n") } : { kind: "answered" };
  },
};
