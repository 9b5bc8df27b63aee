import { createRoute, z } from "@hono/zod-openapi";
import { type CallRow, findCall, listCalls } from "../../db/calls";
import { inTenant } from "../../db/tenant-scope";
import { toE164 } from "../../domain/phone";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonContent, Limit, TenantParams } from "./schemas";

const CallSummary = z
  .object({
    id: z.uuid(),
    connectionId: z.uuid().nullable(),
    from: z.string().nullable().openapi({ description: "The caller (E.164, or a SIP address)" }),
    to: z.string().nullable().openapi({ description: "The tenant's number that was called" }),
    contactId: z.uuid().nullable(),
    durationSec: z.number().int().nullable(),
    reason: z
      .string()
      .nullable()
      .openapi({ description: "Why it ended, in Telnyx's words (user_hangup, …)" }),
    summary: z.string().nullable().openapi({ description: "The extraction's one-paragraph summary" }),
    ended: z.boolean().openapi({ description: "False while only Telnyx's insights arrived" }),
    endedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("CallSummary");

const CallDetail = CallSummary.extend({
  conversationId: z.string().nullable(),
  callControlId: z.string(),
  assistantId: z.string().nullable(),
  transcript: z
    .array(
      z.object({
        role: z.enum(["user", "assistant", "tool"]),
        text: z.string(),
        createdAt: z.string().nullable(),
      }),
    )
    .openapi({ description: "Oldest first, PII redacted as stored" }),
  insights: z
    .array(
      z.object({
        insightGroupId: z.string().nullable(),
        results: z.array(z.object({ insightId: z.string().nullable(), result: z.unknown() })),
        receivedAt: z.string(),
      }),
    )
    .openapi({ description: "Telnyx's call.conversation_insights.generated results, as received" }),
}).openapi("Call");

const CallsQuery = z.object({
  contactId: z.uuid().optional(),
  number: z.string().min(3).max(32).optional().openapi({ description: "The caller's or the called number" }),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "From this time (inclusive)" }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Before this time" }),
  cursor: z.uuid().optional().openapi({ description: "`nextCursor` of the previous page" }),
  limit: Limit,
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/calls",
  summary: "A tenant's phone calls, newest first, with their summaries (tenant admins and agents)",
  request: { params: TenantParams, query: CallsQuery },
  responses: {
    200: jsonContent(
      "A page of calls",
      z.object({ calls: z.array(CallSummary), nextCursor: z.string().nullable() }),
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const CallParams = TenantParams.extend({
  callId: z.uuid().openapi({ param: { name: "callId", in: "path" } }),
});

const getRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/calls/{callId}",
  summary: "One call: its summary, transcript and Telnyx's insights (tenant admins and agents)",
  request: { params: CallParams },
  responses: { 200: jsonContent("The call", CallDetail), ...errorResponses(400, 401, 403, 404) },
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function summaryOf(c: CallRow): z.infer<typeof CallSummary> {
  return {
    id: c.id,
    connectionId: c.connectionId,
    from: c.fromNumber,
    to: c.toNumber,
    contactId: c.contactId,
    durationSec: c.durationSec,
    reason: c.reason,
    summary: c.summary,
    ended: c.endedAt !== null,
    endedAt: iso(c.endedAt),
    createdAt: new Date(c.createdAt).toISOString(),
  };
}

function numberOf(given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  const phone = toE164(given);
  if (!phone)
    throw new AppError(400, "validation_failed", "number must be a phone number, e.g. +15557654321");
  return phone;
}

/** The calls tenants' assistants answered, read in the tenant's scope (no filter names the tenant). */
export function callRoutes(deps: AdminDeps) {
  const app = createRouter();
  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const number = numberOf(q.number);
    await requireTenantRole(c, deps.sql, id, ["tenant_admin", "agent"]);
    const filter = {
      contactId: q.contactId,
      number,
      from: q.since ? new Date(q.since) : undefined,
      to: q.until ? new Date(q.until) : undefined,
    };
    const rows = await inTenant(id, () => listCalls(deps.sql, filter, q.limit + 1, q.cursor));
    const page = rows.slice(0, q.limit);
    const nextCursor = rows.length > q.limit ? (page.at(-1)?.id ?? null) : null;
    return c.json({ calls: page.map(summaryOf), nextCursor }, 200);
  });
  app.openapi(getRouteDef, async (c) => {
    const { id, callId } = c.req.valid("param");
    await requireTenantRole(c, deps.sql, id, ["tenant_admin", "agent"]);
    const call = await inTenant(id, () => findCall(deps.sql, callId));
    if (!call) throw new AppError(404, "not_found", "No such call");
    return c.json(
      {
        ...summaryOf(call),
        conversationId: call.conversationId,
        callControlId: call.callControlId,
        assistantId: call.assistantId,
        transcript: call.transcript,
        insights: call.insights,
      },
      200,
    );
  });
  return app;
}
