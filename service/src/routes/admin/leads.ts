import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import { LEAD_STATUSES, type LeadWithContact, listLeads } from "../../db/leads";
import { inTenant } from "../../db/tenant-scope";
import { changeLeadStatus, LeadConflict } from "../../engine/extraction/leads";
import type { AppEnv } from "../../http/app-env";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import { csvRow } from "./csv";
import type { AdminDeps } from "./deps";
import { Cursor, decodeCursor, pageOf } from "./keyset";
import { LeadSchema, leadView } from "./lead-view";
import { errorResponses, jsonBody, jsonContent, Limit, TenantParams } from "./schemas";

const LeadWithContactSchema = LeadSchema.extend({
  contact: z.object({
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    company: z.string().nullable(),
  }),
}).openapi("LeadWithContact");

const LeadsQuery = z.object({
  status: z.enum(LEAD_STATUSES).optional(),
  cursor: Cursor,
  limit: Limit,
  format: z
    .enum(["json", "csv"])
    .default("json")
    .openapi({ description: "`csv`: every match as CSV (also `Accept: text/csv`)" }),
});

const listRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/leads",
  summary: "The tenant's leads, newest first, by status; as CSV with `Accept: text/csv` or `format=csv`",
  request: { params: TenantParams, query: LeadsQuery },
  responses: {
    200: {
      description: "A page of leads (JSON), or every match as CSV",
      content: {
        "application/json": {
          schema: z.object({ leads: z.array(LeadWithContactSchema), nextCursor: z.string().nullable() }),
        },
        "text/csv": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

const LeadParams = TenantParams.extend({
  leadId: z.uuid().openapi({ param: { name: "leadId", in: "path" } }),
});

const patchRouteDef = createRoute({
  method: "patch",
  path: "/api/v1/admin/tenants/{id}/leads/{leadId}",
  summary: "Set a lead's status (emits lead.updated)",
  request: {
    params: LeadParams,
    ...jsonBody(z.strictObject({ status: z.enum(LEAD_STATUSES) })),
  },
  responses: {
    200: jsonContent("The lead", z.object({ lead: LeadSchema })),
    ...errorResponses(400, 401, 403, 404, 409, 415),
  },
});

function leadWithContact(l: LeadWithContact) {
  return {
    ...leadView(l),
    contact: { name: l.contactName, email: l.contactEmail, phone: l.contactPhone, company: l.contactCompany },
  };
}

const CSV_HEADER = [
  "id",
  "status",
  "intent",
  "urgency",
  "name",
  "email",
  "phone",
  "company",
  "summary",
  "follow_ups",
  "source_channel",
  "source_kind",
  "source_id",
  "created_at",
  "updated_at",
];

function csvOf(l: LeadWithContact): string {
  return csvRow([
    l.id,
    l.status,
    l.intent,
    l.urgency,
    l.contactName,
    l.contactEmail,
    l.contactPhone,
    l.contactCompany,
    l.summary,
    l.followUps.join("; "),
    l.sourceChannel,
    l.sourceKind,
    l.sourceId,
    new Date(l.createdAt).toISOString(),
    new Date(l.updatedAt).toISOString(),
  ]);
}

const EXPORT_MAX_ROWS = 100_000;
const EXPORT_PAGE = 500;

/** Every matching lead as CSV, page by page, so an export of any size holds one page in memory. */
function exportCsv(
  c: Context<AppEnv>,
  tenantId: string,
  sqlList: typeof listLeads,
  deps: AdminDeps,
  status?: string,
) {
  c.header("content-type", "text/csv; charset=utf-8");
  c.header("content-disposition", 'attachment; filename="leads.csv"');
  return stream(c, async (out) => {
    await out.write(csvRow(CSV_HEADER));
    let after: { createdAt: Date; id: string } | undefined;
    for (let sent = 0; sent < EXPORT_MAX_ROWS; ) {
      const rows = await inTenant(tenantId, () =>
        sqlList(deps.sql, { status: status as never, limit: EXPORT_PAGE, after }),
      );
      if (rows.length > 0) await out.write(rows.map(csvOf).join(""));
      sent += rows.length;
      const last = rows.at(-1);
      if (!last || rows.length < EXPORT_PAGE) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
  });
}

/** Leads: listed and exported, and their status set, by the tenant's admins and agents. */
export function leadRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(listRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin", "agent"]);
    const q = c.req.valid("query");
    if (q.format === "csv" || /text\/csv/i.test(c.req.header("accept") ?? ""))
      return exportCsv(c, id, listLeads, deps, q.status) as never;
    const after = decodeCursor(q.cursor);
    const rows = await inTenant(id, () => listLeads(sql, { status: q.status, limit: q.limit + 1, after }));
    const { page, nextCursor } = pageOf(rows, q.limit);
    return c.json({ leads: page.map(leadWithContact), nextCursor }, 200);
  });

  app.openapi(patchRouteDef, async (c) => {
    const { id, leadId } = c.req.valid("param");
    const { acting } = await requireTenantRole(c, sql, id, ["tenant_admin", "agent"]);
    const { status } = c.req.valid("json");
    const lead = await inTenant(id, async () => {
      try {
        const changed = await changeLeadStatus({ sql, events: deps.events }, leadId, status);
        if (changed)
          await recordAction(c, sql, acting, { action: "lead.updated", target: leadId, summary: { status } });
        return changed;
      } catch (error) {
        if (error instanceof LeadConflict)
          throw new AppError(409, "lead_conflict", "The contact has another open lead; close it first");
        throw error;
      }
    });
    if (!lead) throw new AppError(404, "lead_not_found", "No such lead");
    return c.json({ lead: leadView(lead) }, 200);
  });

  return app;
}
