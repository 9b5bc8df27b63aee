/**
 * Pub/Sub push requests as Google sends them to a push endpoint with OIDC authentication: the exact body
 * `{"message":{"data":<base64>,"messageId","message_id","publishTime","publish_time","attributes"?},
 * "subscription"}` and `Authorization: Bearer <JWT>` signed RS256 by a key whose JWKS the emulator serves
 * (claims: iss `https://accounts.google.com`, aud, azp, sub, email, email_verified, iat, exp).
 *
 * `forge: true` signs with a second key that is NOT in the JWKS (same `kid`), for the 401 paths.
 */
import { randomInt } from "node:crypto";
import { SignJWT } from "jose";
import type { OAuthKeys, SigningKey } from "./google-oauth";
import { subjectOf } from "./google-oauth";

export interface PushRequestOptions {
  /** The `aud` claim (Pub/Sub's default is the push endpoint URL). */
  audience: string;
  /** The push subscription's service account (the `email` claim). */
  serviceAccountEmail: string;
  /** The message payload; an object is JSON-encoded (Gmail sends `{"emailAddress","historyId":<number>}`). */
  data: unknown;
  subscription?: string;
  messageId?: string;
  attributes?: Record<string, string>;
  /** Default true. */
  emailVerified?: boolean;
  /** Seconds from now; negative makes an already-expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Sign with a key the JWKS does not publish. */
  forge?: boolean;
}

export interface PushRequest {
  headers: { authorization: string; "content-type": string };
  body: string;
  messageId: string;
}

export async function signPushRequest(
  keys: OAuthKeys,
  forgeryKey: SigningKey,
  opts: PushRequestOptions,
): Promise<PushRequest> {
  const messageId = opts.messageId ?? String(randomInt(1e12, 9e12));
  const publishTime = new Date().toISOString();
  const text = typeof opts.data === "string" ? opts.data : JSON.stringify(opts.data);
  const body = JSON.stringify({
    message: {
      data: Buffer.from(text, "utf8").toString("base64"),
      messageId,
      message_id: messageId,
      publishTime,
      publish_time: publishTime,
      ...(opts.attributes ? { attributes: opts.attributes } : {}),
    },
    subscription: opts.subscription ?? "projects/switchboard-test/subscriptions/gmail-push",
  });
  const now = Math.floor(Date.now() / 1000);
  const lifetime = opts.expiresInSeconds ?? 3600;
  const jwt = await new SignJWT({
    azp: subjectOf(opts.serviceAccountEmail),
    email: opts.serviceAccountEmail,
    email_verified: opts.emailVerified ?? true,
  })
    .setProtectedHeader({ alg: "RS256", kid: keys.kid, typ: "JWT" })
    .setIssuer(keys.issuer)
    .setAudience(opts.audience)
    .setSubject(subjectOf(opts.serviceAccountEmail))
    .setIssuedAt(Math.min(now, now + lifetime - 60))
    .setExpirationTime(now + lifetime)
    .sign(opts.forge ? forgeryKey : keys.privateKey);
  return {
    headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
    body,
    messageId,
  };
}
