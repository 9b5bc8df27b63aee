import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import type { SmsDeliveryStatus, SmsEvent } from "../../../ports/sms";
import { InvalidNotification } from "../../pipeline/channel";

/**
 * Voxie's webhook bodies: CloudEvents 1.0 in structured mode (`application/cloudevents+json`) with
 * `specversion`, `id` (unique across all of Voxie's events), `source`, `type`, `time`, `dataschema` and a
 * `data` object. The message events (https://docs.voxie.com/reference/message):
 * - `com.voxie.message.received` — data `{at, team_id, contact_id, contact_first_name, contact_last_name,
 *   message_id, channel: "sms", from, to, content}`; `from` the customer, `to` the team's number, both E.164
 *   strings.
 * - `com.voxie.message.sent` ("queued for sending") — the same fields plus `origin_type`, `origin_id`.
 * - `com.voxie.message.{delivered,undelivered,failed,expired}` — data `{at, team_id, contact_id,
 *   message_id}` only: no phone numbers.
 */

export const MESSAGE_RECEIVED = "com.voxie.message.received";

/** Voxie's status event types in the port's vocabulary. `sent` is Voxie's "queued for sending". */
const STATUS: Readonly<Record<string, SmsDeliveryStatus>> = {
  "com.voxie.message.sent": "queued",
  "com.voxie.message.delivered": "delivered",
  "com.voxie.message.undelivered": "undelivered",
  "com.voxie.message.failed": "failed",
  // Expired: never handed to a carrier before its validity ran out — a final failure, like `failed`.
  "com.voxie.message.expired": "failed",
};

export interface CloudEvent {
  id: string;
  type: string;
  source: string;
  data: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The body as a CloudEvent 1.0 with an object `data`; throws `InvalidNotification` otherwise. */
export function parseCloudEvent(body: Uint8Array): CloudEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new InvalidNotification("invalid_json", "The body is not JSON.");
  }
  if (
    !isObject(parsed) ||
    parsed.specversion !== "1.0" ||
    typeof parsed.id !== "string" ||
    parsed.id === "" ||
    typeof parsed.type !== "string" ||
    typeof parsed.source !== "string" ||
    !isObject(parsed.data)
  ) {
    throw new InvalidNotification("validation_failed", "The body is not a CloudEvents 1.0 event with data.");
  }
  return { id: parsed.id, type: parsed.type, source: parsed.source, data: parsed.data };
}

/** The same, or undefined instead of a throw (routing and verification refuse rather than fail). */
export function tryParseCloudEvent(body: Uint8Array): CloudEvent | undefined {
  try {
    return parseCloudEvent(body);
  } catch {
    return undefined;
  }
}

/** A phone number as E.164, or undefined when it is not a possible number. */
export function e164(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const parsed = parsePhoneNumberFromString(value.trim());
  return parsed?.isPossible() ? parsed.number : undefined;
}

/** Voxie's ids are integers in its examples; strings are accepted too, as their text. */
function idText(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return undefined;
}

export function teamIdOf(event: CloudEvent): string | undefined {
  return idText(event.data.team_id);
}

/**
 * The tenant's number the event concerns: `to` of a received message, `from` of one queued for sending.
 * The other status events name no number, so they cannot be routed (undefined).
 */
export function tenantNumberOf(event: CloudEvent): string | undefined {
  if (event.type === MESSAGE_RECEIVED) return e164(event.data.to);
  if (event.type === "com.voxie.message.sent") return e164(event.data.from);
  return undefined;
}

/** The event in the SMS channel's vocabulary. Throws `InvalidNotification` for a received message it cannot read. */
export function toSmsEvents(event: CloudEvent): SmsEvent[] {
  const { data } = event;
  if (event.type === MESSAGE_RECEIVED) {
    const providerMessageId = idText(data.message_id);
    const from = e164(data.from);
    const to = e164(data.to);
    if (!providerMessageId || !from || !to || typeof data.content !== "string") {
      throw new InvalidNotification(
        "validation_failed",
        "A com.voxie.message.received event needs data.message_id, data.from, data.to (E.164) and data.content.",
      );
    }
    return [{ kind: "message", providerMessageId, from, to, text: data.content, media: [] }];
  }
  const status = STATUS[event.type];
  const providerMessageId = idText(data.message_id);
  const from = e164(data.from);
  const to = e164(data.to);
  // Without the numbers a status cannot be tied to a connection (see tenantNumberOf): acknowledged only.
  if (!status || !providerMessageId || !from || !to) return [{ kind: "other", type: event.type }];
  return [{ kind: "status", providerMessageId, eventId: event.id, status, from, to }];
}
