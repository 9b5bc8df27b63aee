import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { InboundRequest, WebhookVerifier } from "./channel";

/**
 * Shared by the Telnyx SMS and voice webhooks (one account key signs both), so it sits beside the
 * pipeline's interfaces rather than in either channel's folder (channels never import each other).
 *
 * Telnyx signs every webhook with Ed25519 (API v2): `telnyx-signature-ed25519` is the base64 of a 64-byte
 * signature over the bytes `${telnyx-timestamp}|${raw body}`, made with the account's key pair; the public
 * half is what the tenant copies from the Mission Control portal (base64 of the raw 32-byte key).
 * https://developers.telnyx.com/docs/messaging/messages/receiving-webhooks
 *
 * Verified by hand with Node's crypto rather than the SDK, on the bytes as received. What the SDK does
 * (team-telnyx/telnyx-node, read at the tag v7.17.0 and in the 7.24.0 package this repository installs):
 * at 7.17.0 `client.webhooks.unwrap()` (src/resources/webhooks.ts) ran the `standardwebhooks` HMAC-SHA256
 * check — a different scheme that never accepts a Telnyx Ed25519 signature — while `TelnyxWebhook` in
 * src/lib/webhooks.ts already did Ed25519. In 7.24.0 `unwrap()` delegates to that Ed25519 code, but it is
 * asynchronous (WebCrypto), takes the body as a string (bytes that are not UTF-8 would be altered before
 * they are checked), and the SDK may only be imported in adapters/. Same scheme, same 300 s tolerance here.
 */

/** A DER SubjectPublicKeyInfo header for an Ed25519 key: what `createPublicKey` needs around the raw 32 bytes. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
/** Telnyx refuses (and its SDK rejects) a timestamp more than five minutes from the receiver's clock. */
export const TELNYX_TOLERANCE_SECONDS = 300;

/** Exactly 32 bytes of standard, padded base64; Buffer.from would silently skip stray characters. */
const PUBLIC_KEY_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
/** Exactly 64 bytes of standard, padded base64. */
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;
/** Unix seconds; bounded so a giant number cannot lose precision in the comparison. */
const TIMESTAMP = /^\d{1,12}$/;

/** The key a tenant pasted, or undefined when it is not a base64 Ed25519 public key. */
export function telnyxPublicKey(base64: string | undefined): KeyObject | undefined {
  const text = base64?.trim() ?? "";
  if (!PUBLIC_KEY_BASE64.test(text)) return undefined;
  try {
    return createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(text, "base64")]),
      format: "der",
      type: "spki",
    });
  } catch {
    return undefined;
  }
}

/** True only for a fresh timestamp and a signature by `key` over `timestamp|body`; never throws. */
export function verifyTelnyxSignature(key: KeyObject | undefined, request: InboundRequest): boolean {
  const signature = request.header("telnyx-signature-ed25519")?.trim() ?? "";
  const timestamp = request.header("telnyx-timestamp")?.trim() ?? "";
  if (!key || !SIGNATURE_BASE64.test(signature) || !TIMESTAMP.test(timestamp)) return false;
  // Both directions: a signature from the future is as suspect as a replayed old one.
  const skew = Math.abs(request.receivedAt.getTime() / 1000 - Number(timestamp));
  if (!(skew <= TELNYX_TOLERANCE_SECONDS)) return false;
  const signed = Buffer.concat([Buffer.from(`${timestamp}|`, "utf8"), request.body]);
  try {
    return verify(null, signed, key, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/**
 * A verifier keyed with one connection's public key. Synchronous (no I/O), so the webhook can answer well
 * inside the 2 s Telnyx waits. A malformed key makes a verifier that refuses everything.
 */
export function telnyxVerifier(publicKeyBase64: string | undefined): WebhookVerifier {
  const key = telnyxPublicKey(publicKeyBase64);
  return { verify: (request) => verifyTelnyxSignature(key, request) };
}
