import { createRoute, z } from "@hono/zod-openapi";
import { inTenant } from "../../db/tenant-scope";
import { toE164 } from "../../domain/phone";
import { erasePerson } from "../../engine/erasure";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonContent, TenantParams } from "./schemas";

const PhoneParams = TenantParams.extend({
  phone: z
    .string()
    .min(3)
    .max(32)
    .openapi({ param: { name: "phone", in: "path" }, example: "+15557654321" }),
});

const eraseRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/contacts/phone/{phone}",
  summary:
    "GDPR erasure of a person who texted the tenant: their thread, contact and delivery records (their opt-out is kept)",
  request: { params: PhoneParams },
  responses: {
    200: jsonContent(
      "Erased",
      z.object({ erased: z.literal(true), counts: z.record(z.string(), z.number()) }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

/**
 * People a tenant's channels know by their phone number. Erasure runs in the tenant's scope, so it reaches
 * that tenant's records of the number only; the consent log keeps the number's opt-out (docs/privacy.md).
 */
export function contactRoutes(deps: AdminDeps) {
  const app = createRouter();
  app.openapi(eraseRouteDef, async (c) => {
    const { id, phone: given } = c.req.valid("param");
    const phone = toE164(given);
    if (!phone)
      throw new AppError(400, "validation_failed", "phone must be a phone number, e.g. +15557654321");
    const { acting } = await requireTenantRole(c, deps.sql, id, ["tenant_admin"]);
    const result = await inTenant(id, async () => {
      const erased = await erasePerson(
        { sql: deps.sql, key: deps.erasureKey, log: c.get("log") },
        {
          externalId: `phone:${phone}`,
          userIdentityIds: [`phone:${phone}`],
          contactId: null,
          phone,
          actor: acting.actor,
          requestId: c.get("requestId"),
        },
      );
      if (!erased.erasureId) return erased;
      // The target is the erasure's record, never the person; the summary is row counts.
      await recordAction(c, deps.sql, acting, {
        action: "erasure.completed",
        target: String(erased.erasureId),
        summary: { counts: erased.counts, channel: "sms" },
      });
      return erased;
    });
    if (!result.erasureId) throw new AppError(404, "contact_not_found", "Nothing is kept of this number");
    return c.json({ erased: true as const, counts: { ...result.counts } }, 200);
  });
  return app;
}
