/**
 * Gmail API + Google OAuth 2.0 emulator (one port) and a Pub/Sub push signer, for the e-mail channel's tests.
 *
 * Point the real clients at it:
 * - `gmail({ version: "v1", auth, rootUrl: emulator.rootUrl })` (`@googleapis/gmail`);
 * - `new OAuth2Client({ clientId, clientSecret, redirectUri, endpoints: emulator.oauthEndpoints })`
 *   (google-auth-library): authorization URL, token exchange with PKCE, refresh, revoke.
 * - A push verifier: `createRemoteJWKSet(new URL(emulator.jwksUrl))`, issuer `emulator.issuer`.
 *
 * Covered (see gmail-api.ts, google-oauth.ts, pubsub-push.ts): users.getProfile, watch, stop, history.list
 * (messageAdded, labelId, paging, 404 below `expireHistory()`), messages.list (q: in:/label:/after:/before:/
 * rfc822msgid:/words, labelIds, paging), messages.get (full/raw/metadata/minimal), messages.send (threading
 * as Gmail does it), messages.modify, threads.get, drafts.create, labels.list/create; the OAuth
 * authorization, token, revoke, userinfo and JWKS endpoints.
 *
 * Not covered: media uploads (`/upload/gmail/v1/…`), attachments.get, batch requests, drafts.send/list,
 * history types other than messageAdded, Pub/Sub delivery by the emulator itself (tests post
 * `pushRequest()` to the webhook), quota errors except through `failNext`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import { type GmailContext, gmailError, handleGmail } from "./gmail-api";
import { type Mailbox, newMailbox, type StoredMessage, storeMessage } from "./gmail-mailbox";
import { composeMail, headerValue, type MailFields } from "./gmail-mime";
import {
  GMAIL_SCOPES,
  handleOAuth,
  issueAccessToken,
  newOAuthState,
  type OAuthGrant,
  type OAuthKeys,
  type OAuthState,
  type SigningKey,
} from "./google-oauth";
import {
  type EmulatorServer,
  type RecordedRequest,
  sendJson,
  sendUnknownPath,
  startEmulatorServer,
} from "./http-server";
import { type PushRequest, type PushRequestOptions, signPushRequest } from "./pubsub-push";

export type { StoredMessage } from "./gmail-mailbox";
export type { MailFields } from "./gmail-mime";
export { GMAIL_SCOPES } from "./google-oauth";
export type { PushRequest, PushRequestOptions } from "./pubsub-push";

/** What a Gmail push notification's `data` carries. */
export interface GmailNotification {
  emailAddress: string;
  historyId: number;
}

export interface GmailFault {
  code: number;
  status: string;
  reason?: string;
  message?: string;
  /** Only Gmail paths containing this (default: any Gmail path). */
  pathIncludes?: string;
}

export interface GmailEmulator {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** For `gmail({ rootUrl })`. */
  rootUrl: string;
  /** For `new OAuth2Client({ endpoints })`. */
  oauthEndpoints: {
    oauth2AuthBaseUrl: string;
    oauth2TokenUrl: string;
    oauth2RevokeUrl: string;
    tokenInfoUrl: string;
    oauth2FederatedSignonJwkCertsUrl: string;
  };
  /** Accepts tokens of the push signer and id_tokens. */
  jwksUrl: string;
  issuer: string;
  client: { clientId: string; clientSecret: string; redirectUris: string[] };
  oauth: OAuthState;
  /** The mailbox of an address (created empty on first use). */
  mailbox(address: string): Mailbox;
  /** Adds an INBOX+UNREAD message (a new historyId) and returns what Gmail would push. */
  deliver(address: string, mail: string | MailFields): Promise<GmailNotification>;
  /** Messages of a mailbox, oldest first, optionally only those carrying a label. */
  messages(address: string, labelId?: string): StoredMessage[];
  /** A header of a stored message (case-insensitive). */
  header(message: StoredMessage, name: string): string | undefined;
  /** The OAuth consent screen signs in as this mailbox; `undefined` makes the user deny consent. */
  consentAs(address: string | undefined): void;
  /** An access token for a mailbox without the consent flow (scopes default modify + send). */
  accessToken(address: string, scopes?: string[]): string;
  /** Revokes (as the user would in their Google account, or as a 7-day "testing" expiry does) every grant of a mailbox. */
  revokeGrants(address: string): void;
  /** Every access token issued so far expires now (clients must refresh). */
  expireAccessTokens(): void;
  /** history.list from any historyId up to the current one answers 404. */
  expireHistory(address: string): void;
  /** The next matching Gmail calls fail, FIFO. */
  failNext(...faults: GmailFault[]): void;
  /** A Pub/Sub push request signed as Google does (or forged). */
  pushRequest(opts: PushRequestOptions): Promise<PushRequest>;
  /** Pushes made on its own after `deliver()` (only with the `push` option). */
  pushes: PushAttempt[];
  reset(): void;
  close(): Promise<void>;
}

export interface GmailEmulatorOptions {
  /** Default: any free port. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  redirectUris?: string[];
  /**
   * Play Pub/Sub for `npm run emulators`: after `deliver()` to a watched mailbox, POST the signed push
   * request to `endpoint` (tests post `pushRequest()` themselves instead).
   */
  push?: { endpoint: string; audience: string; serviceAccountEmail: string };
}

/** One push the emulator made on its own (`push` option). */
export interface PushAttempt {
  messageId: string;
  status: number | "failed";
}

export async function startGmailEmulator(opts: GmailEmulatorOptions = {}): Promise<GmailEmulator> {
  const client = {
    clientId: opts.clientId ?? "emulator-client.apps.googleusercontent.com",
    clientSecret: opts.clientSecret ?? "GOCSPX-emulator-secret",
    redirectUris: [...(opts.redirectUris ?? [])],
  };
  const keys = await signingKeys();
  const forgery = (await generateKeyPair("RS256")).privateKey as SigningKey;
  let oauth = newOAuthState(client);
  const mailboxes = new Map<string, Mailbox>();
  const faults: GmailFault[] = [];
  const pushes: PushAttempt[] = [];

  const mailbox = (address: string): Mailbox => {
    const key = address.toLowerCase();
    let box = mailboxes.get(key);
    if (!box) {
      box = newMailbox(address);
      mailboxes.set(key, box);
    }
    return box;
  };
  const ctx: GmailContext = {
    get oauth() {
      return oauth;
    },
    mailbox,
  };

  async function handle(raw: IncomingMessage, res: ServerResponse, req: RecordedRequest): Promise<void> {
    const url = new URL(raw.url ?? "/", "http://127.0.0.1");
    if (await handleOAuth(oauth, keys, req, res)) return;
    if (req.path === "/_emulator/deliver" && req.method === "POST") return controlDeliver(req, res);
    if (req.path.startsWith("/gmail/") && takeFault(faults, req, res)) return;
    if (handleGmail(ctx, req, url, res)) return;
    sendUnknownPath(res, req.method, req.path);
  }

  async function deliver(address: string, mail: string | MailFields): Promise<GmailNotification> {
    const raw = typeof mail === "string" ? mail : await composeMail(mail);
    const box = mailbox(address);
    const message = storeMessage(box, raw, ["INBOX", "UNREAD"]);
    const notification = { emailAddress: box.address, historyId: message.historyId };
    if (opts.push && box.watch) void pushOnce(opts.push, notification);
    return notification;
  }

  async function pushOnce(
    push: NonNullable<GmailEmulatorOptions["push"]>,
    data: GmailNotification,
  ): Promise<void> {
    const request = await signPushRequest(keys, forgery, { ...push, data });
    const attempt: PushAttempt = { messageId: request.messageId, status: "failed" };
    pushes.push(attempt);
    try {
      const res = await fetch(push.endpoint, {
        method: "POST",
        headers: request.headers,
        body: request.body,
      });
      attempt.status = res.status;
    } catch {
      // The service is not up: recorded as failed (Pub/Sub would retry; a person re-delivers by hand).
    }
  }

  /** `POST /_emulator/deliver {to, from, subject, text, html?, headers?}`: drop a message into a mailbox by hand. */
  async function controlDeliver(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const body = req.body as Partial<MailFields> | undefined;
    const to = typeof body?.to === "string" ? body.to : undefined;
    if (!to || typeof body?.from !== "string") {
      sendJson(res, 400, { error: "to and from are required" });
      return;
    }
    const notification = await deliver(to, { subject: "", ...body, to, from: body.from });
    sendJson(res, 200, notification);
  }

  const server: EmulatorServer = await startEmulatorServer(handle, opts.port);

  return {
    url: server.url,
    port: server.port,
    requests: server.requests,
    rootUrl: `${server.url}/`,
    oauthEndpoints: {
      oauth2AuthBaseUrl: `${server.url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${server.url}/token`,
      oauth2RevokeUrl: `${server.url}/revoke`,
      tokenInfoUrl: `${server.url}/tokeninfo`,
      oauth2FederatedSignonJwkCertsUrl: `${server.url}/oauth2/v3/certs`,
    },
    jwksUrl: `${server.url}/oauth2/v3/certs`,
    issuer: keys.issuer,
    client,
    get oauth() {
      return oauth;
    },
    mailbox,
    deliver,
    pushes,
    messages(address, labelId) {
      return mailbox(address).messages.filter((m) => labelId === undefined || m.labelIds.includes(labelId));
    },
    header(message, name) {
      return headerValue(message.payload.headers, name);
    },
    consentAs(address) {
      if (address !== undefined) mailbox(address);
      oauth.consentAs = address;
    },
    accessToken(address, scopes = [GMAIL_SCOPES.modify, GMAIL_SCOPES.send]) {
      mailbox(address);
      const grant: OAuthGrant = { email: address, clientId: client.clientId, scopes, revoked: false };
      oauth.grants.push(grant);
      return issueAccessToken(oauth, grant).token;
    },
    revokeGrants(address) {
      for (const grant of oauth.grants)
        if (grant.email.toLowerCase() === address.toLowerCase()) grant.revoked = true;
    },
    expireAccessTokens() {
      for (const token of oauth.accessTokens.values()) token.expiresAt = Date.now() - 1;
    },
    expireHistory(address) {
      const box = mailbox(address);
      box.oldestHistoryId = box.historyId + 1;
    },
    failNext(...more) {
      faults.push(...more);
    },
    pushRequest(pushOpts) {
      return signPushRequest(keys, forgery, pushOpts);
    },
    reset() {
      mailboxes.clear();
      faults.length = 0;
      pushes.length = 0;
      const consent = oauth.consentAs;
      oauth = newOAuthState(client);
      oauth.consentAs = consent;
      server.requests.length = 0;
    },
    close: () => server.close(),
  };
}

async function signingKeys(): Promise<OAuthKeys> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = `emulator-${Date.now().toString(16)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return {
    kid,
    privateKey: privateKey as SigningKey,
    jwks: { keys: [jwk] },
    issuer: "https://accounts.google.com",
  };
}

function takeFault(faults: GmailFault[], req: RecordedRequest, res: ServerResponse): boolean {
  const index = faults.findIndex((f) => f.pathIncludes === undefined || req.path.includes(f.pathIncludes));
  const [fault] = index < 0 ? [] : faults.splice(index, 1);
  if (!fault) return false;
  gmailError(
    res,
    fault.code,
    fault.status,
    fault.reason ?? "backendError",
    fault.message ?? `Injected ${fault.status}.`,
  );
  return true;
}
