import type { SmsWebhooks } from "../provider";
import { readTelnyxEvents, telnyxRoutingNumber } from "./events";
import { telnyxVerifier } from "./signature";

/**
 * Telnyx's messaging webhooks (inbound texts and outbound status, on one URL): routed by the number the
 * body names, verified with the connection's Ed25519 public key (`credentials.publicKey`), then read. An
 * empty 200 acknowledges them; Telnyx waits 2 s, tries 3 times, then the failover URL.
 */
export const telnyxWebhooks: SmsWebhooks = {
  provider: "telnyx",
  routingNumber: (request) => telnyxRoutingNumber(request.body),
  verifier: (connection) => telnyxVerifier(connection.credentials.publicKey),
  read: (request) => readTelnyxEvents(request.body),
};
