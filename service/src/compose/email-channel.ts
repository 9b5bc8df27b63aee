import { emailChannel } from "../channels/email/channel";
import { EmailConnections } from "../channels/email/connections";
import { MailboxAccess } from "../channels/email/mailbox-access";
import { emailSettingsOf } from "../channels/email/settings";
import type { QueuedChannel } from "../channels/pipeline/channel";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { tenantBusinessHours } from "../domain/handoff-notice";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";
import type { SecretStore } from "../ports/secret-store";

export interface EmailChannelParts {
  sql: Sql;
  log: Logger;
  secretStore?: SecretStore | undefined;
  tenants?: TenantDirectory | undefined;
  /** The service's one MailboxAccess (compose/email.ts), shared with the sync worker; else one is built here. */
  mailboxes?: MailboxAccess | undefined;
}

/**
 * Tenants' Gmail mailboxes as the pipeline's connected channel `email`: each task gets its tenant's e-mail
 * channel with the tenant's settings and support hours read once. Undefined without a secret store, the
 * tenants' settings, or the deployment's Google OAuth client (no mailbox can be connected then).
 */
export async function emailConnections(
  config: Config,
  parts: EmailChannelParts,
): Promise<EmailConnections | undefined> {
  const { sql, log, tenants } = parts;
  if (!tenants) return undefined;
  const mailboxes = parts.mailboxes ?? (await ownMailboxAccess(config, parts));
  if (!mailboxes) return undefined;
  const deployment = { ...config.BUSINESS_HOURS, timeZone: config.BUSINESS_TIMEZONE };
  return new EmailConnections({
    channel: async (tenantId) => {
      // Read once per task: a settings change applies from the next message on.
      const tenant = await tenants.get(tenantId);
      const own = tenant?.settings ?? {};
      const settings = emailSettingsOf(own, tenant?.name);
      const hours = tenantBusinessHours(own, deployment);
      const channel = emailChannel({ sql, log, tenantId, settings, mailboxes, businessHours: () => hours });
      return channel as QueuedChannel<unknown>;
    },
  });
}

/**
 * A MailboxAccess of this file's own, for a service composed without compose/email.ts (which owns the
 * mailbox's lifecycle: a revoked grant there disconnects the mailbox and tells the tenant's admins). Here
 * a revoked grant is only logged (MailboxAccess does), and the reply ends `mailbox_disconnected`.
 */
async function ownMailboxAccess(config: Config, parts: EmailChannelParts) {
  const { GOOGLE_OAUTH_CLIENT_ID: clientId, GOOGLE_OAUTH_CLIENT_SECRET: clientSecret } = config;
  if (!clientId || !clientSecret || !parts.secretStore) return undefined;
  // Loaded only when e-mail is configured: a deployment without it never loads the Google clients.
  const { googleOAuth } = await import("../adapters/gmail");
  const google = googleOAuth({
    clientId,
    clientSecret,
    redirectUri: redirectUri(config),
    oauthBase: config.GOOGLE_OAUTH_BASE,
    gmailApiBase: config.GMAIL_API_BASE,
  });
  const { sql, log, secretStore } = parts;
  return new MailboxAccess({ sql, log, secrets: secretStore, google, onRevoked: async () => {} });
}

const CALLBACK_PATH = "/api/v1/email/oauth/callback";

function redirectUri(config: Config): string {
  if (config.EMAIL_OAUTH_REDIRECT_URL) return config.EMAIL_OAUTH_REDIRECT_URL;
  const base = config.PUBLIC_URL?.replace(/\/+$/, "") ?? `http://localhost:${config.PORT}`;
  return `${base}${CALLBACK_PATH}`;
}
