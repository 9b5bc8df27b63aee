import type { Sql } from "../../db/client";
import { findMailbox, type MailboxRow } from "../../db/email-mailboxes";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import type { GmailMailbox, GoogleOAuth } from "../../ports/gmail";
import type { SecretStore } from "../../ports/secret-store";
import { readCredential, unlessCredentialsGone } from "../pipeline/credentials";

/** A tenant's connected mailbox with its Gmail API, authorized by the refresh token in the secret store. */
export interface OpenMailbox {
  row: MailboxRow;
  gmail: GmailMailbox;
}

export interface MailboxAccessDeps {
  sql: Sql;
  log: Logger;
  secrets: SecretStore;
  google: GoogleOAuth;
  /**
   * The mailbox's refresh token stopped working (GmailAuthRevoked): mark it disconnected, audit it, tell
   * the tenant's admins (channels/email/connection.ts). Runs in the tenant's scope.
   */
  onRevoked(tenantId: string, row: MailboxRow): Promise<void>;
  /** How long a mailbox's Gmail client (and its access token) is kept before it is built again. */
  cacheSeconds?: number;
}

interface Cached {
  gmail: GmailMailbox;
  at: number;
}

/**
 * Opens tenants' mailboxes for the sync worker and the reply sender. The row is read every time (a
 * disconnected mailbox stops at once); the refresh token is read from the secret store (each read audited)
 * and its Gmail client kept per mailbox for `cacheSeconds`, so the access token is reused between tasks.
 */
export class MailboxAccess {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly deps: MailboxAccessDeps) {}

  /** Undefined when the mailbox is gone, disconnected, or its refresh token is unreadable for good. */
  async open(tenantId: string, connectionId: string): Promise<OpenMailbox | undefined> {
    const row = await inTenant(tenantId, () => findMailbox(this.deps.sql, connectionId));
    if (row?.status !== "connected") {
      this.cache.delete(connectionId);
      return undefined;
    }
    const cached = this.cache.get(connectionId);
    if (cached && Date.now() - cached.at < (this.deps.cacheSeconds ?? 600) * 1000)
      return { row, gmail: cached.gmail };
    const owner = { id: connectionId, tenantId, kind: "gmail", secretRefs: row.secretRefs };
    const token = await unlessCredentialsGone(this.deps.log, connectionId, () =>
      readCredential({ sql: this.deps.sql, secrets: this.deps.secrets }, owner, "refreshToken"),
    );
    if (!token) return undefined;
    const gmail = this.deps.google.mailbox(token);
    this.cache.set(connectionId, { gmail, at: Date.now() });
    return { row, gmail };
  }

  /** The refresh token was refused: forget the client, and let the connection's owner disconnect it. */
  async revoked(tenantId: string, row: MailboxRow): Promise<void> {
    this.cache.delete(row.connectionId);
    this.deps.log.warn(
      { event: "email.mailbox_revoked", tenantId, connectionId: row.connectionId },
      "a mailbox's refresh token was revoked or expired; it is disconnected",
    );
    await inTenant(tenantId, () => this.deps.onRevoked(tenantId, row));
  }

  /** Drops a cached client (the mailbox was disconnected or connected again with a new token). */
  forget(connectionId: string) {
    this.cache.delete(connectionId);
  }
}
