import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The secret in a connection's dynamic-variables URL (`?token=`). Telnyx does not document that it signs
 * the `assistant.initialization` request, so a request without a signature must prove itself another way:
 * the URL the tenant pasted into the assistant carries a random token of its own connection, kept in the
 * SecretStore with the connection's other credentials. It depends on no deployment key, so rotating
 * SESSION_SIGNING_KEY leaves every tenant's URL working; the tenant re-issues it when it leaks.
 */

/** The credential name the token is stored under (beside `apiKey` and `publicKey`). */
export const VOICE_TOKEN = "voiceToken";

/** A new token: 192 random bits, base64url (32 characters, safe in a query string). */
export function newVoiceToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * Whether the URL's token is the connection's, in constant time: both sides are hashed first, so neither
 * the comparison nor a length mismatch tells how much of a guess was right.
 */
export function voiceTokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const digest = (v: string) => createHash("sha256").update(v, "utf8").digest();
  return timingSafeEqual(digest(expected), digest(given));
}
