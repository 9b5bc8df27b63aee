import { createRouter } from "../../http/router";
import type { ConsoleDeps } from "../deps";
import { apiKeysPage } from "./api-keys-page";
import { channelsPage } from "./channels-page";
import { usersPage } from "./users-page";
import { webhookDetailPage } from "./webhook-detail-page";
import { webhooksPage } from "./webhooks-page";

/**
 * The tenant admins' pages (docs/console.md, "Channels, users, webhooks and API keys"): they read in the
 * tenant's scope and render; every change they offer is a form sent to the admin API.
 */
export function adminPages(deps: ConsoleDeps) {
  const app = createRouter();
  app.get("/console/t/:tenantId/channels", (c) => channelsPage(c, deps));
  app.get("/console/t/:tenantId/users", (c) => usersPage(c, deps));
  app.get("/console/t/:tenantId/webhooks", (c) => webhooksPage(c, deps));
  app.get("/console/t/:tenantId/webhooks/:endpointId", (c) => webhookDetailPage(c, deps));
  app.get("/console/t/:tenantId/api-keys", (c) => apiKeysPage(c, deps));
  return app;
}
