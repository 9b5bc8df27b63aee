import { randomUUID } from "node:crypto";
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { TIERS, type Tier } from "./config";
import type { Identity } from "./engine/conversation-engine";
import { AppError } from "./errors";

const SESSION_ISSUER = "switchboard";
const SESSION_AUDIENCE = "switchboard-session";
const SESSION_TTL = "30d";

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
}

/**
 * Who is calling. No credentials: nobody yet (the chat endpoint mints an anonymous guest identity and
 * returns its session token). A session token we signed: that anonymous guest. Any other bearer token:
 * a user JWT verified with the configured secret or JWKS, identified by `sub`, tier from the `tier` claim.
 */
export class Authenticator {
  private readonly sessionKey: Uint8Array;
  private readonly previousSessionKey: Uint8Array | undefined;
  private readonly jwtSecret: Uint8Array | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly opts: AuthOptions) {
    this.sessionKey = new TextEncoder().encode(opts.sessionKey);
    this.previousSessionKey = opts.previousSessionKey
      ? new TextEncoder().encode(opts.previousSessionKey)
      : undefined;
    this.jwtSecret = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : undefined;
    this.jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  }

  get usersConfigured(): boolean {
    return this.jwtSecret !== undefined || this.jwks !== undefined;
  }

  async identify(authorization: string | undefined): Promise<Identity | undefined> {
    if (!authorization) return undefined;
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw invalid("Authorization must be 'Bearer <token>'");
    const token = match[1];
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
    const options = { issuer: SESSION_ISSUER, audience: SESSION_AUDIENCE, algorithms: ["HS256"] };
    for (const key of [this.sessionKey, this.previousSessionKey]) {
      if (!key) continue;
      const payload = await jwtVerify(token, key, options).then(
        (r) => r.payload,
        () => undefined,
      );
      if (payload?.sub?.startsWith("anon:")) {
        return {
          id: payload.sub,
          kind: "anonymous",
          tier: "guest",
          ...(key === this.sessionKey ? {} : { staleSessionToken: true }),
        };
      }
    }
    throw invalid("the session token is invalid or expired");
  }

  private async verifyUser(token: string): Promise<Identity> {
    if (!this.usersConfigured) throw invalid("user tokens are not accepted by this deployment");
    const options = {
      ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
      ...(this.opts.audience ? { audience: this.opts.audience } : {}),
    };
    let payload: JWTPayload | undefined;
    if (this.jwtSecret) {
      payload = await jwtVerify(token, this.jwtSecret, { ...options, algorithms: ["HS256"] }).then(
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
    return { id: `user:${payload.sub}`, kind: "user", tier, admin: roles.includes("admin") };
  }

  async mintAnonymous(): Promise<{ identity: Identity; token: string }> {
    const identity: Identity = { id: `anon:${randomUUID()}`, kind: "anonymous", tier: "guest" };
    return { identity, token: await this.sessionTokenFor(identity) };
  }

  /** A session token for an anonymous identity, signed with the current key. */
  async sessionTokenFor(identity: Identity): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(SESSION_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setSubject(identity.id)
      .setIssuedAt()
      .setExpirationTime(SESSION_TTL)
      .sign(this.sessionKey);
  }
}

function invalid(message: string) {
  return new AppError(401, "invalid_token", message, {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
  });
}
