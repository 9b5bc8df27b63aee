import { appendAudit } from "../../db/audit";
import { setChannelSecretRefs } from "../../db/channels";
import type { Sql } from "../../db/client";
import {
  findMailbox,
  type MailboxRow,
  type MailboxWithRefs,
  markMailboxDisconnected,
} from "../../db/email-mailboxes";
import { inTenant } from "../../db/tenant-scope";
import { LOG_EVENT } from "../../observability/log-events";
import type { GoogleOAuth } from "../../ports/gmail";
import { readCredential, unlessCredentialsGone } from "../pipeline/credentials";
import { MailboxConnectError } from "./connect-errors";
import { type Actor, type MailboxConnectionDeps, REFRESH_TOKEN, SERVICE_ACTOR } from "./connection-deps";

export const BY_ADMIN = "disconnected_by_admin";
export const TOKEN_REVOKED = "refresh_token_revoked";
/** Why a mailbox was disconnected (email_mailboxes.disconnected_reason, the audit's and the log's reason). */
export type DisconnectReason = typeof BY_ADMIN | typeof TOKEN_REVOKED;

/**
 * An admin disconnects a mailbox: it is marked first (nothing opens it any more), then its grant is
 * released. Disconnecting a disconnected mailbox finishes what a failed attempt left (a token kept).
 */
export function disconnectMailbox(
  deps: MailboxConnectionDeps,
  google: () => GoogleOAuth,
  tenantId: string,
  connectionId: string,
  by: Actor,
): Promise<MailboxWithRefs> {
  return inTenant(tenantId, async () => {
    const row = await findMailbox(deps.sql, connectionId);
    if (!row) throw new MailboxConnectError("not_found", "No such mailbox");
    // A grant is released through the OAuth client: without one it stays as it is, and so does the mailbox.
    const oauth = row.secretRefs[REFRESH_TOKEN] ? google() : undefined;
    const marked = await deps.sql.begin(async (tx) => {
      const sql = tx as unknown as Sql;
      if (!(await markMailboxDisconnected(sql, connectionId, BY_ADMIN))) return false;
      const summary = { address: row.address, reason: BY_ADMIN };
      await appendAudit(sql, { ...by, action: "email.mailbox_disconnected", target: connectionId, summary });
      return true;
    });
    deps.access?.forget(connectionId);
    // Once per mailbox (a metric counts these lines): not again when a retry finishes a failed revocation.
    if (marked)
      deps.log.info(
        {
          event: LOG_EVENT.emailMailboxDisconnected,
          tenantId,
          connectionId,
          mailbox: row.address,
          reason: BY_ADMIN,
        },
        "a mailbox was disconnected by an admin; its grant is being revoked",
      );
    if (oauth) await releaseGrant(deps, oauth, tenantId, row);
    return (await findMailbox(deps.sql, connectionId)) ?? row;
  });
}

/**
 * Google refused the mailbox's refresh token (revoked, expired): marked disconnected, audited and its
 * tenant's team notified, all in one transaction and only the first time; then the dead token is
 * destroyed. In the tenant's scope (MailboxAccess.revoked).
 */
export async function mailboxRevoked(deps: MailboxConnectionDeps, tenantId: string, row: MailboxRow) {
  const { sql, log } = deps;
  const notify = await deps.notices.teamNoticeWriter();
  const dispatch = await sql.begin(async (tx) => {
    const scoped = tx as unknown as Sql;
    if (!(await markMailboxDisconnected(scoped, row.connectionId, TOKEN_REVOKED))) return undefined;
    const summary = { address: row.address, reason: TOKEN_REVOKED };
    await appendAudit(scoped, {
      ...SERVICE_ACTOR,
      action: "email.mailbox_disconnected",
      target: row.connectionId,
      summary,
    });
    return notify(scoped, "mailbox.disconnected", {
      ...summary,
      connectionId: row.connectionId,
      connectUrl: deps.connectUrl(tenantId),
    });
  });
  if (!dispatch) return;
  log.warn(
    {
      event: LOG_EVENT.emailMailboxDisconnected,
      tenantId,
      connectionId: row.connectionId,
      mailbox: row.address,
      reason: TOKEN_REVOKED,
    },
    "a mailbox was disconnected: Google refused its refresh token; the tenant's team is told how to reconnect it",
  );
  await dispatch();
  const full = await findMailbox(sql, row.connectionId);
  if (full) await forgetToken(deps, full);
}

/**
 * Stops the watch (best effort: a grant revoked already cannot stop it), revokes the refresh token at
 * Google and destroys it here. A revocation Google fails is thrown with the token kept, so the retried
 * disconnection finishes the job.
 */
async function releaseGrant(
  deps: MailboxConnectionDeps,
  google: GoogleOAuth,
  tenantId: string,
  row: MailboxWithRefs,
) {
  if (!row.secretRefs[REFRESH_TOKEN]) return;
  const owner = { id: row.connectionId, tenantId, kind: "gmail", secretRefs: row.secretRefs };
  const token = await unlessCredentialsGone(deps.log, row.connectionId, () =>
    readCredential(deps, owner, REFRESH_TOKEN),
  ).catch((error: unknown) => {
    throw new MailboxConnectError(
      "secret_store_unavailable",
      `The secret store failed (${String(error)}); retry`,
    );
  });
  if (token) {
    await google
      .mailbox(token)
      .stop()
      .catch((error: unknown) =>
        deps.log.info(
          { event: "email.watch_stop_failed", connectionId: row.connectionId, error: String(error) },
          "the mailbox's watch could not be stopped (it lapses within 7 days); revoking its grant",
        ),
      );
    await google.revoke(token).catch((error: unknown) => {
      throw new MailboxConnectError(
        "google_unavailable",
        `Google did not revoke the mailbox's access (${String(error)}); it is disconnected here: retry to revoke it`,
      );
    });
  }
  await forgetToken(deps, row);
}

/** Destroys the stored token and drops its reference; a store that fails keeps the reference to retry. */
async function forgetToken(deps: MailboxConnectionDeps, row: MailboxWithRefs) {
  const ref = row.secretRefs[REFRESH_TOKEN];
  if (!ref) return;
  try {
    await deps.secrets.delete(ref);
  } catch (error) {
    deps.log.warn(
      { event: "secret_store.delete_failed", refs: [ref], connectionId: row.connectionId, error },
      "a disconnected mailbox's refresh token was not destroyed",
    );
    return;
  }
  const { [REFRESH_TOKEN]: _gone, ...rest } = row.secretRefs;
  await setChannelSecretRefs(deps.sql, row.connectionId, rest);
}
