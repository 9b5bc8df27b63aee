/**
 * What the SMS channel (channels/sms/) needs of a text-message provider (Twilio, Telnyx, Voxie), and what
 * each provider's inbound module gives it. The vendor SDKs stay in adapters/ (adapters/twilio.ts,
 * adapters/telnyx.ts, adapters/voxie.ts); a provider's webhook reading sits in channels/<provider>/.
 */

/** The providers a tenant's number can be connected through (the admin API's channel connection kinds). */
export const SMS_PROVIDERS = ["twilio", "telnyx", "voxie"] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];

/**
 * Where an outbound message stands, in one vocabulary for every provider (Twilio's MessageStatus, Telnyx's
 * `to[].status`). `failed` and `undelivered` are final failures; `delivered` is final success.
 */
export type SmsDeliveryStatus = "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed";

export interface SmsSendRequest {
  /** The tenant's number (E.164) the customer texted. */
  from: string;
  /** The customer (E.164). */
  to: string;
  /** Plain text, already fitted to the medium (segments capped, no Markdown). */
  text: string;
  /** Where the provider reports delivery (Twilio's StatusCallback, Telnyx's webhook_url); absent: none. */
  statusCallbackUrl?: string | undefined;
}

export interface SmsSent {
  /** The provider's id of the outbound message: status callbacks name it. */
  providerMessageId: string;
  status: SmsDeliveryStatus;
  /** Segments the provider billed, when it says. */
  segments?: number | undefined;
}

/** A message the provider sent earlier, as reconciliation after a crash reads it. */
export interface SmsSentEarlier {
  providerMessageId: string;
  to: string;
  from: string;
  text: string;
  status: SmsDeliveryStatus;
  sentAt: Date;
}

/** One provider account (a tenant's connection), as the SMS channel sends through it. */
export interface SmsProviderClient {
  readonly provider: SmsProvider;
  /** Sends one message. Throws `SmsProviderError` when the provider refuses or does not answer. */
  send(request: SmsSendRequest): Promise<SmsSent>;
  /**
   * Messages sent from `from` to `to` since `since` (newest first), to tell whether a send a crash
   * interrupted reached the provider. Absent when the provider cannot be asked: a send once begun is then
   * never repeated (at most once).
   */
  sentSince?(query: { from: string; to: string; since: Date }): Promise<SmsSentEarlier[]>;
}

/**
 * Why a provider refused a send, in the SMS channel's terms:
 * - `rate_limited`, `unavailable`: try again later (`retryAt` when the provider said when); the reply is kept.
 * - `opted_out`: the recipient unsubscribed (Twilio 21610, Telnyx 40300): recorded as an opt-out, never retried.
 * - `invalid_number`, `rejected`: permanent; the attempt ends with this outcome recorded.
 */
export type SmsFailureKind = "rate_limited" | "unavailable" | "opted_out" | "invalid_number" | "rejected";

export class SmsProviderError extends Error {
  constructor(
    readonly provider: SmsProvider,
    readonly kind: SmsFailureKind,
    /** The HTTP status the provider answered with; 0 when it did not answer. */
    readonly status: number,
    /** The provider's own error code (`21610`, `40300`, `10011`), when it gave one. */
    readonly providerCode: string | undefined,
    message: string,
    readonly retryAt?: Date | undefined,
  ) {
    super(message);
    this.name = "SmsProviderError";
  }

  get retryable(): boolean {
    return this.kind === "rate_limited" || this.kind === "unavailable";
  }
}

/** What a verified provider webhook says, in one vocabulary for every provider. */
export type SmsEvent =
  | {
      kind: "message";
      /** The provider's id of the inbound message: the same on each of its retries (deduplication key). */
      providerMessageId: string;
      /** The customer (E.164). */
      from: string;
      /** The tenant's number that was texted (E.164). */
      to: string;
      text: string;
      /** Media URLs sent with it (MMS), not fetched. */
      media: string[];
    }
  | {
      kind: "status";
      /** The id the provider gave the outbound message when it was sent. */
      providerMessageId: string;
      /** The notification's own id when the provider gives one (Telnyx event id), for deduplication. */
      eventId?: string | undefined;
      status: SmsDeliveryStatus;
      /** The provider's error code for a failed delivery (`30003`, `40300`). */
      errorCode?: string | undefined;
      /** The tenant's number the message went out from (E.164): routes the callback to its connection. */
      from: string;
      /** The customer (E.164). */
      to: string;
    }
  /** A verified notification the channel does not act on (another event type): acknowledged, nothing stored. */
  | { kind: "other"; type: string };
