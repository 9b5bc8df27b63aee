import type { AuditEntry } from "../../db/audit";
import type { Sql } from "../../db/client";
import type { Logger } from "../../logger";
import type { GoogleOAuth } from "../../ports/gmail";
import type { SecretStore } from "../../ports/secret-store";
import type { MailboxAccess } from "./mailbox-access";

/** Who does it, as the audit log names them (the admin API's caller, or the service itself). */
export type Actor = Pick<AuditEntry, "actor" | "role" | "requestId" | "clientAddress">;

export const SERVICE_ACTOR: Actor = { actor: "switchboard", role: "service" };

/**
 * The team's notifications of a mailbox event, written in the transaction that records the event (so one
 * is never lost nor doubled) and dispatched after its commit: engine/escalations.ts `teamNoticeWriter`
 * (asked before the transaction: it reads the tenant's settings).
 */
export interface TeamNotices {
  teamNoticeWriter(): Promise<
    (sql: Sql, topic: "mailbox.disconnected", payload: Record<string, string>) => Promise<() => Promise<void>>
  >;
}

export interface MailboxConnectionDeps {
  sql: Sql;
  log: Logger;
  /** Where refresh tokens go; the connection row keeps only the reference (`secret_refs.refreshToken`). */
  secrets: SecretStore;
  /** The deployment's OAuth client; undefined when GOOGLE_OAUTH_CLIENT_ID/SECRET are not set. */
  google: GoogleOAuth | undefined;
  /** Tenants' open mailboxes: told to forget a client whose token changed or went. */
  access: MailboxAccess | undefined;
  /** GMAIL_PUBSUB_TOPIC; undefined (local): mailboxes are connected without a watch, the poll syncs them. */
  topic: string | undefined;
  /** The redirect URI the OAuth client must have registered (named when e-mail is not configured). */
  redirectUri: string;
  notices: TeamNotices;
  /** The admin API's connect URL of a tenant, for the disconnection notice. */
  connectUrl(tenantId: string): string;
  /** How long a connect request's `state` lives. @default 600 */
  stateTtlSeconds?: number;
}

/** `secret_refs` names the refresh token under this credential name. */
export const REFRESH_TOKEN = "refreshToken";

/**
 * The secret name of a connection's refresh token: the admin API's naming of channel credentials
 * (`ch-<connection>-<credential>`, routes/admin/channel-view.ts `secretName`), so every channel's
 * credentials are found and granted alike.
 */
export const refreshTokenSecret = (tenantId: string, connectionId: string) => ({
  tenantId,
  kind: `ch-${connectionId.replace(/-/g, "")}-refresh-token`,
});
