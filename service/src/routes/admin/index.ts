import { findApiKey } from "../../db/platform-api-keys";
import { hashApiKey } from "../../domain/api-key";
import { createRouter } from "../../http/router";
import { adminPrincipal } from "../../middleware/admin-principal";
import { apiKeyRoutes } from "./api-keys";
import { auditRoutes } from "./audit";
import { callRoutes } from "./calls";
import { channelRoutes } from "./channels";
import { contactDirectoryRoutes } from "./contact-directory";
import { contactRoutes } from "./contacts";
import type { AdminDeps } from "./deps";
import { emailRoutes } from "./email";
import { escalationReplyRoutes } from "./escalation-reply";
import { escalationRoutes } from "./escalations";
import { knowledgeRoutes } from "./knowledge";
import { leadRoutes } from "./leads";
import { settingsRoutes } from "./settings";
import { settingsTryRoutes } from "./settings-try";
import { tenantRoutes } from "./tenants";
import { usageRoutes } from "./usage";
import { userRoutes } from "./users";
import { webhookEndpointRoutes } from "./webhook-endpoints";

export type { AdminDeps } from "./deps";

/**
 * The admin API (docs/tenants.md, "Admin API"): tenants, their settings, knowledge, users, usage,
 * channels and the audit log. Every route first learns who calls (middleware/admin-principal.ts), then
 * checks what that caller may do on the tenant in its path (access.ts) and works in that tenant's scope.
 */
export function adminRoutes(deps: AdminDeps) {
  const app = createRouter();
  const principal = adminPrincipal({
    adminApiKey: deps.adminApiKey,
    auth: deps.auth,
    sql: deps.sql,
    // Tenants' API keys (routes/admin/api-keys.ts): found by their hash.
    apiKey: (key) => findApiKey(deps.sql, hashApiKey(key)),
    console: deps.consoleSession,
  });
  app.use("/api/v1/admin", principal);
  app.use("/api/v1/admin/*", principal);
  app.route("/", tenantRoutes(deps));
  app.route("/", settingsRoutes(deps));
  if (deps.trials) app.route("/", settingsTryRoutes(deps, deps.trials));
  app.route("/", knowledgeRoutes(deps));
  app.route("/", userRoutes(deps));
  app.route("/", usageRoutes(deps));
  app.route("/", channelRoutes(deps));
  app.route("/", emailRoutes(deps));
  app.route("/", contactRoutes(deps));
  // Contacts and leads (issue 14).
  app.route("/", contactDirectoryRoutes(deps));
  app.route("/", leadRoutes(deps));
  app.route("/", callRoutes(deps));
  app.route("/", auditRoutes(deps));
  // Signed webhooks out and the API keys of tenants' automations (docs/webhooks.md).
  app.route("/", apiKeyRoutes(deps));
  if (deps.webhooks) app.route("/", webhookEndpointRoutes(deps, deps.webhooks));
  const escalations = deps.escalations;
  if (escalations)
    app.route(
      "/",
      escalationRoutes({ ...deps, escalations, slackHosts: deps.slackHosts ?? ["hooks.slack.com"] }),
    );
  const replies = deps.agentReplies;
  if (escalations && replies) app.route("/", escalationReplyRoutes({ ...deps, escalations, replies }));
  return app;
}
