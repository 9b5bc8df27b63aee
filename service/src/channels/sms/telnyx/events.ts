import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import type { SmsEvent } from "../../../ports/sms";
import { TELNYX_STATUSES } from "../../../ports/sms-statuses";
import { InvalidNotification } from "../../pipeline/channel";
import { eventData, isObject, type Json, parseJson } from "../../pipeline/telnyx-envelope";

/**
 * Telnyx messaging webhooks (API v2), as documented at
 * https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks:
 * `{"data":{"record_type":"event","id","event_type","occurred_at","payload":{…}},"meta":{"attempt","delivered_to"}}`.
 * `message.received` is an inbound text (payload `from.phone_number` = the customer, `to[0].phone_number` =
 * the tenant's number); `message.sent` and `message.finalized` report an outbound message's progress
 * (`from` = the tenant's number, `to[0].status` = where it stands, `errors[]` = why it failed).
 */

const STATUS_EVENTS = new Set(["message.sent", "message.finalized"]);

/** A number Telnyx gave, as E.164 (`+14155550132`), or undefined when it is not a phone number. */
export function toE164(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  const parsed = parsePhoneNumberFromString(raw.trim());
  return parsed?.isPossible() ? parsed.number : undefined;
}

const firstTo = (payload: Json): Json | undefined =>
  Array.isArray(payload.to) && isObject(payload.to[0]) ? payload.to[0] : undefined;

const fromNumber = (payload: Json): unknown =>
  isObject(payload.from) ? payload.from.phone_number : undefined;

/**
 * The tenant's number the (still unverified) body names: `to[0]` of an inbound message, `from` of an
 * outbound one's status. Another event type is routed by its payload's `direction` the same way, so a
 * verified event the channel does not act on is acknowledged rather than refused.
 */
export function telnyxRoutingNumber(body: Uint8Array): string | undefined {
  const data = eventData(parseJson(body));
  if (!data || !isObject(data.payload)) return undefined;
  const payload = data.payload;
  const inbound =
    data.event_type === "message.received" ||
    (!STATUS_EVENTS.has(data.event_type) && payload.direction === "inbound");
  if (inbound) return toE164(firstTo(payload)?.phone_number);
  if (STATUS_EVENTS.has(data.event_type) || payload.direction === "outbound") {
    return toE164(fromNumber(payload));
  }
  return undefined;
}

function invalid(message: string): InvalidNotification {
  return new InvalidNotification("validation_failed", message);
}

function requiredString(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw invalid(`Telnyx event without ${what}`);
  return value;
}

/** A customer's number: E.164 when it is a phone number; a short code or sender id is kept as sent. */
function address(value: unknown, what: string): string {
  return toE164(value) ?? requiredString(value, what).trim();
}

function inboundMessage(payload: Json): SmsEvent {
  const media = Array.isArray(payload.media)
    ? payload.media.flatMap((m) => (isObject(m) && typeof m.url === "string" ? [m.url] : []))
    : [];
  return {
    kind: "message",
    providerMessageId: requiredString(payload.id, "payload.id"),
    from: address(fromNumber(payload), "payload.from.phone_number"),
    to: address(firstTo(payload)?.phone_number, "payload.to[0].phone_number"),
    // An MMS of pictures alone carries no text (Telnyx sends "" or null).
    text: typeof payload.text === "string" ? payload.text : "",
    media,
  };
}

function statusUpdate(data: Json & { event_type: string }, payload: Json): SmsEvent {
  const to = firstTo(payload);
  const raw = to?.status;
  const status = typeof raw === "string" ? TELNYX_STATUSES[raw] : undefined;
  // A status this code does not know (a later API addition) is acknowledged, not guessed at.
  if (!status) return { kind: "other", type: `${data.event_type}:${String(raw)}` };
  const error = Array.isArray(payload.errors) && isObject(payload.errors[0]) ? payload.errors[0] : undefined;
  const code = error?.code;
  return {
    kind: "status",
    providerMessageId: requiredString(payload.id, "payload.id"),
    eventId: typeof data.id === "string" ? data.id : undefined,
    status,
    errorCode: typeof code === "string" || typeof code === "number" ? String(code) : undefined,
    from: address(fromNumber(payload), "payload.from.phone_number"),
    to: address(to?.phone_number, "payload.to[0].phone_number"),
  };
}

/** Reads a verified body. Throws `InvalidNotification` for one that is not a Telnyx messaging event. */
export function readTelnyxEvents(body: Uint8Array): SmsEvent[] {
  const json = parseJson(body);
  if (json === undefined) throw new InvalidNotification("invalid_json", "Telnyx webhook body is not JSON");
  const data = eventData(json);
  if (!data) throw invalid("Not a Telnyx event: data.event_type is missing");
  const isMessageEvent = data.event_type === "message.received" || STATUS_EVENTS.has(data.event_type);
  if (!isMessageEvent) return [{ kind: "other", type: data.event_type }];
  if (!isObject(data.payload)) throw invalid("Telnyx event without a payload");
  return [
    data.event_type === "message.received" ? inboundMessage(data.payload) : statusUpdate(data, data.payload),
  ];
}
