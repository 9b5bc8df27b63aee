import { createHash, randomBytes } from "node:crypto";
import { appendAudit } from "../../db/audit";
import { listMailboxes, type MailboxRow, type MailboxWithRefs } from "../../db/email-mailboxes";
import { createOAuthRequest } from "../../db/email-oauth";
import { findTenant } from "../../db/platform";
import { type TakenOAuthRequest, takeOAuthRequest } from "../../db/platform-email";
import { inTenant } from "../../db/tenant-scope";
import { GMAIL_SCOPES, type GmailMailbox, type GoogleOAuth, GoogleOAuthError } from "../../ports/gmail";
import { MailboxConnectError } from "./connect-errors";
import type { Actor, MailboxConnectionDeps } from "./connection-deps";
import { type Grant, saveConnection } from "./connection-store";
import { disconnectMailbox, mailboxRevoked } from "./disconnect";
import { watchMailbox } from "./watch-renewal";

/** What the callback answers: the mailbox connected, for which tenant, and whether Gmail pushes its mail. */
export interface ConnectedMailbox {
  tenant: { id: string; name: string };
  mailbox: MailboxRow;
  reconnected: boolean;
  /** `active`: Gmail pushes new mail; `none`: no Pub/Sub topic (the poll syncs it); `failed`: retried by the renewal. */
  watch: "active" | "none" | "failed";
}

/** The callback's query as Google sends it back. */
export interface OAuthCallback {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
}

const hashState = (state: string) => createHash("sha256").update(state).digest("hex");

/**
 * Tenants connect, list and disconnect their Gmail mailboxes (docs/email.md, "Connect a mailbox"): Google
 * OAuth 2.0 with PKCE and a single-use `state`, the refresh token to the secret store only, the watch on
 * the inbox; a refresh token Google refuses later disconnects the mailbox and tells the tenant's team.
 */
export class MailboxConnections {
  constructor(private readonly deps: MailboxConnectionDeps) {}

  /** Whether mailboxes can be connected: the deployment's OAuth client is configured. */
  get configured(): boolean {
    return this.deps.google !== undefined;
  }

  private google(): GoogleOAuth {
    if (this.deps.google) return this.deps.google;
    throw new MailboxConnectError(
      "email_not_configured",
      "E-mail is not configured: set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET (a Web application " +
        `OAuth client whose authorized redirect URI is ${this.deps.redirectUri}; docs/email.md)`,
    );
  }

  /** Google's consent URL for a new connection of the tenant; its state and PKCE verifier kept 10 minutes. */
  async start(tenantId: string, by: Actor, loginHint?: string): Promise<{ authorizationUrl: string }> {
    const google = this.google();
    const state = randomBytes(32).toString("base64url");
    const { verifier, challenge } = await google.pkce();
    await inTenant(tenantId, async () => {
      await createOAuthRequest(this.deps.sql, {
        stateHash: hashState(state),
        codeVerifier: verifier,
        requestedBy: by.actor,
        ttlSeconds: this.deps.stateTtlSeconds ?? 600,
      });
      await appendAudit(this.deps.sql, { ...by, action: "email.connect_started", target: tenantId });
    });
    return { authorizationUrl: google.authorizationUrl({ state, codeChallenge: challenge, loginHint }) };
  }

  /**
   * Google's redirect back: the state names the tenant (once), the code becomes a refresh token, the
   * token names its mailbox. Whatever fails after Google granted access revokes that grant.
   */
  async finish(callback: OAuthCallback): Promise<ConnectedMailbox> {
    const google = this.google();
    const request = callback.state
      ? await takeOAuthRequest(this.deps.sql, hashState(callback.state))
      : undefined;
    if (callback.error === "access_denied")
      throw new MailboxConnectError(
        "consent_denied",
        "Access to the mailbox was not granted; nothing was connected",
      );
    if (!request)
      throw new MailboxConnectError(
        "invalid_state",
        "This sign-in link is unknown, expired (10 minutes) or used already; start connecting again",
      );
    if (callback.error || !callback.code)
      throw new MailboxConnectError(
        "invalid_code",
        `Google sent no authorization code (${callback.error ?? "none"})`,
      );
    const refreshToken = await this.exchange(google, callback.code, request.codeVerifier);
    try {
      return await this.connect(google, request, refreshToken);
    } catch (error) {
      await google.revoke(refreshToken).catch(() => {});
      throw error;
    }
  }

  private async exchange(google: GoogleOAuth, code: string, verifier: string): Promise<string> {
    const grant = await google.exchange(code, verifier).catch((error: unknown) => {
      if (error instanceof GoogleOAuthError)
        throw new MailboxConnectError("invalid_code", `${error.message}; start connecting again`);
      throw new MailboxConnectError(
        "google_unavailable",
        `Google's token endpoint failed (${String(error)})`,
      );
    });
    const missing = GMAIL_SCOPES.filter((scope) => !grant.scopes.includes(scope));
    if (grant.refreshToken && missing.length === 0) return grant.refreshToken;
    if (grant.refreshToken) await google.revoke(grant.refreshToken).catch(() => {});
    throw new MailboxConnectError(
      "grant_incomplete",
      grant.refreshToken
        ? `Both permissions are needed (read and label mail, send mail); not granted: ${missing.join(", ")}`
        : "Google issued no refresh token: remove Switchboard's access at https://myaccount.google.com/permissions and connect again",
    );
  }

  private async connect(google: GoogleOAuth, request: TakenOAuthRequest, token: string) {
    const gmail = google.mailbox(token);
    const grant = await profileOf(gmail, token);
    const by = { actor: request.requestedBy, role: "oauth_consent" };
    const saved = await inTenant(request.tenantId, () =>
      saveConnection(this.deps, request.tenantId, grant, by),
    );
    this.deps.access?.forget(saved.row.connectionId);
    const watched = await watchMailbox(this.deps, request.tenantId, saved.row, gmail);
    const tenant = await findTenant(this.deps.sql, request.tenantId);
    this.deps.log.info(
      {
        event: "email.mailbox_connected",
        tenantId: request.tenantId,
        connectionId: saved.row.connectionId,
        mailbox: grant.address,
        reconnected: saved.reconnected,
        watch: watched.watch,
      },
      watched.watch === "none"
        ? "mailbox connected without a Gmail watch (no GMAIL_PUBSUB_TOPIC): the poll keeps it in sync"
        : "mailbox connected",
    );
    return {
      tenant: { id: request.tenantId, name: tenant?.name ?? "" },
      mailbox: watched.row,
      reconnected: saved.reconnected,
      watch: watched.watch,
    };
  }

  /** The tenant's mailboxes, connected or not, without any credential. */
  list(tenantId: string): Promise<MailboxRow[]> {
    return inTenant(tenantId, () => listMailboxes(this.deps.sql));
  }

  /** An admin disconnects one: the grant revoked at Google, the watch stopped, the token destroyed. */
  disconnect(tenantId: string, connectionId: string, by: Actor): Promise<MailboxWithRefs> {
    return disconnectMailbox(this.deps, () => this.google(), tenantId, connectionId, by);
  }

  /** MailboxAccess's `onRevoked`: the mailbox disconnected once, audited, and its tenant's team told. */
  revoked(tenantId: string, row: MailboxRow): Promise<void> {
    return mailboxRevoked(this.deps, tenantId, row);
  }
}

/** The granted mailbox's address and history position; Google failing here is a retry. */
async function profileOf(gmail: GmailMailbox, refreshToken: string): Promise<Grant> {
  try {
    const profile = await gmail.profile();
    return { address: profile.emailAddress.toLowerCase(), historyId: profile.historyId, refreshToken };
  } catch (error) {
    throw new MailboxConnectError(
      "google_unavailable",
      `Gmail did not answer (${String(error)}); connect again`,
    );
  }
}
