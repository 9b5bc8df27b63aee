import { createRouter } from "../../http/router";
import { adminPrincipal } from "../../middleware/admin-principal";
import { auditRoutes } from "./audit";
import { callRoutes } from "./calls";
import { channelRoutes } from "./channels";
import { contactRoutes } from "./contacts";
import type { AdminDeps } from "./deps";
import { knowledgeRoutes } from "./knowledge";
import { settingsRoutes } from "./settings";
import { tenantRoutes } from "./tenants";
import { usageRoutes } from "./usage";
import { userRoutes } from "./users";

export type { AdminDeps } from "./deps";

/**
 * The admin API (docs/tenants.md, "Admin API"): tenants, their settings, knowledge, users, usage,
 * channels and the audit log. Every route first learns who calls (middleware/admin-principal.ts), then
 * checks what that caller may do on the tenant in its path (access.ts) and works in that tenant's scope.
 */
export function adminRoutes(deps: AdminDeps) {
  const app = createRouter();
  const principal = adminPrincipal({ adminApiKey: deps.adminApiKey, auth: deps.auth, sql: deps.sql });
  app.use("/api/v1/admin", principal);
  app.use("/api/v1/admin/*", principal);
  app.route("/", tenantRoutes(deps));
  app.route("/", settingsRoutes(deps));
  app.route("/", knowledgeRoutes(deps));
  app.route("/", userRoutes(deps));
  app.route("/", usageRoutes(deps));
  app.route("/", channelRoutes(deps));
  app.route("/", contactRoutes(deps));
  app.route("/", callRoutes(deps));
  app.route("/", auditRoutes(deps));
  return app;
}
