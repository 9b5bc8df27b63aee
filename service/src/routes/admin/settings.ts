import { createRoute, z } from "@hono/zod-openapi";
import { inTenant } from "../../db/tenant-scope";
import { currentTenant, saveTenantSettings } from "../../db/tenants";
import { applySettingsPatch, type Tenant } from "../../domain/tenant";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";
import { effectiveSettings, invalidSettings } from "./settings-view";

const SettingsResponse = z
  .object({
    settings: z.record(z.string(), z.unknown()).openapi({ description: "What the tenant set" }),
    effective: z
      .record(z.string(), z.unknown())
      .openapi({ description: "What the engine uses: the settings over the deployment's defaults" }),
  })
  .openapi("TenantSettings");

const SettingsPatch = z.record(z.string(), z.unknown()).openapi("TenantSettingsPatch", {
  description: "Each top-level key replaces that section; null removes it (back to the deployment default)",
  example: { systemPrompt: "You answer for {{businessName}}.", promptVariables: { businessName: "Acme" } },
});

const readRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/settings",
  summary: "A tenant's settings and the effective values (platform admins, its tenant admins)",
  request: { params: TenantParams },
  responses: { 200: jsonContent("Settings", SettingsResponse), ...errorResponses(400, 401, 403, 404) },
});

const patchRouteDef = createRoute({
  method: "patch",
  path: "/api/v1/admin/tenants/{id}/settings",
  summary: "Change a tenant's settings; the result is validated whole (400 `invalid_settings`)",
  request: { params: TenantParams, ...jsonBody(SettingsPatch) },
  responses: { 200: jsonContent("Settings", SettingsResponse), ...errorResponses(400, 401, 403, 404) },
});

/** Which sections a patch set and which it removed: the audit summary (names only, never values). */
function changedKeys(patch: Record<string, unknown>) {
  const entries = Object.entries(patch);
  return {
    set: entries.filter(([, v]) => v !== null).map(([k]) => k),
    removed: entries.filter(([, v]) => v === null).map(([k]) => k),
  };
}

export function settingsRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const view = ({ settings, name }: Pick<Tenant, "settings" | "name">) => ({
    settings: settings as Record<string, unknown>,
    effective: effectiveSettings(deps.engineDefaults, settings, name),
  });

  app.openapi(readRouteDef, async (c) => {
    const { tenant } = await requireTenantRole(c, sql, c.req.valid("param").id, ["tenant_admin"]);
    return c.json(view(tenant), 200);
  });

  app.openapi(patchRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const patch = c.req.valid("json");
    // The whole patch is validated against the stored settings before anything is written.
    const saved = await inTenant(id, async () => {
      const current = await currentTenant(sql);
      if (!current) throw new AppError(404, "not_found", "No such tenant");
      const next = applySettingsPatch(current.settings, patch);
      if (!next.success) throw invalidSettings(next.error);
      const tenant = await saveTenantSettings(sql, next.data);
      await recordAction(c, sql, acting, {
        action: "settings.updated",
        target: id,
        summary: changedKeys(patch),
      });
      return tenant;
    });
    if (!saved) throw new AppError(404, "not_found", "No such tenant");
    deps.tenants.forget(saved);
    return c.json(view(saved), 200);
  });

  return app;
}
