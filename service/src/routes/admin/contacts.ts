import { createRoute, z } from "@hono/zod-openapi";
import { textsOf } from "../../db/sms-messages";
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

const Text = z
  .object({
    direction: z.enum(["inbound", "outbound"]),
    purpose: z.string().openapi({ description: "inbound, reply, help, handoff or quota_notice" }),
    provider: z.string(),
    businessPhone: z.string(),
    status: z
      .string()
      .openapi({ description: "received, sending, queued, sent, delivered, undelivered, failed, …" }),
    errorCode: z
      .string()
      .nullable()
      .openapi({ description: "The provider's or carrier's code of a failure" }),
    segments: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Text");

const textsRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/contacts/phone/{phone}/texts",
  summary: "A texting customer's texts with the tenant, newest first, with each one's delivery state",
  request: {
    params: PhoneParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
  },
  responses: {
    200: jsonContent("The texts (never their words)", z.object({ texts: z.array(Text) })),
    ...errorResponses(400, 401, 403, 404),
  },
});

const eraseRouteDef = createRoute({
  method: "delete",
  path: "/api/v1/admin/tenants/{id}/contacts/phone/{phone}",
  summary:
    "GDPR erasure of a person who texted or called the tenant: their thread, contact, calls, leads and delivery records (their opt-out is kept; emits contact.erased)",
  request: { params: PhoneParams },
  responses: {
    200: jsonContent(
      "Erased",
      z.object({ erased: z.literal(true), counts: z.record(z.string(), z.number()) }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

function phoneOf(given: string): string {
  const phone = toE164(given);
  if (!phone) throw new AppError(400, "validation_failed", "phone must be a phone number, e.g. +15557654321");
  return phone;
}

/**
 * People a tenant's channels know by their phone number. Erasure runs in the tenant's scope, so it reaches
 * that tenant's records of the number only; the consent log keeps the number's opt-out (docs/privacy.md).
 */
export function contactRoutes(deps: AdminDeps) {
  const app = createRouter();
  app.openapi(textsRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const phone = phoneOf(c.req.valid("param").phone);
    await requireTenantRole(c, deps.sql, id, ["tenant_admin", "agent"]);
    const rows = await inTenant(id, () => textsOf(deps.sql, phone, c.req.valid("query").limit));
    const texts = rows.map((r) => ({
      direction: r.direction,
      purpose: r.purpose,
      provider: r.provider,
      businessPhone: r.businessPhone,
      status: r.status,
      errorCode: r.errorCode,
      segments: r.segments,
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
    }));
    return c.json({ texts }, 200);
  });

  app.openapi(eraseRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const phone = phoneOf(c.req.valid("param").phone);
    const { acting } = await requireTenantRole(c, deps.sql, id, ["tenant_admin"]);
    const result = await inTenant(id, async () => {
      const erased = await erasePerson(
        { sql: deps.sql, key: deps.erasureKey, log: c.get("log"), events: deps.events },
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
