import { randomUUID } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Sql } from "../../db/client";
import { type DeliveryLogEntry, duePending, listDeliveries, replayDelivery } from "../../db/event-deliveries";
import { recordTestEvent } from "../../db/outbound-events";
import { inTenant } from "../../db/tenant-scope";
import {
  deleteEndpoint,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  updateEndpoint,
  type WebhookEndpoint,
} from "../../db/webhook-endpoints";
import { OUTBOUND_EVENT_TYPES } from "../../engine/follow-up";
import { dispatchDeliveries, envelope, newMessageId } from "../../engine/outbound-events";
import { newWebhookSecret, webhookSecretKind } from "../../engine/webhook-secrets";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, Limit, TenantParams } from "./schemas";
import type { WebhookAdminDeps } from "./webhook-deps";

const Events = z
  .array(z.enum(OUTBOUND_EVENT_TYPES))
  .min(1)
  .max(OUTBOUND_EVENT_TYPES.length)
  .openapi({ description: "The event types sent to it", example: ["lead.created", "lead.updated"] });

const Url = z.string().trim().min(1).max(2048).openapi({
  description: "https; a Zapier Catch Hook URL works as it is",
  example: "https://crm.example.com/hooks",
});

const EndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    status: z.enum(["enabled", "disabled"]),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number(),
    failingSince: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");

const Secret = z.string().openapi({ description: "The `whsec_` signing secret: shown this once, keep it" });

const EndpointParams = TenantParams.extend({
  endpointId: z.uuid().openapi({ param: { name: "endpointId", in: "path" } }),
});
const DeliveryParams = EndpointParams.extend({
  deliveryId: z.uuid().openapi({ param: { name: "deliveryId", in: "path" } }),
});

const Attempt = z.object({
  at: z.string(),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
});

const DeliverySchema = z
  .object({
    id: z.uuid(),
    webhookId: z
      .string()
      .openapi({ description: "The event's `webhook-id`: the same on retries and replays" }),
    eventType: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    lastStatus: z.number().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    attemptLog: z.array(Attempt).openapi({ description: "The newest attempts first (at most 20)" }),
  })
  .openapi("WebhookDelivery");

const base = "/api/v1/admin/tenants/{id}/webhook-endpoints";
const admins = errorResponses(400, 401, 403, 404);

const createDef = createRoute({
  method: "post",
  path: base,
  summary: "Register an endpoint for signed webhooks (Standard Webhooks); its secret is shown once",
  request: {
    params: TenantParams,
    ...jsonBody(z.object({ url: Url, events: Events, description: z.string().trim().max(500).optional() })),
  },
  responses: {
    201: jsonContent(
      "The endpoint and its signing secret",
      z.object({ endpoint: EndpointSchema, secret: Secret }),
    ),
    ...admins,
  },
});

const listDef = createRoute({
  method: "get",
  path: base,
  summary: "The tenant's webhook endpoints",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The endpoints", z.object({ endpoints: z.array(EndpointSchema) })),
    ...admins,
  },
});

const getDef = createRoute({
  method: "get",
  path: `${base}/{endpointId}`,
  summary: "One webhook endpoint",
  request: { params: EndpointParams },
  responses: { 200: jsonContent("The endpoint", EndpointSchema), ...admins },
});

const updateDef = createRoute({
  method: "patch",
  path: `${base}/{endpointId}`,
  summary: "Change an endpoint's URL, events or description, or enable it again after its circuit opened",
  request: {
    params: EndpointParams,
    ...jsonBody(
      z
        .object({
          url: Url.optional(),
          events: Events.optional(),
          description: z.string().trim().max(500).nullable().optional(),
          enabled: z.literal(true).optional().openapi({ description: "Enable a disabled endpoint" }),
        })
        .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to change"),
    ),
  },
  responses: { 200: jsonContent("The endpoint", EndpointSchema), ...admins },
});

const deleteDef = createRoute({
  method: "delete",
  path: `${base}/{endpointId}`,
  summary: "Delete an endpoint, its secret and its delivery log",
  request: { params: EndpointParams },
  responses: { 204: { description: "Deleted" }, ...admins },
});

const rotateDef = createRoute({
  method: "post",
  path: `${base}/{endpointId}/rotate-secret`,
  summary: "A new signing secret (shown once); the old one stops signing at once",
  request: { params: EndpointParams },
  responses: { 200: jsonContent("The new secret", z.object({ secret: Secret })), ...admins },
});

const deliveriesDef = createRoute({
  method: "get",
  path: `${base}/{endpointId}/deliveries`,
  summary: "The endpoint's delivery log, newest first, with each delivery's attempts",
  request: {
    params: EndpointParams,
    query: z.object({
      limit: Limit,
      before: z
        .string()
        .regex(/^\d{1,19}$/)
        .optional()
        .openapi({ description: "The previous page's `nextBefore`" }),
    }),
  },
  responses: {
    200: jsonContent(
      "A page of deliveries",
      z.object({ deliveries: z.array(DeliverySchema), nextBefore: z.string().nullable() }),
    ),
    ...admins,
  },
});

const replayDef = createRoute({
  method: "post",
  path: `${base}/{endpointId}/deliveries/{deliveryId}/replay`,
  summary: "Send a delivery again (same `webhook-id`: a receiver that saw it may drop it)",
  request: { params: DeliveryParams },
  responses: {
    202: jsonContent("Queued", z.object({ deliveryId: z.uuid() })),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const testDef = createRoute({
  method: "post",
  path: `${base}/{endpointId}/test`,
  summary: "Send the endpoint a signed `webhook.test` event, whatever it subscribes to",
  request: { params: EndpointParams },
  responses: {
    202: jsonContent("Queued", z.object({ deliveryId: z.uuid(), webhookId: z.string() })),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function endpointView(e: WebhookEndpoint): z.infer<typeof EndpointSchema> {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    status: e.status,
    disabledReason: e.disabledReason,
    consecutiveFailures: e.consecutiveFailures,
    failingSince: iso(e.failingSince),
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

function deliveryView(d: DeliveryLogEntry): z.infer<typeof DeliverySchema> {
  return {
    id: d.id,
    webhookId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    deliveredAt: iso(d.deliveredAt),
    createdAt: new Date(d.createdAt).toISOString(),
    attemptLog: d.attemptLog.map((a) => ({ ...a, at: a.at.toISOString() })),
  };
}

const noSuchEndpoint = () => new AppError(404, "not_found", "No such webhook endpoint");

async function allowedTarget(hooks: WebhookAdminDeps, url: string): Promise<string> {
  const checked = await hooks.checkTarget(url);
  if (!checked.ok) throw new AppError(400, "invalid_webhook_url", checked.reason);
  return checked.url;
}

/** Where an endpoint's URL goes in the audit log: its host (a Zapier URL's path is its credential). */
const hostOf = (url: string) => new URL(url).host;

/**
 * A tenant's webhook endpoints (docs/webhooks.md), for its tenant admins: registered with a `whsec_`
 * secret kept in the secret store and shown once, their delivery log, replays and a test event. Every
 * change is audited, never with the secret.
 */
export function webhookEndpointRoutes(deps: AdminDeps, hooks: WebhookAdminDeps) {
  const app = createRouter();
  const { sql, secrets } = deps;
  const allowed = ["tenant_admin"] as const;
  const admin = (c: Context<AppEnv>, id: string) => requireTenantRole(c, sql, id, allowed);

  app.openapi(createDef, async (c) => {
    const { id } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const input = c.req.valid("json");
    const url = await allowedTarget(hooks, input.url);
    const endpointId = randomUUID();
    const secret = newWebhookSecret();
    const ref = await secrets.put({ tenantId: id, kind: webhookSecretKind(endpointId) }, secret);
    try {
      const endpoint = await inTenant(id, async () => {
        const row = await insertEndpoint(sql, {
          id: endpointId,
          url,
          events: input.events,
          description: input.description ?? null,
          secretName: ref,
        });
        const summary = { host: hostOf(url), events: input.events };
        await recordAction(c, sql, acting, {
          action: "webhook_endpoint.created",
          target: endpointId,
          summary,
        });
        return row;
      });
      return c.json({ endpoint: endpointView(endpoint), secret }, 201);
    } catch (error) {
      await secrets.delete(ref).catch(() => {});
      throw error;
    }
  });

  app.openapi(listDef, async (c) => {
    const { id } = c.req.valid("param");
    await admin(c, id);
    const endpoints = await inTenant(id, () => listEndpoints(sql));
    return c.json({ endpoints: endpoints.map(endpointView) }, 200);
  });

  app.openapi(getDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    await admin(c, id);
    const endpoint = await inTenant(id, () => findEndpoint(sql, endpointId));
    if (!endpoint) throw noSuchEndpoint();
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(updateDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const change = c.req.valid("json");
    const url = change.url === undefined ? undefined : await allowedTarget(hooks, change.url);
    const { endpoint, kept } = await inTenant(id, async () => {
      const row = await updateEndpoint(sql, endpointId, {
        url,
        events: change.events,
        description: change.description,
        enable: change.enabled,
      });
      if (!row) throw noSuchEndpoint();
      const summary = {
        ...(url ? { host: hostOf(url) } : {}),
        ...(change.events ? { events: change.events } : {}),
        ...(change.description !== undefined ? { description: true } : {}),
        ...(change.enabled ? { enabled: true } : {}),
      };
      await recordAction(c, sql, acting, { action: "webhook_endpoint.updated", target: endpointId, summary });
      // Enabled again: what it kept while disabled goes out now (the rest, past this batch, by the sweep).
      const due = change.enabled ? await duePending(sql, endpointId, new Date(), 500) : [];
      return { endpoint: row, kept: due };
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, kept);
    return c.json(endpointView(endpoint), 200);
  });

  app.openapi(deleteDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const deleted = await inTenant(id, async () => {
      const row = await deleteEndpoint(sql, endpointId);
      if (!row) throw noSuchEndpoint();
      await recordAction(c, sql, acting, { action: "webhook_endpoint.deleted", target: endpointId });
      return row;
    });
    hooks.secretCache.forget(deleted.secretName);
    await secrets.delete(deleted.secretName);
    return c.body(null, 204);
  });

  app.openapi(rotateDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const endpoint = await inTenant(id, () => findEndpoint(sql, endpointId));
    if (!endpoint) throw noSuchEndpoint();
    const secret = newWebhookSecret();
    await secrets.rotate(endpoint.secretName, secret);
    hooks.secretCache.forget(endpoint.secretName);
    await inTenant(id, () =>
      recordAction(c, sql, acting, { action: "webhook_endpoint.secret_rotated", target: endpointId }),
    );
    return c.json({ secret }, 200);
  });

  app.openapi(deliveriesDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    await admin(c, id);
    const { limit, before } = c.req.valid("query");
    const page = await inTenant(id, async () => {
      if (!(await findEndpoint(sql, endpointId))) throw noSuchEndpoint();
      return listDeliveries(sql, endpointId, { beforeSeq: before, limit });
    });
    const nextBefore = page.length === limit ? (page.at(-1)?.seq ?? null) : null;
    return c.json({ deliveries: page.map(deliveryView), nextBefore }, 200);
  });

  app.openapi(replayDef, async (c) => {
    const { id, endpointId, deliveryId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const replayed = await inTenant(id, async () => {
      await requireEnabled(sql, endpointId);
      const row = await replayDelivery(sql, endpointId, deliveryId, new Date());
      if (!row) throw new AppError(404, "not_found", "No such delivery of this endpoint");
      await recordAction(c, sql, acting, { action: "webhook_delivery.replayed", target: deliveryId });
      return row;
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, [replayed]);
    return c.json({ deliveryId: replayed.id }, 202);
  });

  app.openapi(testDef, async (c) => {
    const { id, endpointId } = c.req.valid("param");
    const { acting } = await admin(c, id);
    const webhookId = newMessageId();
    const data = { message: "A test event from Switchboard", endpointId };
    const delivery = await inTenant(id, async () => {
      await requireEnabled(sql, endpointId);
      const event = {
        id: webhookId,
        type: "webhook.test",
        orderingKey: null,
        payload: envelope("webhook.test", data, new Date()),
      };
      const row = await recordTestEvent(sql, endpointId, event);
      if (!row) throw noSuchEndpoint();
      await recordAction(c, sql, acting, { action: "webhook_endpoint.test_sent", target: endpointId });
      return row;
    });
    await dispatchDeliveries(hooks.queue, hooks.log, id, [delivery]);
    return c.json({ deliveryId: delivery.id, webhookId }, 202);
  });

  return app;
}

/** Replays and tests go to enabled endpoints only (a disabled one holds them: enable it first). */
async function requireEnabled(sql: Sql, endpointId: string) {
  const endpoint = await findEndpoint(sql, endpointId);
  if (!endpoint) throw noSuchEndpoint();
  if (endpoint.status !== "enabled") {
    throw new AppError(
      409,
      "endpoint_disabled",
      "the endpoint is disabled: enable it first (PATCH enabled: true)",
    );
  }
}
