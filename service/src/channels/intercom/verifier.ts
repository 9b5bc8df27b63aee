import { createHmac, timingSafeEqual } from "node:crypto";
import type { InboundRequest, WebhookVerifier } from "../pipeline/channel";

const SIGNATURE = /^sha1=([0-9a-f]{40})$/i;

/**
 * Intercom signs the raw body: `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, body)>`. There is no
 * timestamp, so replays are stopped by the notification id, recorded with the work in one statement.
 * https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications
 */
export function verifySignature(secret: string, raw: Uint8Array, header: string | undefined): boolean {
  const match = SIGNATURE.exec(header?.trim() ?? "");
  if (!match?.[1]) return false;
  const expected = createHmac("sha1", secret).update(raw).digest();
  // Both are 20 bytes (the pattern admits exactly 40 hex digits): compared in constant time.
  return timingSafeEqual(Buffer.from(match[1], "hex"), expected);
}

/** Synchronous: no I/O before the acknowledgement. */
export function intercomVerifier(clientSecret: string): WebhookVerifier {
  return {
    verify: (request: InboundRequest) =>
      verifySignature(clientSecret, request.body, request.header("x-hub-signature")),
  };
}
