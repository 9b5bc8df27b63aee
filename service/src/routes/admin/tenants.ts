import { createRoute, z } from "@hono/zod-openapi";
import { createTenant, listTenants, rotateWidgetKey, updateTenant } from "../../db/platform";
import { inTenant } from "../../db/tenant-scope";
import { TENANT_SLUG, type Tenant, tenantSettingsSchema } from "../../domain/tenant";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requirePlatform, requireTenantRole } from "./access";
import { type AdminDeps, isUniqueViolation } from "./deps";
import {
  errorResponses,
  jsonBody,
  jsonContent,
  Limit,
  TenantParams,
  TenantSchema,
  tenantView,
} from "./schemas";
import { invalidSettings } from "./settings-view";

const CreateTenant = z
  .object({
    slug: z
      .string()
      .regex(TENANT_SLUG, "lowercase letters, digits and '-', at most 48")
      .openapi({ example: "acme" }),
    name: z.string().trim().min(1).max(200).openapi({ example: "Acme Inc." }),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("CreateTenant");

const UpdateTenant = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(["active", "suspended"]).optional(),
  })
  .refine((b) => b.name !== undefined || b.status !== undefined, "name or status is required")
  .openapi("UpdateTenant");

const TenantList = z.object({ tenants: z.array(TenantSchema), nextCursor: z.string().nullable() });

const createRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants",
  summary: "Create a tenant (platform admins); the answer carries its widget key",
  request: jsonBody(CreateTenant),
  responses: { 201: jsonContent("The new tenant", TenantSchema), ...errorResponses(400, 401, 403, 409) },
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants",
  summary: "List tenants by slug (platform admins); pass `nextCursor` back as `cursor` for the next page",
  request: { query: z.object({ cursor: z.string().max(48).optional(), limit: Limit }) },
  responses: { 200: jsonContent("A page of tenants", TenantList), ...errorResponses(400, 401, 403) },
});

const getRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}",
  summary: "One tenant (platform admins, and its tenant admins)",
  request: { params: TenantParams },
  responses: { 200: jsonContent("The tenant", TenantSchema), ...errorResponses(400, 401, 403, 404) },
});

const updateRouteDef = createRoute({
  method: "patch",
  path: "/api/v1/admin/tenants/{id}",
  summary: "Rename, suspend or reactivate a tenant (platform admins)",
  request: { params: TenantParams, ...jsonBody(UpdateTenant) },
  responses: { 200: jsonContent("The tenant", TenantSchema), ...errorResponses(400, 401, 403, 404) },
});

const rotateRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/widget-key",
  summary: "A new widget key; the old one stops routing at once (platform admins, its tenant admins)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The tenant with its new key", TenantSchema),
    ...errorResponses(400, 401, 403, 404),
  },
});

/** What a PATCH did, as the audit log names it. */
function updateAction(before: Tenant, after: Tenant): string {
  if (before.status !== after.status)
    return after.status === "suspended" ? "tenant.suspended" : "tenant.reactivated";
  return "tenant.updated";
}

export function tenantRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(createRouteDef, async (c) => {
    const acting = await requirePlatform(c, sql);
    const body = c.req.valid("json");
    const settings = tenantSettingsSchema.safeParse(body.settings ?? {});
    if (!settings.success) throw invalidSettings(settings.error);
    const tenant = await createTenant(sql, {
      slug: body.slug,
      name: body.name,
      settings: settings.data,
    }).catch((error: unknown) => {
      if (isUniqueViolation(error)) throw new AppError(409, "conflict", `the slug "${body.slug}" is taken`);
      throw error;
    });
    const summary = { slug: tenant.slug, name: tenant.name, settingsKeys: Object.keys(settings.data) };
    await inTenant(tenant.id, () =>
      recordAction(c, sql, acting, { action: "tenant.created", target: tenant.id, summary }),
    );
    deps.tenants.forget(tenant);
    return c.json(tenantView(tenant), 201);
  });

  app.openapi(listRouteDef, async (c) => {
    await requirePlatform(c, sql);
    const { cursor, limit } = c.req.valid("query");
    const rows = await listTenants(sql, { limit: limit + 1, afterSlug: cursor });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? (page.at(-1)?.slug ?? null) : null;
    return c.json({ tenants: page.map(tenantView), nextCursor }, 200);
  });

  app.openapi(getRouteDef, async (c) => {
    const { tenant } = await requireTenantRole(c, sql, c.req.valid("param").id, ["tenant_admin"]);
    return c.json(tenantView(tenant), 200);
  });

  app.openapi(updateRouteDef, async (c) => {
    const acting = await requirePlatform(c, sql);
    const { id } = c.req.valid("param");
    const { tenant: before } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const change = c.req.valid("json");
    const after = await updateTenant(sql, id, change);
    if (!after) throw new AppError(404, "not_found", "No such tenant");
    const summary = { changed: Object.keys(change), status: after.status };
    await inTenant(id, () =>
      recordAction(c, sql, acting, { action: updateAction(before, after), target: id, summary }),
    );
    deps.tenants.forget(after);
    return c.json(tenantView(after), 200);
  });

  app.openapi(rotateRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting, tenant: before } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const after = await rotateWidgetKey(sql, id);
    if (!after) throw new AppError(404, "not_found", "No such tenant");
    await inTenant(id, () => recordAction(c, sql, acting, { action: "widget_key.rotated", target: id }));
    deps.tenants.forget(before);
    return c.json(tenantView(after), 200);
  });

  return app;
}
