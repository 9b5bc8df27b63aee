import { googleOAuth } from "../adapters/gmail";
import { MailboxConnections } from "../channels/email/connection";
import type { TeamNotices } from "../channels/email/connection-deps";
import { MailboxAccess } from "../channels/email/mailbox-access";
import { MailboxTeamMailers } from "../channels/email/team-mailer";
import { renewWatches, watchRenewalSweep } from "../channels/email/watch-renewal";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { Logger } from "../logger";
import type { GoogleOAuth } from "../ports/gmail";
import type { SecretStore } from "../ports/secret-store";
import type { Tasks } from "./tasks";

const CALLBACK_PATH = "/api/v1/email/oauth/callback";

/** Where Google sends the browser back: as configured, else PUBLIC_URL's callback, else this host's. */
export function emailRedirectUri(config: Config): string {
  if (config.EMAIL_OAUTH_REDIRECT_URL) return config.EMAIL_OAUTH_REDIRECT_URL;
  if (config.PUBLIC_URL) return `${config.PUBLIC_URL.replace(/\/+$/, "")}${CALLBACK_PATH}`;
  return `http://localhost:${config.PORT}${CALLBACK_PATH}`;
}

export interface EmailParts {
  /** The deployment's Google OAuth client; undefined when GOOGLE_OAUTH_CLIENT_ID/SECRET are not set. */
  google: GoogleOAuth | undefined;
  /** Tenants' mailboxes with their Gmail clients (the sync worker and the reply sender use it). */
  access: MailboxAccess | undefined;
  /** Connect, list, disconnect (the admin API and the OAuth callback). */
  connections: MailboxConnections;
  /** POST /internal/email/renew-watches; undefined when e-mail is not configured. */
  renewWatches: (() => Promise<Record<string, number>>) | undefined;
  /** Tenants' team e-mail through their connected mailbox (compose/escalations.ts). */
  tenantMailers: MailboxTeamMailers | undefined;
  /** The team's notifications (escalations) exist after this is built: they are handed in here. */
  attachTeam(team: TeamNotices): void;
}

/**
 * The e-mail channel's mailboxes (docs/email.md): the OAuth client, tenants' open mailboxes, connecting
 * and disconnecting them, the daily watch renewal (and its sweep on every poll), and the team mail
 * through them. Built before the escalations, which it notifies through `attachTeam`.
 */
export function buildEmail(
  config: Config,
  deps: { sql: Sql; log: Logger; secretStore: SecretStore; tasks: Tasks },
): EmailParts {
  const { sql, log } = deps;
  const redirectUri = emailRedirectUri(config);
  const google =
    config.GOOGLE_OAUTH_CLIENT_ID && config.GOOGLE_OAUTH_CLIENT_SECRET
      ? googleOAuth({
          clientId: config.GOOGLE_OAUTH_CLIENT_ID,
          clientSecret: config.GOOGLE_OAUTH_CLIENT_SECRET,
          redirectUri,
          oauthBase: config.GOOGLE_OAUTH_BASE,
          gmailApiBase: config.GMAIL_API_BASE,
        })
      : undefined;
  let team: TeamNotices | undefined;
  const notices: TeamNotices = {
    teamNoticeWriter: () => {
      if (!team) throw new Error("the team's notifications are not composed yet");
      return team.teamNoticeWriter();
    },
  };
  const access: MailboxAccess | undefined = google
    ? new MailboxAccess({
        sql,
        log,
        secrets: deps.secretStore,
        google,
        onRevoked: (tenantId, row): Promise<void> => connections.revoked(tenantId, row),
      })
    : undefined;
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, "");
  const connections: MailboxConnections = new MailboxConnections({
    ...{ sql, log, secrets: deps.secretStore, google, access, topic: config.GMAIL_PUBSUB_TOPIC },
    redirectUri,
    notices,
    connectUrl: (tenantId) => `${base}/api/v1/admin/tenants/${tenantId}/email/connect`,
  });
  const renewal = access ? { sql, log, access, topic: config.GMAIL_PUBSUB_TOPIC } : undefined;
  if (renewal) deps.tasks.sweeps.push(watchRenewalSweep(renewal));
  if (google && !config.GMAIL_PUBSUB_TOPIC)
    log.info(
      { event: "email.no_pubsub_topic" },
      "GMAIL_PUBSUB_TOPIC is not set: mailboxes are connected without a Gmail watch; the poll keeps them in sync",
    );
  return {
    google,
    access,
    connections,
    renewWatches: renewal ? () => renewWatches(renewal) : undefined,
    tenantMailers: access ? new MailboxTeamMailers({ sql, access }) : undefined,
    attachTeam: (t) => {
      team = t;
    },
  };
}
