import { randomUUID, webcrypto } from "node:crypto";
import {
  createRemoteJWKSet,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  SignJWT,
} from "jose";
import { type Identity, TENANT_ROLES, TIERS, type Tier } from "../domain/identity";
import { bearerToken } from "./credentials";
import { AppError } from "./errors";

const SESSION_ISSUER = "switchboard";
const SESSION_AUDIENCE = "switchboard-session";
const SESSION_TTL = "30d";
/** The characters of a compact JWS (base64url parts joined by dots). */
const JWT_ALPHABET = /^[A-Za-z0-9_\-.]+$/;

export interface AuthOptions {
  /** Signs the anonymous session tokens this service hands out. */
  sessionKey: string;
  /** The key before the last rotation: still verifies tokens, never signs (no live session breaks). */
  previousSessionKey?: string | undefined;
  /** Users' JWTs: an HS256 shared secret, a JWKS URL (RS256/ES256 …), or both. */
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Tier for a user JWT without a valid `tier` claim. @default "free" */
  defaultUserTier?: Tier;
  /** The claim naming the user's tenant (its id). @default "tenant_id" */
  tenantClaim?: string | undefined;
  /** Leeway for `exp`/`nbf` against clock skew between the identity provider and us. @default 30 */
  clockToleranceSeconds?: number;
}

/**
 * Who is calling. No credentials: nobody yet (the chat endpoint mints an anonymous guest identity and
 * returns its session token). A session token we signed: that anonymous guest. Any other bearer token:
 * a user JWT verified with the configured secret or JWKS, identified by `sub`, tier from the `tier` claim.
 */
export class Authenticator {
  private readonly sessionKey: HmacKey;
  private readonly previousSessionKey: HmacKey | undefined;
  private readonly jwtSecret: HmacKey | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly opts: AuthOptions) {
    this.sessionKey = hmacKey(opts.sessionKey);
    this.previousSessionKey = opts.previousSessionKey ? hmacKey(opts.previousSessionKey) : undefined;
    this.jwtSecret = opts.jwtSecret ? hmacKey(opts.jwtSecret) : undefined;
    this.jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  }

  get usersConfigured(): boolean {
    return this.jwtSecret !== undefined || this.jwks !== undefined;
  }

  /** Every identity id a user with this `sub` can have here: without an issuer, and under the configured one. */
  userIdentityIds(sub: string): string[] {
    const ids = [userIdentityId(undefined, sub)];
    if (this.opts.issuer) ids.push(userIdentityId(this.opts.issuer, sub));
    return ids;
  }

  async identify(authorization: string | undefined): Promise<Identity | undefined> {
    if (!authorization) return undefined;
    const token = bearerToken(authorization);
    if (!token || !JWT_ALPHABET.test(token)) throw invalid("Authorization must be 'Bearer <token>'");
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw invalid("the bearer token is not a JWT");
    }
    if (claims.iss === SESSION_ISSUER) return this.verifySession(token);
    return this.verifyUser(token);
  }

  private async verifySession(token: string): Promise<Identity> {
    const options = {
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      algorithms: ["HS256"],
      requiredClaims: ["exp"],
    };
    for (const key of [this.sessionKey, this.previousSessionKey]) {
      if (!key) continue;
      const payload = await jwtVerify(token, await key(), options).then(
        (r) => r.payload,
        () => undefined,
      );
      if (payload?.sub?.startsWith("anon:")) {
        // The tenant whose widget minted it (`ten`); tokens from before tenants have none.
        const tenantId = typeof payload.ten === "string" && payload.ten ? payload.ten : undefined;
        return {
          id: payload.sub,
          kind: "anonymous",
          tier: "guest",
          ...(tenantId ? { tenantId } : {}),
          ...(key === this.sessionKey ? {} : { staleSessionToken: true }),
        };
      }
    }
    throw invalid("the session token is invalid or expired");
  }

  private async verifyUser(token: string): Promise<Identity> {
    if (!this.usersConfigured) throw invalid("user tokens are not accepted by this deployment");
    // A token without `exp` would be valid forever: refuse it, whoever signed it.
    const options: JWTVerifyOptions = {
      requiredClaims: ["exp"],
      clockTolerance: this.opts.clockToleranceSeconds ?? 30,
      ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
      ...(this.opts.audience ? { audience: this.opts.audience } : {}),
    };
    let payload: JWTPayload | undefined;
    if (this.jwtSecret) {
      payload = await jwtVerify(token, await this.jwtSecret(), { ...options, algorithms: ["HS256"] }).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload && this.jwks) {
      payload = await jwtVerify(token, this.jwks, options).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload?.sub) throw invalid("the bearer token is invalid or expired");
    const claimed = payload.tier;
    const tier: Tier =
      typeof claimed === "string" && (TIERS as readonly string[]).includes(claimed)
        ? (claimed as Tier)
        : (this.opts.defaultUserTier ?? "free");
    const roles = Array.isArray(payload.roles) ? payload.roles : [payload.role];
    const tenantId = payload[this.opts.tenantClaim ?? "tenant_id"];
    const role = TENANT_ROLES.find((r) => roles.includes(r));
    return {
      id: userIdentityId(payload.iss, payload.sub),
      kind: "user",
      tier,
      admin: roles.includes("admin"),
      subject: payload.sub,
      ...(typeof tenantId === "string" && tenantId ? { tenantId } : {}),
      ...(role ? { role } : {}),
    };
  }

  /** A new guest of `tenantId` (the tenant of the widget key it came through). */
  async mintAnonymous(tenantId: string): Promise<{ identity: Identity; token: string }> {
    const identity: Identity = { id: `anon:${randomUUID()}`, kind: "anonymous", tier: "guest", tenantId };
    return { identity, token: await this.sessionTokenFor(identity) };
  }

  /**
   * A session token for an anonymous identity, signed with the current key. It names the guest's tenant
   * (`ten`), so a token minted through one tenant's widget is refused on another's.
   */
  async sessionTokenFor(identity: Identity): Promise<string> {
    return new SignJWT(identity.tenantId ? { ten: identity.tenantId } : {})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(identity.id)
      .setIssuedAt()
      .setExpirationTime(SESSION_TTL)
      .sign(await this.sessionKey());
  }
}

/** An HS256 key, imported on first use and then reused. */
type HmacKey = () => Promise<webcrypto.CryptoKey>;

/**
 * jose imports a raw (Uint8Array) secret into WebCrypto on every sign and verify; importing it once saves
 * that on every request. Only the imported key is kept: verified tokens are not cached, so a rotated-out
 * key or an expired token is refused as before.
 */
function hmacKey(secret: string): HmacKey {
  let key: Promise<webcrypto.CryptoKey> | undefined;
  return () => {
    key ??= webcrypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return key;
  };
}

/**
 * `user:<sub>` for a token without an issuer (so the ids of existing HS256 users stay as they were), else
 * `user:<issuer>#<sub>`, so two identity providers' `sub` values never name the same person. An issuer
 * is any string (a URL may carry `#`), so `%`, `#` and control characters are percent-encoded in both
 * parts: the first `#` always ends the issuer, and a `sub` without an issuer can never spell one.
 */
export function userIdentityId(issuer: string | undefined, sub: string): string {
  return issuer ? `user:${escapeIdPart(issuer)}#${escapeIdPart(sub)}` : `user:${escapeIdPart(sub)}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const ID_RESERVED = /[%#\u0000-\u001F\u007F]/g;
const escapeIdPart = (value: string) =>
  value.replace(ID_RESERVED, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);

function invalid(message: string) {
  return new AppError(401, "invalid_token", message, {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
  });
}
