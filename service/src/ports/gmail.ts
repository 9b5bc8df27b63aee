/**
 * Google's side of the e-mail channel: the deployment's OAuth client (connecting a mailbox) and the Gmail
 * API of one connected mailbox, authorized by its refresh token. adapters/gmail.ts implements both with
 * `google-auth-library` and `@googleapis/gmail`; GOOGLE_OAUTH_BASE and GMAIL_API_BASE point them at the
 * emulators in tests. Only what the channel uses is here.
 */

/** The scopes a mailbox is connected with: read and label mail, send replies. Nothing wider. */
export const GMAIL_SCOPES = [
  "https://www.googleapis.com/auth/gmail.modify",
  "https://www.googleapis.com/auth/gmail.send",
] as const;

export interface GoogleOAuth {
  /** A fresh PKCE pair (S256). */
  pkce(): Promise<{ verifier: string; challenge: string }>;
  /**
   * Google's consent URL: authorization code with PKCE and `state`, `access_type=offline` and
   * `prompt=consent` (a refresh token every time), GMAIL_SCOPES only.
   */
  authorizationUrl(request: { state: string; codeChallenge: string; loginHint?: string | undefined }): string;
  /**
   * Exchanges the callback's code; throws `GoogleOAuthError` when Google refuses it. `refreshToken` is
   * undefined when Google issued none (it should, with prompt=consent).
   */
  exchange(
    code: string,
    codeVerifier: string,
  ): Promise<{ refreshToken: string | undefined; scopes: string[] }>;
  /** Revokes a refresh token (and the grant with it); a token Google no longer knows is not an error. */
  revoke(refreshToken: string): Promise<void>;
  /** The Gmail API of the mailbox this refresh token authorizes. */
  mailbox(refreshToken: string): GmailMailbox;
}

export interface GmailMessageRef {
  id: string;
  threadId: string;
}

export interface GmailMessage extends GmailMessageRef {
  labelIds: string[];
  /** Gmail's estimate of the message's size in bytes. */
  sizeEstimate: number;
  /** When Gmail received it. */
  internalDate: Date;
  /** The RFC 2822 message as received (`format=raw`, decoded). */
  raw: Uint8Array;
}

export interface GmailMailbox {
  /** The mailbox's address and its current historyId. */
  profile(): Promise<{ emailAddress: string; historyId: string }>;
  /** `users.watch` on INBOX to a Pub/Sub topic (`projects/P/topics/T`). */
  watch(topicName: string): Promise<{ historyId: string; expiration: Date }>;
  /** `users.stop`: no more pushes. */
  stop(): Promise<void>;
  /**
   * Messages added to INBOX since `startHistoryId`, every page, oldest first, each once; with the
   * mailbox's historyId now. Throws `GmailHistoryGone` when Gmail no longer has that history (404).
   */
  history(startHistoryId: string): Promise<{ added: GmailMessageRef[]; historyId: string }>;
  /** INBOX messages received after `since` (the fallback when history is gone), oldest first, at most `limit`. */
  recentInbox(since: Date, limit: number): Promise<GmailMessageRef[]>;
  /** One message, raw; undefined when it no longer exists (deleted between the push and the read). */
  message(id: string): Promise<GmailMessage | undefined>;
  /**
   * Messages and drafts whose Message-ID header is `rfc822MessageId` (`rfc822msgid:` search, drafts and
   * sent mail included): how a retry after a crash learns its reply went out.
   */
  findByMessageId(rfc822MessageId: string): Promise<(GmailMessageRef & { labelIds: string[] })[]>;
  /**
   * Messages of a thread (sent mail and drafts included) whose `X-Switchboard-Id` header is `id`: the
   * same search as `findByMessageId` for a reply whose Message-ID Gmail may have replaced.
   */
  findInThread(threadId: string, id: string): Promise<(GmailMessageRef & { labelIds: string[] })[]>;
  /**
   * `messages.send` of an RFC 2822 message into a thread; without `threadId` a message of its own (the
   * team's notifications sent through the tenant's mailbox).
   */
  send(raw: Uint8Array, threadId?: string): Promise<GmailMessageRef>;
  /** `drafts.create` of an RFC 2822 message in a thread, for an agent to review and send. */
  createDraft(raw: Uint8Array, threadId: string): Promise<{ draftId: string; message: GmailMessageRef }>;
  /** The id of the user label `name` (nested with "/"), created when missing. */
  labelId(name: string): Promise<string>;
  /** Adds labels to a message. */
  addLabels(messageId: string, labelIds: string[]): Promise<void>;
}

/** Gmail or Google's OAuth answered with an error (a status, Google's `reason` when it gave one). */
export class GmailApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string | undefined,
    /** When Google said to come back (429 Retry-After). */
    readonly retryAt?: Date | undefined,
  ) {
    super(message);
    this.name = "GmailApiError";
  }
}

/**
 * The mailbox's refresh token no longer works (`invalid_grant`: revoked by the user, the password changed,
 * or an app in OAuth "testing" status whose refresh tokens expire after 7 days): the mailbox is
 * disconnected until an admin connects it again.
 */
export class GmailAuthRevoked extends Error {
  constructor(message = "the mailbox's refresh token was revoked or expired") {
    super(message);
    this.name = "GmailAuthRevoked";
  }
}

/** history.list answered 404: the start historyId is older than Gmail keeps (about a week). */
export class GmailHistoryGone extends Error {
  constructor() {
    super("Gmail no longer has the history since the stored historyId");
    this.name = "GmailHistoryGone";
  }
}

/** The authorization code was refused (expired, used, wrong verifier): the admin starts again. */
export class GoogleOAuthError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "GoogleOAuthError";
  }
}
