import type { MailboxAccess } from "../channels/email/mailbox-access";
import { GmailPushInbound } from "../channels/email/push";
import { gmailPushVerifier } from "../channels/email/push-verifier";
import { emailSettingsOf } from "../channels/email/settings";
import { MailboxSync } from "../channels/email/sync";
import { mailboxSyncSweep } from "../channels/email/sync-sweep";
import type { InboundPipeline } from "../channels/pipeline/pipeline";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";
import { GMAIL_PUSH_PATH } from "../routes/email-push";
import type { Tasks } from "./tasks";

export interface EmailInboundDeps {
  sql: Sql;
  log: Logger;
  tasks: Tasks;
  tenants: TenantDirectory;
  pipeline: InboundPipeline | undefined;
  /** The deployment's one MailboxAccess (compose/email.ts); none (no Google OAuth client): nothing is synced. */
  access: MailboxAccess | undefined;
}

export interface EmailInbound {
  /** The Gmail push door (routes/email-push.ts); undefined when mailboxes cannot be synced here. */
  push: GmailPushInbound | undefined;
}

/**
 * Receiving e-mail: the Gmail push door (verified against the push subscription's OIDC tokens), the
 * `mailbox-sync` task handler, and the catch-up sweep that syncs mailboxes whose push was lost, or all of
 * them every few minutes where there is no Pub/Sub (locally).
 */
export function buildEmailInbound(config: Config, deps: EmailInboundDeps): EmailInbound {
  const { sql, log, tasks, tenants, pipeline } = deps;
  const access = deps.access;
  if (!access || !pipeline) return { push: undefined };
  const verifier = gmailPushVerifier({
    audience: pushAudience(config),
    serviceAccount: config.GMAIL_PUSH_SERVICE_ACCOUNT,
    issuer: config.GMAIL_PUSH_ISSUER,
    jwksUrl: config.GMAIL_PUSH_JWKS_URL,
  });
  if (!verifier.configured)
    log.warn(
      { event: "email.push_unverifiable" },
      "GMAIL_PUSH_SERVICE_ACCOUNT (or PUBLIC_URL / GMAIL_PUSH_AUDIENCE) is not set: Gmail pushes are refused (401) and mailboxes are synced by the poll's sweep only",
    );
  const sync = new MailboxSync({
    sql,
    log,
    access,
    pipeline,
    queue: tasks.queue,
    settings: async (tenantId) => {
      const tenant = await tenants.get(tenantId);
      return emailSettingsOf(tenant?.settings ?? {}, tenant?.name);
    },
    maxBytes: config.EMAIL_MAX_BYTES,
  });
  tasks.handlers.register("mailbox-sync", (id, tenantId) => sync.run(id, tenantId));
  // Without a Pub/Sub topic no mailbox is watched (local): the poll is how mail arrives, so every poll syncs.
  const staleSeconds = config.GMAIL_PUBSUB_TOPIC ? 600 : 0;
  tasks.sweeps.push(mailboxSyncSweep({ sql, log, queue: tasks.queue, staleSeconds }));
  return { push: new GmailPushInbound({ sql, log, verifier, queue: tasks.queue }) };
}

/** The `aud` of push tokens: configured, else the push URL Pub/Sub calls (its default audience). */
function pushAudience(config: Config): string | undefined {
  if (config.GMAIL_PUSH_AUDIENCE) return config.GMAIL_PUSH_AUDIENCE;
  return config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, "")}${GMAIL_PUSH_PATH}` : undefined;
}
