import type { Context, MiddlewareHandler } from "hono";
import type { AdminPrincipal } from "../domain/identity";
import type { AppEnv } from "../http/app-env";
import { AppError } from "../http/errors";
import { createRouter } from "../http/router";
import { consoleAssetRoutes } from "./assets";
import type { ConsoleDeps } from "./deps";
import { consoleErrorHandler } from "./errors";
import { tenantPath } from "./layout";
import { adminPages } from "./pages/admin-pages";
import { assistantPages } from "./pages/assistant-pages";
import { auditPages } from "./pages/audit";
import { contactPages } from "./pages/contacts";
import { conversationPages } from "./pages/conversations";
import { escalationPages } from "./pages/escalations";
import { leadPages } from "./pages/leads";
import { platformTenantPages } from "./pages/platform-tenants";
import { usagePages } from "./pages/usage";
import { type ConsoleSessions, principalOf, requireCsrf, tenantOfAdminPath } from "./session";
import { signInRoutes } from "./sign-in/routes";

export type { ConsoleDeps } from "./deps";

/** Console paths anyone may open: its assets and the sign-in flow. */
const PUBLIC = /^\/console\/(assets|sign-in|auth)(\/|$)/;

/**
 * The web console (docs/console.md) at /console: server-rendered pages for agents, tenant admins and
 * platform admins. Every page needs a session; every change goes through the admin API (or, where a page
 * acts itself, through the same authorization and audit) with the session's CSRF token.
 */
export function consoleRoutes(deps: ConsoleDeps) {
  const app = createRouter();
  app.route("/", consoleAssetRoutes());
  app.use("/console", signedIn(deps.sessions));
  app.use("/console/*", signedIn(deps.sessions));
  app.get("/console", (c) => {
    const viewer = c.get("console");
    const tenantId = viewer?.currentTenantId ?? viewer?.memberships.find((m) => m.tenantId)?.tenantId;
    if (tenantId) return c.redirect(tenantPath(tenantId, "escalations"), 303);
    return c.redirect("/console/platform/tenants", 303);
  });
  app.get("/console/t/:tenantId", (c) => c.redirect(tenantPath(c.req.param("tenantId"), "escalations"), 303));
  // The pages, one module per concern (console/pages/): each serves its own paths.
  app.route("/", usagePages(deps));
  app.route("/", platformTenantPages(deps));
  app.route("/", auditPages(deps));
  app.route("/", adminPages(deps));
  app.route("/", signInRoutes(deps, deps.signIn ?? { localLinks: false }));
  app.route("/", conversationPages(deps));
  app.route("/", contactPages(deps));
  app.route("/", leadPages(deps));
  app.route("/", escalationPages(deps));
  app.route("/", assistantPages(deps));
  // Last: a console path no page answered is a page saying so (the app's own 404 is JSON).
  app.all("/console/*", () => {
    throw new AppError(404, "not_found", "There is no such page in the console.");
  });
  app.onError(consoleErrorHandler(deps.log));
  return app;
}

/** Every console page but the public ones needs a live session; a change also needs its CSRF token. */
function signedIn(sessions: ConsoleSessions): MiddlewareHandler<AppEnv> {
  return async function consoleSessionMiddleware(c, next) {
    if (PUBLIC.test(c.req.path)) return next();
    const viewer = await sessions.viewer(c);
    if (!viewer) return unauthorized(c);
    c.set("console", viewer);
    await requireCsrf(c, viewer);
    return next();
  };
}

function unauthorized(c: Context<AppEnv>) {
  // Signing out of a session that already ended (another tab, expiry) is done: on to the sign-in page.
  if (c.req.path === "/console/sign-out") return c.redirect("/console/sign-in", 303);
  if (c.req.method === "GET")
    return c.redirect(`/console/sign-in?next=${encodeURIComponent(c.req.path)}`, 303);
  return c.json(
    {
      error: { code: "unauthorized", message: "sign in to the console first", requestId: c.get("requestId") },
    },
    401,
  );
}

/**
 * The admin API's principal for a request that carries a console session cookie instead of an
 * Authorization header: the person's role for the tenant in the path, once the CSRF token checked out.
 */
export function consoleAdminPrincipal(sessions: ConsoleSessions) {
  return async (c: Context<AppEnv>): Promise<AdminPrincipal | undefined> => {
    const viewer = await sessions.viewer(c);
    if (!viewer) return undefined;
    await requireCsrf(c, viewer);
    c.set("console", viewer);
    return principalOf(viewer, tenantOfAdminPath(c.req.path));
  };
}
