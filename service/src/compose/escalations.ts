import { slackWebhookPoster } from "../adapters/slack-webhook";
import { smtpMailer } from "../adapters/smtp-mailer";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { tenantBusinessHours } from "../domain/handoff-notice";
import { type EscalationSettings, TenantEscalations } from "../engine/escalations";
import type { OutboundEvents } from "../engine/follow-up";
import { NotificationSender, type TenantMailers } from "../engine/notifications";
import type { TenantDirectory } from "../engine/tenant-directory";
import { WebHandoff } from "../engine/web-handoff";
import type { Logger } from "../logger";
import type { Mailer } from "../ports/mailer";
import type { SecretStore } from "../ports/secret-store";
import type { SlackPoster } from "../ports/slack";
import { pipelineSettings } from "./settings";
import type { Tasks } from "./tasks";

export interface EscalationParts {
  escalations: TenantEscalations;
  notifications: NotificationSender;
  /** The web chat's handoff (routes/chat.ts). */
  web: WebHandoff;
  /** The SMTP relay's mailer, when SMTP_URL is set. */
  mailer: (Mailer & { close(): void }) | undefined;
}

export interface EscalationBuildDeps {
  sql: Sql;
  log: Logger;
  tasks: Tasks;
  secretStore: SecretStore;
  tenants: TenantDirectory;
  /** The signed webhooks out: `escalation.created` / `escalation.resolved`. */
  events: OutboundEvents;
  /** Test seams: a Slack poster and a mailer of the test's own. */
  slack?: SlackPoster | undefined;
  mailer?: (Mailer & { close(): void }) | undefined;
  /** Tenants' connected mailboxes (compose/email.ts): their team's e-mail goes through them. */
  tenantMailers?: TenantMailers | undefined;
}

/**
 * Escalations and their notifications: the `notification` task handler and its sweep registered on the
 * one task queue; e-mail through the SMTP relay (SMTP_URL, NOTIFY_FROM) and Slack incoming webhooks.
 */
export function buildEscalations(config: Config, deps: EscalationBuildDeps): EscalationParts {
  const { sql, log, tasks, secretStore, tenants } = deps;
  const mailer =
    deps.mailer ??
    (config.SMTP_URL ? smtpMailer({ url: config.SMTP_URL, from: config.NOTIFY_FROM }) : undefined);
  const mailboxes = deps.tenantMailers;
  const deployment = { ...config.BUSINESS_HOURS, timeZone: config.BUSINESS_TIMEZONE };
  const settings = async (tenantId: string): Promise<EscalationSettings> => {
    const own = (await tenants.get(tenantId))?.settings ?? {};
    return {
      emails: own.escalations?.emails ?? [],
      resumeBotOnResolve: own.escalations?.resumeBotOnResolve ?? true,
      intercomInbox: own.escalations?.intercomInbox ?? true,
      hours: tenantBusinessHours(own, deployment),
      message: own.handoff?.message,
      afterHoursMessage: own.handoff?.afterHoursMessage,
    };
  };
  const escalations = new TenantEscalations({
    sql,
    log,
    queue: tasks.queue,
    events: deps.events,
    settings,
    mailer: mailer !== undefined,
    tenantMails: mailboxes ? (sql) => mailboxes.has(sql) : undefined,
  });
  const base = config.PUBLIC_URL?.replace(/\/+$/, "");
  const notifications = new NotificationSender({
    sql,
    log,
    queue: tasks.queue,
    secrets: secretStore,
    slack: deps.slack ?? slackWebhookPoster(),
    mailer,
    tenantMailer: mailboxes ? (tenantId) => mailboxes.mailerOf(tenantId) : undefined,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    businessName: async (tenantId) => {
      const tenant = await tenants.get(tenantId);
      return tenant?.settings.promptVariables?.businessName ?? tenant?.name ?? "your business";
    },
    link: base ? (tenantId, id) => `${base}/api/v1/admin/tenants/${tenantId}/escalations/${id}` : undefined,
  });
  tasks.handlers.register("notification", (id, tenantId) => notifications.run(id, tenantId));
  tasks.sweeps.push(notifications.sweep());
  const web = new WebHandoff({ sql, escalations, rules: pipelineSettings(config).handoff });
  return { escalations, notifications, web, mailer };
}
