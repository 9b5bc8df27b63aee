import type { ContentfulStatusCode } from "hono/utils/http-status";
import { MailboxConnectError, type MailboxConnectErrorCode } from "../channels/email/connect-errors";
import { AppError } from "../http/errors";

const STATUS: Record<MailboxConnectErrorCode, ContentfulStatusCode> = {
  email_not_configured: 409,
  invalid_state: 400,
  consent_denied: 400,
  invalid_code: 400,
  grant_incomplete: 400,
  mailbox_taken: 409,
  not_found: 404,
  google_unavailable: 502,
  secret_store_unavailable: 503,
};

/** Runs a mailbox operation; its MailboxConnectError as the uniform error answer. */
export async function asHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof MailboxConnectError)) throw error;
    const retry = error.code === "secret_store_unavailable" ? { headers: { "Retry-After": "5" } } : {};
    throw new AppError(STATUS[error.code], error.code, error.message, retry);
  }
}
