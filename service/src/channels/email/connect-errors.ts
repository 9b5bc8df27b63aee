/**
 * Why connecting or disconnecting a mailbox failed, in the channel's words; the HTTP edge
 * (routes/admin/email.ts) maps each code to a status and the uniform error body.
 */
export type MailboxConnectErrorCode =
  /** GOOGLE_OAUTH_CLIENT_ID / GOOGLE_OAUTH_CLIENT_SECRET are not set. */
  | "email_not_configured"
  /** The callback's `state` is unknown, expired or used already. */
  | "invalid_state"
  /** The person refused Google's consent screen. */
  | "consent_denied"
  /** The callback came without a code (or a code Google then refused). */
  | "invalid_code"
  /** Google issued no refresh token, or not both Gmail scopes were granted. */
  | "grant_incomplete"
  /** Another tenant has connected this address. */
  | "mailbox_taken"
  /** No such mailbox in this tenant. */
  | "not_found"
  /** Google (its OAuth or Gmail API) failed: retry. */
  | "google_unavailable"
  /** The secret store did not take or give the refresh token: retry. */
  | "secret_store_unavailable";

export class MailboxConnectError extends Error {
  constructor(
    readonly code: MailboxConnectErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "MailboxConnectError";
  }
}
