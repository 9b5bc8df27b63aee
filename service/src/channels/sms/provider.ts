import type { SmsEvent, SmsProvider } from "../../ports/sms";
import type { InboundRequest, WebhookVerifier } from "../pipeline/channel";

/**
 * A text-message provider's webhooks, as the SMS channel reads them (one module per provider:
 * channels/sms/twilio/, telnyx/, voxie/). The order is fixed and is the only safe one: the routing number
 * is read from the untrusted request only to find whose credentials verify it; the request is verified on
 * its raw bytes with that connection's credentials; only then is it read into events and anything stored.
 */
export interface SmsWebhooks {
  readonly provider: SmsProvider;
  /**
   * The tenant's number (E.164) this request concerns, as the request claims it (Twilio's `To` of an
   * inbound message or `From` of a status callback, Telnyx's `to[0].phone_number` or `from`): used to find
   * the connection whose credentials verify it, trusted for nothing else. Undefined when the request names
   * none (nothing can verify it: refused like a bad signature).
   */
  routingNumber(request: InboundRequest): string | undefined;
  /** A verifier keyed with one connection's credentials (Twilio's auth token, Telnyx's public key, …). */
  verifier(connection: SmsConnectionSecrets): WebhookVerifier;
  /** Reads a verified request. Throws `InvalidNotification` for a body that is not the provider's. */
  read(request: InboundRequest): SmsEvent[];
  /**
   * What the webhook answers on success. Twilio texts a `text/plain` body back to the customer, so it gets
   * an empty TwiML `<Response></Response>` as `text/xml`; the others an empty 200.
   */
  readonly acknowledgement?: { contentType: string; body: string } | undefined;
}

/** A connection's credentials and settings as a provider module needs them (read from the SecretStore). */
export interface SmsConnectionSecrets {
  connectionId: string;
  phoneNumber: string;
  /** Credential name → value (`authToken`; `apiKey`, `publicKey`; Voxie's). Never logged or stored. */
  credentials: Readonly<Record<string, string>>;
  /** The non-secret settings of the connection (`accountSid`, `messagingProfileId`, `teamId`). */
  settings: Readonly<Record<string, unknown>>;
}
