import { createRoute, z } from "@hono/zod-openapi";
import { type ApiKey, insertApiKey, listApiKeys, revokeApiKey } from "../../db/api-keys";
import { inTenant } from "../../db/tenant-scope";
import { newApiKey } from "../../domain/api-key";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";

const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(["agent", "tenant_admin"]),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart" }),
    createdBy: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: "Noted at most once a minute" }),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiKey");

const KeyParams = TenantParams.extend({
  keyId: z.uuid().openapi({ param: { name: "keyId", in: "path" } }),
});

const base = "/api/v1/admin/tenants/{id}/api-keys";

const createDef = createRoute({
  method: "post",
  path: base,
  summary: "A tenant API key for an automation (Zapier, a CRM): `Authorization: Bearer sbk_…`; shown once",
  request: {
    params: TenantParams,
    ...jsonBody(
      z.object({
        name: z.string().trim().min(1).max(100).openapi({ example: "Zapier: new leads to HubSpot" }),
        role: z.enum(["agent", "tenant_admin"]),
      }),
    ),
  },
  responses: {
    201: jsonContent(
      "The key's record and the key itself (never shown again)",
      z.object({ apiKey: ApiKeySchema, key: z.string() }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const listDef = createRoute({
  method: "get",
  path: base,
  summary: "The tenant's API keys (never the keys themselves)",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The keys", z.object({ apiKeys: z.array(ApiKeySchema) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const revokeDef = createRoute({
  method: "delete",
  path: `${base}/{keyId}`,
  summary: "Revoke a key: the next request with it is refused",
  request: { params: KeyParams },
  responses: { 200: jsonContent("The revoked key", ApiKeySchema), ...errorResponses(400, 401, 403, 404) },
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const view = (k: ApiKey): z.infer<typeof ApiKeySchema> => ({
  ...k,
  createdAt: new Date(k.createdAt).toISOString(),
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
});

/**
 * A tenant's API keys, for its tenant admins: keys its automations call the admin API with, in the role
 * the key was given (docs/webhooks.md, "Zapier"). Only the key's SHA-256 is stored.
 */
export function apiKeyRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;
  const allowed = ["tenant_admin"] as const;

  app.openapi(createDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, allowed);
    const { name, role } = c.req.valid("json");
    const made = newApiKey();
    const apiKey = await inTenant(id, async () => {
      const row = await insertApiKey(sql, {
        name,
        role,
        prefix: made.prefix,
        hash: made.hash,
        createdBy: acting.actor,
      });
      await recordAction(c, sql, acting, {
        action: "api_key.created",
        target: row.id,
        summary: { name, role },
      });
      return row;
    });
    return c.json({ apiKey: view(apiKey), key: made.key }, 201);
  });

  app.openapi(listDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, allowed);
    const keys = await inTenant(id, () => listApiKeys(sql));
    return c.json({ apiKeys: keys.map(view) }, 200);
  });

  app.openapi(revokeDef, async (c) => {
    const { id, keyId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, allowed);
    const revoked = await inTenant(id, async () => {
      const row = await revokeApiKey(sql, keyId);
      if (!row) throw new AppError(404, "not_found", "No such API key");
      await recordAction(c, sql, acting, {
        action: "api_key.revoked",
        target: keyId,
        summary: { name: row.name },
      });
      return row;
    });
    return c.json(view(revoked), 200);
  });

  return app;
}
