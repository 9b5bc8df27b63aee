import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The secret in a connection's dynamic-variables URL (`?token=`). Telnyx does not document that it signs
 * the `assistant.initialization` request, so a request without a signature must prove itself another way:
 * the URL the tenant pasted into the assistant carries an HMAC of the connection id under a deployment key
 * (derived from SESSION_SIGNING_KEY). Nothing is stored; the previous key still verifies during a rotation.
 */
export class VoiceUrlTokens {
  constructor(private readonly keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error("VoiceUrlTokens needs a key");
  }

  /** The token of a connection's URLs, under the current key. */
  tokenFor(connectionId: string): string {
    return this.mac(this.keys[0] as Buffer, connectionId);
  }

  /** Constant time, for the current and the previous key. */
  verify(connectionId: string, token: string | undefined): boolean {
    if (!token) return false;
    const given = Buffer.from(token, "utf8");
    return this.keys.some((key) => {
      const expected = Buffer.from(this.mac(key, connectionId), "utf8");
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }

  private mac(key: Buffer, connectionId: string): string {
    return createHmac("sha256", key).update(`telnyx-voice:${connectionId}`).digest("base64url").slice(0, 32);
  }
}

/** A deployment key for these tokens, from the session signing key (never the key itself). */
export function voiceTokenKey(signingKey: string): Buffer {
  return createHmac("sha256", signingKey).update("switchboard/voice-url-token/v1").digest();
}
