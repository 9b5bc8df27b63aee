import { createRoute, z } from "@hono/zod-openapi";
import type { DeliveryLogEntry } from "../../db/event-deliveries";
import type { WebhookEndpoint } from "../../db/webhook-endpoints";
import { OUTBOUND_EVENT_TYPES } from "../../engine/follow-up";
import { errorResponses, jsonBody, jsonContent, Limit, TenantParams } from "./schemas";

/** The routes, bodies and views of the webhook endpoint admin API (webhook-endpoints.ts). */

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

export const createDef = createRoute({
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

export const listDef = createRoute({
  method: "get",
  path: base,
  summary: "The tenant's webhook endpoints",
  request: { params: TenantParams },
  responses: {
    200: jsonContent("The endpoints", z.object({ endpoints: z.array(EndpointSchema) })),
    ...admins,
  },
});

export const getDef = createRoute({
  method: "get",
  path: `${base}/{endpointId}`,
  summary: "One webhook endpoint",
  request: { params: EndpointParams },
  responses: { 200: jsonContent("The endpoint", EndpointSchema), ...admins },
});

export const updateDef = createRoute({
  method: "patch",
  path: `${base}/{endpointId}`,
  summary:
    "Change an endpoint's URL, events or description, disable it, or enable it again (also after its circuit opened)",
  request: {
    params: EndpointParams,
    ...jsonBody(
      z
        .object({
          url: Url.optional(),
          events: Events.optional(),
          description: z.string().trim().max(500).nullable().optional(),
          enabled: z.boolean().optional().openapi({
            description:
              "true: enable a disabled endpoint; false: disable it (its deliveries wait until enabled)",
          }),
        })
        .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to change"),
    ),
  },
  responses: { 200: jsonContent("The endpoint", EndpointSchema), ...admins },
});

export const deleteDef = createRoute({
  method: "delete",
  path: `${base}/{endpointId}`,
  summary: "Delete an endpoint, its secret and its delivery log",
  request: { params: EndpointParams },
  responses: { 204: { description: "Deleted" }, ...admins },
});

export const rotateDef = createRoute({
  method: "post",
  path: `${base}/{endpointId}/rotate-secret`,
  summary: "A new signing secret (shown once); the old one stops signing at once",
  request: { params: EndpointParams },
  responses: { 200: jsonContent("The new secret", z.object({ secret: Secret })), ...admins },
});

export const deliveriesDef = createRoute({
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

export const replayDef = createRoute({
  method: "post",
  path: `${base}/{endpointId}/deliveries/{deliveryId}/replay`,
  summary: "Send a delivery again (same `webhook-id`: a receiver that saw it may drop it)",
  request: { params: DeliveryParams },
  responses: {
    202: jsonContent("Queued", z.object({ deliveryId: z.uuid() })),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

export const testDef = createRoute({
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

export function endpointView(e: WebhookEndpoint): z.infer<typeof EndpointSchema> {
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

export function deliveryView(d: DeliveryLogEntry): z.infer<typeof DeliverySchema> {
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
