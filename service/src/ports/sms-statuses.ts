import type { SmsDeliveryStatus } from "./sms";

/**
 * Each provider's delivery states in the SMS port's vocabulary, shared by the provider's client adapter
 * (what a send or a lookup answers) and its webhook module (what a delivery report says). Data about the
 * wire, kept beside the port both sides already depend on.
 */

/** Twilio's MessageStatus. https://www.twilio.com/docs/messaging/api/message-resource#message-status-values */
export const TWILIO_STATUSES: Readonly<Record<string, SmsDeliveryStatus>> = {
  accepted: "queued",
  scheduled: "queued",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  // A read receipt (WhatsApp, RCS) comes after delivery.
  read: "delivered",
  undelivered: "undelivered",
  failed: "failed",
  // A scheduled message cancelled before it went out: it never will.
  canceled: "failed",
};

/**
 * Telnyx's `to[].status` of an outbound message (the SDK's 7.24 enum; Telnyx's error-code page adds
 * `expired` for a message the carrier gave up on). `sending_failed` never left Telnyx: failed.
 * `delivery_failed` and `expired` left and did not arrive: undelivered. `delivery_unconfirmed` is final but
 * the carrier sent no receipt, so it is not known to have failed: it stays `sent`.
 */
export const TELNYX_STATUSES: Readonly<Record<string, SmsDeliveryStatus>> = {
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  delivery_unconfirmed: "sent",
  sending_failed: "failed",
  delivery_failed: "undelivered",
  expired: "undelivered",
};
