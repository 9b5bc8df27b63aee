import { createRoute, z } from "@hono/zod-openapi";
import { appendAudit } from "../db/audit";
import type { Sql } from "../db/client";
import { handoffCounts } from "../db/handoffs";
import { outboxStats } from "../db/pipeline";
import { DEFAULT_TENANT_ID, inTenant } from "../db/tenant-scope";
import { erasePerson } from "../engine/erasure";
import type { OutboundEvents } from "../engine/follow-up";
import type { Authenticator } from "../http/auth";
import { AppError } from "../http/errors";
import { createRouter } from "../http/router";
import { requireAdmin } from "../middleware/admin-auth";
import { IntercomApiError, type IntercomGateway } from "../ports/intercom";
import { errorResponses } from "./schemas";

export interface IntercomAdminDeps {
  gateway: IntercomGateway | undefined;
  sql: Sql;
  auth: Authenticator;
  adminApiKey: string | undefined;
  configured: Record<string, boolean | string>;
  /** Keys the erasure records' subject references (engine/erasure.ts). */
  erasureKey: Buffer;
  /** Signed events out: an erasure records `contact.erased` (issue 14). */
  events?: OutboundEvents | undefined;
}

const Scalar = z.union([z.string().max(500), z.number(), z.boolean()]);
/** An id of Intercom's or the caller's: blank ("  ") names no one, so it is refused, not looked up. */
const Identifier = z.string().regex(/\S/, "must not be empty or blank");

const TrackEvent = z
  .object({
    event_name: z.string().min(1).max(255),
    user_id: Identifier.optional(),
    email: z.email().optional(),
    id: Identifier.optional(),
    created_at: z.number().int().positive().optional(),
    metadata: z
      .record(z.string(), Scalar)
      .refine((m) => Object.keys(m).length <= 10, "at most 10 keys (Intercom drops the rest)")
      .optional(),
  })
  .refine((b) => b.user_id || b.email || b.id, {
    message: "one of user_id, email or id is required",
    path: ["user_id"],
  });

const IdentifyUser = z
  .object({
    external_id: Identifier.max(255).optional(),
    email: z.email().optional(),
    name: z.string().max(255).optional(),
    phone: z.string().max(50).optional(),
    custom_attributes: z.record(z.string(), z.union([Scalar, z.null()])).optional(),
  })
  .refine((b) => b.external_id || b.email, {
    message: "external_id or email is required",
    path: ["external_id"],
  });

const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});

const trackEventRoute = createRoute({
  method: "post",
  path: "/intercom/track-event",
  summary: "Record an event on a contact (Intercom keeps only the first 10 flat metadata keys)",
  request: jsonBody(TrackEvent),
  responses: {
    202: {
      description: "Accepted by Intercom",
      content: { "application/json": { schema: z.object({ status: z.literal("accepted") }) } },
    },
    ...errorResponses(400, 401, 404, 503),
  },
});

const identifyUserRoute = createRoute({
  method: "post",
  path: "/intercom/identify-user",
  summary: "Create or update an Intercom contact by external_id (or e-mail)",
  request: jsonBody(IdentifyUser),
  responses: {
    200: {
      description: "The contact",
      content: {
        "application/json": {
          schema: z.object({
            id: z.string(),
            action: z.enum(["created", "updated"]),
            external_id: z.string().nullable(),
          }),
        },
      },
    },
    ...errorResponses(400, 401, 503),
  },
});

const eraseContactRoute = createRoute({
  method: "delete",
  path: "/intercom/contacts/{externalId}",
  summary:
    "GDPR erasure: delete the contact in Intercom and everything kept here of that person, and record the erasure",
  request: { params: z.object({ externalId: z.string().min(1).max(255) }) },
  responses: {
    200: {
      description: "Erased",
      content: {
        "application/json": {
          schema: z.object({
            deleted: z.boolean(),
            intercomContactId: z.string().nullable(),
            sessionsDeleted: z.number(),
          }),
        },
      },
    },
    ...errorResponses(401, 404, 503),
  },
});

const bridgeHealthRoute = createRoute({
  method: "get",
  path: "/intercom/health",
  summary: "What of the bridge is configured, the outbox backlog and handoffs of the last 24 h",
  responses: {
    200: {
      description: "Bridge health",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
    ...errorResponses(401),
  },
});

/** Intercom's refusals as this API's: an unknown contact, a request it rejected, or try again later. */
function upstreamError(error: unknown): never {
  if (error instanceof IntercomApiError && error.status === 404)
    throw new AppError(404, "contact_not_found", "Intercom has no such contact");
  if (
    error instanceof IntercomApiError &&
    error.status < 500 &&
    error.status !== 401 &&
    error.status !== 429
  ) {
    throw new AppError(400, "intercom_rejected", error.message);
  }
  throw new AppError(503, "intercom_unavailable", "Intercom did not accept the request; retry later", {
    headers: { "Retry-After": "10" },
  });
}

/** The admin API over Intercom (events, contacts, erasure) and the bridge's health, for admins only. */
export function intercomAdminRoutes(deps: IntercomAdminDeps) {
  const app = createRouter();
  app.use("/intercom/*", requireAdmin({ adminApiKey: deps.adminApiKey, auth: deps.auth }));
  // Intercom configured by environment variables is the default tenant's channel: its contacts, their
  // erasure and the bridge's backlog are that tenant's rows.
  app.use("/intercom/*", async function inDefaultTenant(_c, next) {
    await inTenant(DEFAULT_TENANT_ID, () => next());
  });
  const gateway = () => {
    if (deps.gateway) return deps.gateway;
    throw new AppError(
      503,
      "intercom_not_configured",
      "Intercom is not configured: set INTERCOM_ACCESS_TOKEN",
    );
  };

  app.openapi(trackEventRoute, async (c) => {
    const b = c.req.valid("json");
    const event = {
      eventName: b.event_name,
      createdAt: b.created_at ?? Math.floor(Date.now() / 1000),
      userId: b.user_id,
      email: b.email,
      id: b.id,
      metadata: b.metadata,
    };
    await gateway().trackEvent(event).catch(upstreamError);
    return c.json({ status: "accepted" as const }, 202);
  });

  app.openapi(identifyUserRoute, async (c) =>
    c.json(await identifyUser(gateway(), c.req.valid("json")), 200),
  );

  app.openapi(eraseContactRoute, async (c) => {
    const { externalId } = c.req.valid("param");
    // Without Intercom configured the erasure still reaches everything kept here.
    const g = deps.gateway;
    const contact = g ? await g.findContact({ externalId }).catch(upstreamError) : null;
    if (g && contact) await g.deleteContact(contact.id).catch(upstreamError);
    // Local data goes even when Intercom no longer knows the person.
    const { counts, erasureId } = await erasePerson(
      { sql: deps.sql, key: deps.erasureKey, log: c.get("log"), events: deps.events },
      {
        externalId,
        userIdentityIds: deps.auth.userIdentityIds(externalId),
        contactId: contact?.id ?? null,
        actor: c.get("identity")?.id ?? "admin-api-key",
        requestId: c.get("requestId"),
      },
    );
    if (!erasureId) throw new AppError(404, "contact_not_found", "No such contact here or in Intercom");
    // Runs in the default tenant's scope (the Intercom contact is its connection's). The target is the
    // erasure's record, never the person's id; the summary is row counts.
    await appendAudit(deps.sql, {
      actor: c.get("identity")?.id ?? "admin-api-key",
      role: c.get("identity") ? "admin" : "platform_admin",
      action: "erasure.completed",
      target: String(erasureId),
      requestId: c.get("requestId"),
      clientAddress: c.get("clientAddress"),
      summary: { counts, intercomContactDeleted: contact !== null },
    });
    return c.json(
      { deleted: true, intercomContactId: contact?.id ?? null, sessionsDeleted: counts.sessions },
      200,
    );
  });

  app.openapi(bridgeHealthRoute, async (c) => c.json(await bridgeHealth(deps), 200));
  return app;
}

/** Updates the contact with this external id (or, without one, e-mail), or creates it. */
async function identifyUser(g: IntercomGateway, b: z.infer<typeof IdentifyUser>) {
  const input = {
    externalId: b.external_id,
    email: b.email,
    name: b.name,
    phone: b.phone,
    customAttributes: b.custom_attributes,
  };
  const existing = await g
    .findContact({ externalId: b.external_id, email: b.external_id ? undefined : b.email })
    .catch(upstreamError);
  const contact = existing
    ? await g.updateContact(existing.id, input).catch(upstreamError)
    : await g.createContact(input).catch(upstreamError);
  return {
    id: contact.id,
    action: existing ? ("updated" as const) : ("created" as const),
    external_id: contact.externalId,
  };
}

async function bridgeHealth(deps: IntercomAdminDeps) {
  const [outbox, handoffs] = await Promise.all([outboxStats(deps.sql), handoffCounts(deps.sql, 24)]);
  const reasons: string[] = [];
  if (!deps.gateway) reasons.push("INTERCOM_ACCESS_TOKEN is not set");
  if (!deps.configured.webhookSecret)
    reasons.push("INTERCOM_WEBHOOK_SECRET is not set: webhooks are refused");
  if ((outbox.oldestSeconds ?? 0) > 300) reasons.push("customer messages waiting for more than 5 minutes");
  return {
    status: reasons.length === 0 ? "healthy" : "degraded",
    reasons,
    configured: deps.configured,
    outbox,
    handoffsLast24h: Object.fromEntries(handoffs.map((h) => [h.reason, h.count])),
  };
}
