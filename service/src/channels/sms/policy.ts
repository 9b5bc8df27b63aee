import type { Identity } from "../../domain/identity";
import type { ChannelPolicy, ConversationState, PendingMessage, PendingWork } from "../pipeline/channel";
import type { SmsView } from "./view";

/**
 * SMS's rules for a turn. A customer's number is their identity within the tenant, so one thread (one
 * engine session: channel + number) continues across days. The bot is silent while a person has the
 * conversation; every waiting text is answered together.
 */
export const smsPolicy: ChannelPolicy<SmsView> = {
  identity(view: SmsView): Identity {
    return { id: `phone:${view.phone}`, kind: "phone", tier: view.settings.tier };
  },
  skipReason(_view: SmsView, state: ConversationState): "human" | undefined {
    return state.mode === "human" ? "human" : undefined;
  },
  pending(_view: SmsView, messages: PendingMessage[]): PendingWork {
    const text = messages
      .map((m) => m.text?.trim() ?? "")
      .filter(Boolean)
      .join("\n");
    // An SMS carries its text in the webhook; an empty one (a picture alone) has nothing to answer.
    return text ? { kind: "answer", text } : { kind: "missing" };
  },
};
