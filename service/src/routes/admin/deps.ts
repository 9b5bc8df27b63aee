import type { Context } from "hono";
import type { MailboxConnections } from "../../channels/email/connection";
import type { AgentReplies } from "../../channels/pipeline/agent-reply";
import type { Sql } from "../../db/client";
import type { AdminPrincipal } from "../../domain/identity";
import type { EngineSettings } from "../../engine/conversation-engine";
import type { TenantEscalations } from "../../engine/escalations";
import type { OutboundEvents } from "../../engine/follow-up";
import type { SettingsTrials } from "../../engine/settings-trial";
import type { TenantDirectory } from "../../engine/tenant-directory";
import type { AppEnv } from "../../http/app-env";
import type { Authenticator } from "../../http/auth";
import type { SecretStore } from "../../ports/secret-store";
import type { WebhookAdminDeps } from "./webhook-deps";

/** What the admin API is built from (compose/http-app.ts hands it in). */
export interface AdminDeps {
  sql: Sql;
  /** Tenants as the engines see them: told to forget a tenant after a change here. */
  tenants: Pick<TenantDirectory, "forget">;
  auth: Authenticator;
  /** The deployment's ADMIN_API_KEY: a platform admin. */
  adminApiKey: string | undefined;
  /** The deployment's engine settings, which a tenant's settings fall back to (shown as `effective`). */
  engineDefaults: EngineSettings;
  /** Where channel credentials go; the rows keep only references. */
  secrets: SecretStore;
  /** A knowledge document's largest body, in bytes (413 above it). */
  documentMaxBytes: number;
  /** The service's public URL (PUBLIC_URL): a connection's webhook URL starts with it; unset, a path. */
  publicUrl?: string | undefined;
  /** Keys the erasure records' subject references (GDPR erasure of a texting customer). */
  erasureKey: Buffer;
  /** Signed webhooks out (compose/webhooks-out.ts): without it the endpoint routes are not served. */
  webhooks?: WebhookAdminDeps | undefined;
  /** Signed events out (issue 14): `lead.updated` on a status change, `contact.erased` on an erasure. */
  events: OutboundEvents;
  /** Escalations (routes/admin/escalations.ts); absent: those routes are not served. */
  escalations?: TenantEscalations | undefined;
  /** A person's answers to escalated conversations, out through the channels' senders; absent: not served. */
  agentReplies?: AgentReplies | undefined;
  /** The hosts a tenant's Slack webhook may be on (SLACK_WEBHOOK_HOSTS). */
  slackHosts?: readonly string[] | undefined;
  /** Tenants' Gmail mailboxes (routes/admin/email.ts); absent: those routes answer not configured. */
  email?: MailboxConnections | undefined;
  /** "Try it" turns on draft settings (routes/admin/settings-try.ts); absent: that route is not served. */
  trials?: SettingsTrials | undefined;
  /** A signed-in console browser (console/index.tsx `consoleAdminPrincipal`): its cookie is a credential. */
  consoleSession?: ((c: Context<AppEnv>) => Promise<AdminPrincipal | undefined>) | undefined;
}

/** A unique index refused the row (PostgreSQL's `unique_violation`). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "23505";
}
