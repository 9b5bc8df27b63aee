import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { InboundRequest, WebhookVerifier } from "../pipeline/channel";

export interface PushVerifierOptions {
  /** The `aud` the push subscription puts in its tokens (GMAIL_PUSH_AUDIENCE, default the push URL). */
  audience: string | undefined;
  /** The push subscription's service account: only its tokens are accepted. Unset: every push is refused. */
  serviceAccount: string | undefined;
  /** Who signs the tokens (Google; an emulator in tests). */
  issuer: string;
  /** Where the signing keys are (Google's JWKS; an emulator's in tests). */
  jwksUrl: string;
}

/** Google signs with either spelling of its issuer. */
const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];

/** Google's keys could not be fetched: not a verdict on the push (Pub/Sub retries a 503). */
export class PushKeysUnavailable extends Error {
  constructor(cause: unknown) {
    super("the push token's signing keys could not be fetched", { cause });
    this.name = "PushKeysUnavailable";
  }
}

/**
 * A Gmail notification pushed by Pub/Sub with OIDC authentication: `Authorization: Bearer <JWT>` signed by
 * Google, for our audience, of the push subscription's service account, its e-mail verified. Checked on
 * every request before the body is read; anything else is refused. The key set is fetched once and cached
 * (jose refetches it for a key id it does not know, at most every 30 s).
 * https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
 */
export function gmailPushVerifier(
  opts: PushVerifierOptions,
): WebhookVerifier & { readonly configured: boolean } {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl));
  const issuer = GOOGLE_ISSUERS.includes(opts.issuer) ? GOOGLE_ISSUERS : [opts.issuer];
  const { audience } = opts;
  const account = opts.serviceAccount?.toLowerCase();
  return {
    configured: account !== undefined && audience !== undefined,
    async verify(request: InboundRequest): Promise<boolean> {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(request.header("authorization") ?? "")?.[1];
      if (!token || !account || !audience) return false;
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ["RS256"] });
        return (
          typeof payload.email === "string" &&
          payload.email.toLowerCase() === account &&
          payload.email_verified === true
        );
      } catch (error) {
        if (keysUnreachable(error)) throw new PushKeysUnavailable(error);
        return false;
      }
    },
  };
}

/** A failure to fetch the key set (a timeout, a network error), as opposed to a token that does not verify. */
function keysUnreachable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout) return true;
  return !(error instanceof errors.JOSEError);
}
