import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import type { SmsEvent } from "../../../ports/sms";
import { TWILIO_STATUSES } from "../../../ports/sms-statuses";
import { type InboundRequest, InvalidNotification } from "../../pipeline/channel";
import type { SmsConnectionSecrets, SmsWebhooks } from "../provider";
import { type FormFields, field, parseForm } from "./form";
import { twilioVerifier } from "./signature";

/**
 * Twilio's messaging webhooks: an inbound message (the number's "A message comes in" URL) and the status
 * callbacks of messages the service sent (`StatusCallback`). Both are form posts signed with the account's
 * auth token. https://www.twilio.com/docs/messaging/guides/webhook-request
 */

/** An E.164 number as Twilio writes an SMS address (`+14155550100`), or undefined (`whatsapp:…`, a short code). */
export function e164(value: string | undefined): string | undefined {
  if (value === undefined || !/^\+[\d\s().-]+$/.test(value)) return undefined;
  const parsed = parsePhoneNumberFromString(value);
  return parsed?.isPossible() ? parsed.number : undefined;
}

type Shape = "message" | "status" | "unknown";

function shape(fields: FormFields): Shape {
  if (fields.has("MessageStatus")) return "status";
  if (fields.has("SmsSid") || fields.has("Body")) return "message";
  return "unknown";
}

function routingNumber(request: InboundRequest): string | undefined {
  const fields = parseForm(request.body);
  switch (shape(fields)) {
    case "message":
      return e164(field(fields, "To"));
    case "status":
      return e164(field(fields, "From"));
    default:
      return undefined;
  }
}

function invalid(message: string): InvalidNotification {
  return new InvalidNotification("validation_failed", message);
}

function required(fields: FormFields, name: string): string {
  const value = field(fields, name);
  if (value === undefined || value === "") throw invalid(`Twilio webhook without ${name}`);
  return value;
}

function number(fields: FormFields, name: string): string {
  const value = e164(field(fields, name));
  if (!value) throw invalid(`Twilio webhook whose ${name} is not an E.164 number`);
  return value;
}

/** MediaUrl0, MediaUrl1, … in index order (those below NumMedia when it is given). */
function media(fields: FormFields): string[] {
  const count = Number(field(fields, "NumMedia") ?? Number.NaN);
  const limit = Number.isInteger(count) && count >= 0 ? count : Number.POSITIVE_INFINITY;
  return [...fields.keys()]
    .map((key) => Number(/^MediaUrl(\d+)$/.exec(key)?.[1] ?? Number.NaN))
    .filter((index) => Number.isInteger(index) && index < limit)
    .sort((a, b) => a - b)
    .map((index) => field(fields, `MediaUrl${index}`))
    .filter((url): url is string => !!url);
}

function readMessage(fields: FormFields): SmsEvent {
  return {
    kind: "message",
    providerMessageId: field(fields, "MessageSid") || required(fields, "SmsSid"),
    from: number(fields, "From"),
    to: number(fields, "To"),
    text: field(fields, "Body") ?? "",
    media: media(fields),
  };
}

function readStatus(fields: FormFields): SmsEvent {
  const reported = required(fields, "MessageStatus");
  const status = TWILIO_STATUSES[reported];
  // Twilio adds statuses without notice: one this module does not know is acknowledged, not refused.
  if (!status) return { kind: "other", type: `status.${reported}` };
  const errorCode = field(fields, "ErrorCode");
  return {
    kind: "status",
    providerMessageId: field(fields, "MessageSid") || required(fields, "SmsSid"),
    status,
    errorCode: errorCode ? errorCode : undefined,
    from: number(fields, "From"),
    to: number(fields, "To"),
  };
}

function read(request: InboundRequest): SmsEvent[] {
  const fields = parseForm(request.body);
  switch (shape(fields)) {
    case "message":
      return [readMessage(fields)];
    case "status":
      return [readStatus(fields)];
    default:
      throw invalid("not a Twilio message or status callback");
  }
}

export const twilioWebhooks: SmsWebhooks = {
  provider: "twilio",
  routingNumber,
  verifier: (connection: SmsConnectionSecrets) => {
    const authToken = connection.credentials.authToken;
    // Without a token nothing can be verified: every request is refused like a bad signature.
    return authToken ? twilioVerifier(authToken) : { verify: () => false };
  },
  read,
  // A text/plain answer would be texted back to the customer; an empty TwiML <Response> sends nothing.
  acknowledgement: {
    contentType: "text/xml",
    body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
  },
};
