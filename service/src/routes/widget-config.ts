import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/router";
import { errorResponses, TenantHeaders } from "./schemas";

const WidgetConfig = z
  .object({
    title: z.string().optional(),
    greeting: z.string().optional(),
    primaryColor: z.string().optional().openapi({ example: "#2454d6" }),
    position: z.enum(["left", "right"]).optional(),
  })
  .openapi("WidgetConfig");

const configRoute = createRoute({
  method: "get",
  path: "/api/v1/widget/config",
  summary: "The widget's look for a tenant (its public widget settings; unset ones are left out)",
  request: { headers: TenantHeaders },
  responses: {
    200: { description: "The look", content: { "application/json": { schema: WidgetConfig } } },
    ...errorResponses(403, 404),
  },
});

/**
 * What the widget asks on load: the look its tenant chose. Only these four public settings, never the
 * allowed origins or anything else of the tenant's. A suspended tenant is a 403 `tenant_suspended`
 * (middleware/tenant.ts), which the widget shows as "unavailable".
 */
export function widgetConfigRoutes() {
  const app = createRouter();
  app.openapi(configRoute, (c) => {
    const { title, greeting, primaryColor, position } = c.get("tenant")?.settings.widget ?? {};
    // Per tenant (the header) and per page (CORS): cached for a minute, so a change shows soon.
    c.header("Cache-Control", "public, max-age=60");
    c.header("Vary", "X-Switchboard-Tenant", { append: true });
    return c.json({ title, greeting, primaryColor, position }, 200);
  });
  return app;
}
