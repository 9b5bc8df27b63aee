import type { SmsEvent } from "../../ports/sms";
import type { ParsedNotification, QueuedChannel } from "../pipeline/channel";
import { smsPolicy } from "./policy";
import { type SmsChannelDeps, SmsSender } from "./sender";
import type { SmsView } from "./view";

export { applyDeliveryStatus } from "./delivery-status";
export type { SmsChannelDeps } from "./sender";
export type { SmsConnection, SmsView } from "./view";

/**
 * The SMS channel of one tenant, whichever provider its numbers are at. Its webhooks are verified by the
 * provider modules with the credentials of the connection the texted number routes to (provider.ts), so
 * the channel itself has no verifier; `smsNotification` turns their events into what the pipeline records.
 */
export function smsChannel(deps: SmsChannelDeps): QueuedChannel<SmsView> {
  return {
    name: "sms",
    verifier: undefined,
    parser: {
      parse() {
        throw new Error("SMS webhooks are read by their provider module, then recorded with acceptVerified");
      },
    },
    sender: new SmsSender(deps),
    policy: smsPolicy,
  };
}

/**
 * A verified webhook's inbound texts as one delivery per text (the provider's message id is the
 * deduplication key, so a retried webhook is answered once), in the conversation of the customer's number;
 * the reply goes out through the connection the text arrived at. Without texts: nothing to record.
 */
export function smsNotification(connectionId: string, events: SmsEvent[]): ParsedNotification {
  const messages = events.flatMap((e) => (e.kind === "message" ? [e] : []));
  const [first] = messages;
  if (!first) return { kind: "probe" };
  return {
    kind: "delivery",
    delivery: {
      // Namespaced by the number: provider ids are unique per provider account only (Voxie's are integers).
      id: `${connectionId}:${first.providerMessageId}`,
      topic: "message.received",
      // One update per conversation: texts of one customer in one webhook join their thread together.
      conversations: [...new Set(messages.map((m) => m.from))].map((from) => ({
        id: from,
        contactId: null,
        messages: messages
          .filter((m) => m.from === from)
          .map((m) => ({ id: m.providerMessageId, text: m.text, via: connectionId })),
      })),
    },
  };
}
