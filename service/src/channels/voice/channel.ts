import type { Identity } from "../../domain/identity";
import type { ParsedNotification, QueuedChannel } from "../pipeline/channel";
import type { VoiceEvent } from "./events";
import { type VoiceChannelDeps, VoiceSender } from "./sender";
import type { VoiceView } from "./view";

export type { VoiceChannelDeps } from "./sender";

/**
 * The voice channel of one tenant: the end of a call answered by its Telnyx AI assistant, and the insights
 * Telnyx generated. The assistant itself talks to the caller; nothing here asks the engine. Every event is a
 * command the sender handles (stores the call, follows it up) and finishes, so the pipeline gives it what
 * it gives every channel: one record per delivery, a lease per call, retries with backoff.
 */
export function voiceChannel(deps: VoiceChannelDeps): QueuedChannel<VoiceView> {
  return {
    name: "voice",
    // Verified by the voice door with the key of the connection the call routes to (inbound.ts).
    verifier: undefined,
    parser: {
      parse() {
        throw new Error("voice webhooks are read by the voice door, then recorded with acceptVerified");
      },
    },
    sender: new VoiceSender(deps),
    policy: {
      // Never reached: every voice event is a command. A call's identity is its caller's number.
      identity: (view): Identity => ({ id: `voice:${view.callControlId}`, kind: "phone", tier: "free" }),
      skipReason: () => undefined,
      pending: () => ({ kind: "missing" }),
    },
  };
}

/** The message id of an event within its call: one end per call, one row per insight group. */
export function voicePartId(event: Exclude<VoiceEvent, { kind: "other" }>): string {
  return event.kind === "ended" ? "ended" : `insights:${event.insightGroupId ?? event.eventId}`;
}

/**
 * A verified event as what the pipeline records: the delivery id is `<connectionId>:<event id>` (Telnyx's
 * event ids are unique per account only), the conversation the call leg, the event itself the message's
 * text (kept only until it is handled), and the connection it arrived through its `via`.
 */
export function voiceNotification(connectionId: string, event: VoiceEvent): ParsedNotification {
  if (event.kind === "other") return { kind: "probe" };
  return {
    kind: "delivery",
    delivery: {
      id: `${connectionId}:${event.eventId}`,
      topic: event.kind === "ended" ? "call.conversation.ended" : "call.conversation_insights.generated",
      conversations: [
        {
          id: event.callControlId,
          contactId: null,
          messages: [{ id: voicePartId(event), text: JSON.stringify(event), via: connectionId }],
        },
      ],
    },
  };
}
