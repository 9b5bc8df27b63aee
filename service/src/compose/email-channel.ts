import { emailChannel } from "../channels/email/channel";
import { EmailConnections } from "../channels/email/connections";
import type { MailboxAccess } from "../channels/email/mailbox-access";
import { emailSettingsOf } from "../channels/email/settings";
import type { QueuedChannel } from "../channels/pipeline/channel";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { tenantBusinessHours } from "../domain/handoff-notice";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";

export interface EmailChannelParts {
  sql: Sql;
  log: Logger;
  tenants?: TenantDirectory | undefined;
  /** The service's one MailboxAccess (compose/email.ts), shared with the sync worker; none: no e-mail. */
  mailboxes?: MailboxAccess | undefined;
}

/**
 * Tenants' Gmail mailboxes as the pipeline's connected channel `email`: each task gets its tenant's e-mail
 * channel with the tenant's settings and support hours read once. Undefined without the tenants' settings
 * or the mailboxes (compose/email.ts builds none without the deployment's Google OAuth client).
 */
export async function emailConnections(
  config: Config,
  parts: EmailChannelParts,
): Promise<EmailConnections | undefined> {
  const { sql, log, tenants } = parts;
  if (!tenants) return undefined;
  const mailboxes = parts.mailboxes;
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
