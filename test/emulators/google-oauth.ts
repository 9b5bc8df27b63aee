/**
 * Google OAuth 2.0 endpoints for the Gmail emulator (served on the same port): the authorization endpoint
 * (`/o/oauth2/v2/auth`, auto-consents as a chosen mailbox and redirects back with `code` and `state`), the
 * token endpoint (`/token`: authorization_code with a PKCE S256 `code_verifier` check, refresh_token), `/revoke`,
 * `/oauth2/v3/userinfo` and the JWKS (`/oauth2/v3/certs`) that signs id_tokens and Pub/Sub push tokens.
 *
 * Real behaviour kept: a refresh token only with `access_type=offline` (on the first grant or with
 * `prompt=consent`), codes single-use and bound to client + redirect URI + challenge, `invalid_grant` bodies
 * `{"error","error_description"}` (400), `invalid_client` (401), revoking any token of a grant revokes the
 * whole grant. Errors of the authorization page itself are HTML pages (as Google shows them), not redirects,
 * when the client or redirect URI is wrong; the rest redirect back with `error=`.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type JWK, SignJWT } from "jose";
import { isGone, type RecordedRequest, sendJson } from "./http-server";

export const GMAIL_SCOPES = {
  modify: "https://www.googleapis.com/auth/gmail.modify",
  send: "https://www.googleapis.com/auth/gmail.send",
  readonly: "https://www.googleapis.com/auth/gmail.readonly",
  compose: "https://www.googleapis.com/auth/gmail.compose",
  full: "https://mail.google.com/",
} as const;

const KNOWN_SCOPES = new Set<string>([
  ...Object.values(GMAIL_SCOPES),
  "openid",
  "email",
  "profile",
  "https://www.googleapis.com/auth/userinfo.email",
]);

export interface OAuthClientRecord {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface OAuthGrant {
  email: string;
  clientId: string;
  scopes: string[];
  refreshToken?: string;
  revoked: boolean;
}

export interface AccessTokenRecord {
  token: string;
  grant: OAuthGrant;
  expiresAt: number;
}

interface PendingCode {
  grant: OAuthGrant;
  redirectUri: string;
  codeChallenge?: string;
  offline: boolean;
  forceConsent: boolean;
}

export interface OAuthState {
  client: OAuthClientRecord;
  /** The mailbox the auto-consent signs in as; `undefined` → the user denies consent (`error=access_denied`). */
  consentAs: string | undefined;
  grants: OAuthGrant[];
  accessTokens: Map<string, AccessTokenRecord>;
  codes: Map<string, PendingCode>;
  /** Lifetime of issued access tokens in seconds (Google: 3599). */
  accessTokenSeconds: number;
  /** Every authorization request as it arrived (query parameters). */
  authorizations: Record<string, string>[];
}

/** What jose signs with (a WebCrypto private key). */
export type SigningKey = Parameters<SignJWT["sign"]>[0];

export interface OAuthKeys {
  kid: string;
  privateKey: SigningKey;
  jwks: { keys: JWK[] };
  issuer: string;
}

export function newOAuthState(client: OAuthClientRecord): OAuthState {
  return {
    client,
    consentAs: undefined,
    grants: [],
    accessTokens: new Map(),
    codes: new Map(),
    accessTokenSeconds: 3599,
    authorizations: [],
  };
}

/** Issues an access token for a grant (what /token does; tests may call it to skip the consent flow). */
export function issueAccessToken(state: OAuthState, grant: OAuthGrant): AccessTokenRecord {
  const record = {
    token: `ya29.emulator-${randomBytes(24).toString("base64url")}`,
    grant,
    expiresAt: Date.now() + state.accessTokenSeconds * 1000,
  };
  state.accessTokens.set(record.token, record);
  return record;
}

/** The live access token of a request's bearer header, or undefined (unknown, expired or revoked). */
export function liveAccessToken(
  state: OAuthState,
  authorization: string | undefined,
): AccessTokenRecord | undefined {
  const token = authorization?.replace(/^Bearer\s+/i, "");
  const record = token ? state.accessTokens.get(token) : undefined;
  if (!record || record.grant.revoked || record.expiresAt <= Date.now()) return undefined;
  return record;
}

/** Handles the OAuth paths; returns false when the path is not one of them. */
export async function handleOAuth(
  state: OAuthState,
  keys: OAuthKeys,
  req: RecordedRequest,
  res: ServerResponse,
): Promise<boolean> {
  if (req.path === "/o/oauth2/v2/auth" && req.method === "GET") authorize(state, req, res);
  else if (req.path === "/token" && req.method === "POST") await token(state, keys, req, res);
  else if (req.path === "/revoke" && req.method === "POST") revoke(state, req, res);
  else if (req.path === "/oauth2/v3/userinfo") userinfo(state, req, res);
  else if (req.path === "/oauth2/v3/certs" && req.method === "GET") sendJson(res, 200, keys.jwks);
  else return false;
  return true;
}

function authorize(state: OAuthState, req: RecordedRequest, res: ServerResponse) {
  const q = req.query;
  state.authorizations.push({ ...q });
  if (q.client_id !== state.client.clientId)
    return authPage(res, 401, "invalid_client", "The OAuth client was not found.");
  const redirectUri = q.redirect_uri ?? "";
  if (!state.client.redirectUris.includes(redirectUri)) {
    return authPage(
      res,
      400,
      "redirect_uri_mismatch",
      `redirect_uri=${redirectUri} is not registered for this client.`,
    );
  }
  const back = (params: Record<string, string | undefined>) =>
    redirect(res, redirectUri, { ...params, state: q.state });
  if (q.response_type !== "code") return back({ error: "unsupported_response_type" });
  const scopes = (q.scope ?? "").split(/\s+/).filter(Boolean);
  if (scopes.length === 0) return authPage(res, 400, "invalid_request", "Missing required parameter: scope");
  if (scopes.some((s) => !KNOWN_SCOPES.has(s)))
    return authPage(res, 400, "invalid_scope", "Some requested scopes were invalid.");
  if (q.code_challenge !== undefined) {
    if (q.code_challenge_method !== "S256")
      return back({ error: "invalid_request", error_description: "code_challenge_method must be S256" });
    if (!/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge))
      return back({ error: "invalid_request", error_description: "Invalid code_challenge" });
  }
  if (q.access_type !== undefined && q.access_type !== "online" && q.access_type !== "offline") {
    return authPage(res, 400, "invalid_request", `Invalid access_type: ${q.access_type}`);
  }
  if (state.consentAs === undefined) return back({ error: "access_denied" });
  const code = `4/0Ad-emulator-${randomBytes(18).toString("base64url")}`;
  state.codes.set(code, {
    grant: { email: state.consentAs, clientId: state.client.clientId, scopes, revoked: false },
    redirectUri,
    codeChallenge: q.code_challenge,
    offline: q.access_type === "offline",
    forceConsent: (q.prompt ?? "").split(/\s+/).includes("consent"),
  });
  back({ code, scope: scopes.join(" "), authuser: "0", prompt: "consent" });
}

async function token(state: OAuthState, keys: OAuthKeys, req: RecordedRequest, res: ServerResponse) {
  const form = Object.fromEntries(new URLSearchParams(req.rawBody));
  const [basicId, basicSecret] = basicCredentials(req.headers.authorization);
  const clientId = form.client_id ?? basicId;
  const clientSecret = form.client_secret ?? basicSecret;
  if (clientId !== state.client.clientId || clientSecret !== state.client.clientSecret) {
    return sendJson(res, 401, { error: "invalid_client", error_description: "Unauthorized" });
  }
  if (form.grant_type === "authorization_code") return exchangeCode(state, keys, form, res);
  if (form.grant_type === "refresh_token") return refresh(state, form, res);
  sendJson(res, 400, {
    error: "unsupported_grant_type",
    error_description: `Invalid grant_type: ${form.grant_type ?? ""}`,
  });
}

async function exchangeCode(
  state: OAuthState,
  keys: OAuthKeys,
  form: Record<string, string>,
  res: ServerResponse,
) {
  const pending = form.code ? state.codes.get(form.code) : undefined;
  if (!pending || pending.redirectUri !== form.redirect_uri) return invalidGrant(res, "Bad Request");
  if (pending.codeChallenge !== undefined) {
    if (!form.code_verifier) return invalidGrant(res, "Missing code verifier.");
    const challenge = createHash("sha256").update(form.code_verifier).digest("base64url");
    if (challenge !== pending.codeChallenge) return invalidGrant(res, "Invalid code verifier.");
  }
  state.codes.delete(form.code ?? "");
  const { grant } = pending;
  const earlier = state.grants.find(
    (g) => !g.revoked && g.email === grant.email && g.clientId === grant.clientId,
  );
  // Google hands out a refresh token on the first offline grant, and again only when consent is forced.
  if (pending.offline && (!earlier || pending.forceConsent))
    grant.refreshToken = `1//emulator-${randomBytes(24).toString("base64url")}`;
  state.grants.push(grant);
  const access = issueAccessToken(state, grant);
  sendJson(res, 200, {
    access_token: access.token,
    expires_in: state.accessTokenSeconds,
    ...(grant.refreshToken ? { refresh_token: grant.refreshToken } : {}),
    scope: grant.scopes.join(" "),
    token_type: "Bearer",
    ...(grant.scopes.includes("openid") ? { id_token: await idToken(keys, grant) } : {}),
  });
}

function refresh(state: OAuthState, form: Record<string, string>, res: ServerResponse) {
  const grant = state.grants.find(
    (g) => g.refreshToken !== undefined && g.refreshToken === form.refresh_token,
  );
  if (!grant || grant.revoked) return invalidGrant(res, "Token has been expired or revoked.");
  const access = issueAccessToken(state, grant);
  sendJson(res, 200, {
    access_token: access.token,
    expires_in: state.accessTokenSeconds,
    scope: grant.scopes.join(" "),
    token_type: "Bearer",
  });
}

function revoke(state: OAuthState, req: RecordedRequest, res: ServerResponse) {
  const token = req.query.token ?? new URLSearchParams(req.rawBody).get("token") ?? "";
  const grant = state.grants.find((g) => g.refreshToken === token) ?? state.accessTokens.get(token)?.grant;
  if (!grant || grant.revoked)
    return sendJson(res, 400, { error: "invalid_token", error_description: "Token expired or revoked" });
  grant.revoked = true;
  sendJson(res, 200, {});
}

function userinfo(state: OAuthState, req: RecordedRequest, res: ServerResponse) {
  const access = liveAccessToken(state, req.headers.authorization);
  if (!access) {
    return sendJson(
      res,
      401,
      { error: "invalid_request", error_description: "Invalid Credentials" },
      {
        "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      },
    );
  }
  const withEmail = access.grant.scopes.some((s) => s === "email" || s.endsWith("/userinfo.email"));
  sendJson(res, 200, {
    sub: subjectOf(access.grant.email),
    ...(withEmail ? { email: access.grant.email, email_verified: true } : {}),
  });
}

async function idToken(keys: OAuthKeys, grant: OAuthGrant): Promise<string> {
  return new SignJWT({ email: grant.email, email_verified: true, azp: grant.clientId })
    .setProtectedHeader({ alg: "RS256", kid: keys.kid, typ: "JWT" })
    .setIssuer(keys.issuer)
    .setAudience(grant.clientId)
    .setSubject(subjectOf(grant.email))
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(keys.privateKey);
}

/** A stable numeric Google account id for an address. */
export function subjectOf(email: string): string {
  return `1${BigInt(`0x${createHash("sha256").update(email).digest("hex").slice(0, 16)}`)
    .toString()
    .padStart(20, "0")}`;
}

function invalidGrant(res: ServerResponse, description: string) {
  sendJson(res, 400, { error: "invalid_grant", error_description: description });
}

function basicCredentials(header: string | undefined): [string | undefined, string | undefined] {
  if (!header?.startsWith("Basic ")) return [undefined, undefined];
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? [decoded, undefined] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

function redirect(res: ServerResponse, target: string, params: Record<string, string | undefined>) {
  const url = new URL(target);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  res.writeHead(302, { location: url.toString() });
  res.end();
}

function authPage(res: ServerResponse, status: number, error: string, message: string) {
  if (isGone(res)) return;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><title>Error ${status}: ${error}</title><h1>Access blocked: Authorization Error</h1><p>${message}</p><p>Error ${status}: ${error}</p>`,
  );
}
