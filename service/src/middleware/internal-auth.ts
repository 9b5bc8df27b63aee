import type { MiddlewareHandler } from "hono";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { bearerToken, sameSecret } from "../http/credentials";
import { AppError } from "../http/errors";

export type InternalAuthOptions =
  | {
      mode: "oidc";
      /** The `aud` Cloud Tasks and Cloud Scheduler put in their tokens. */
      audience: string;
      /** Only this service account may call (the invoker identity). */
      invokerEmail: string;
      /** Google's signing keys; another JWKS in tests. */
      jwksUrl: string;
    }
  | { mode: "shared"; secret: string | undefined };

const GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"];

/**
 * `/internal/*` is called by Cloud Tasks and Cloud Scheduler with a Google-signed OIDC token of the
 * invoker identity; locally by whoever holds the shared secret. Anything else: 401 (no or bad
 * credentials) or 403 (a valid token of another identity).
 * https://cloud.google.com/tasks/docs/creating-http-target-tasks#token
 */
export function internalAuth(opts: InternalAuthOptions): MiddlewareHandler {
  const verify = internalCallerCheck(opts);
  return async function internalAuthMiddleware(c, next) {
    await verify(c.req.header("authorization"), c.req.header("x-internal-token"));
    return next();
  };
}

/** The same check as a function: resolves for an internal caller, throws the AppError otherwise. */
export function internalCallerCheck(opts: InternalAuthOptions) {
  const jwks = opts.mode === "oidc" ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  const secret = opts.mode === "shared" ? opts.secret : undefined;
  return async function verifyInternalCaller(
    authorization: string | undefined,
    internalToken: string | undefined,
  ): Promise<void> {
    if (opts.mode === "shared") {
      if (!secret || !sameSecret(internalToken ?? "", secret)) {
        throw new AppError(401, "unauthorized", "internal endpoints need the internal token");
      }
      return;
    }
    const token = bearerToken(authorization);
    if (!token || !jwks)
      throw new AppError(401, "unauthorized", "internal endpoints need a Google-signed OIDC token");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: GOOGLE_ISSUERS, audience: opts.audience }));
    } catch {
      throw new AppError(401, "unauthorized", "the OIDC token is invalid, expired or for another audience");
    }
    if (payload.email !== opts.invokerEmail || payload.email_verified !== true) {
      throw new AppError(403, "forbidden", "this identity may not call internal endpoints");
    }
  };
}
