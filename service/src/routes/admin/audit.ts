import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import { type AuditFilter, type AuditRecord, listAudit } from "../../db/audit";
import { listAuditAcrossTenants } from "../../db/platform";
import { inTenant } from "../../db/tenant-scope";
import type { AppEnv } from "../../http/app-env";
import { createRouter } from "../../http/router";
import { requirePlatform, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, Limit, TenantParams } from "./schemas";

const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    tenantId: z.uuid().nullable(),
    actor: z.string(),
    role: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    requestId: z.string().nullable(),
    clientAddress: z.string().nullable(),
    summary: z.record(z.string(), z.unknown()),
  })
  .openapi("AuditEntry");

const AuditPage = z.object({ entries: z.array(AuditEntrySchema), nextCursor: z.string().nullable() });

const AuditQuery = z.object({
  actor: z.string().max(320).optional(),
  action: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "From this time (inclusive)" }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Before this time" }),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  limit: Limit,
  format: z
    .enum(["json", "jsonl"])
    .default("json")
    .openapi({ description: "`jsonl`: every match, one per line" }),
});

const responses = {
  200: {
    description:
      "Newest first: a page (JSON), or every match as JSON lines (`format=jsonl` or `Accept: application/x-ndjson`)",
    content: {
      "application/json": { schema: AuditPage },
      "application/x-ndjson": { schema: z.string() },
    },
  },
  ...errorResponses(400, 401, 403, 404),
};

const platformRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/audit",
  summary: "The audit log of every tenant and of the platform (platform admins)",
  request: { query: AuditQuery.extend({ tenant: z.uuid().optional() }) },
  responses,
});

const tenantRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/audit",
  summary: "A tenant's audit log (platform admins, its tenant admins)",
  request: { params: TenantParams, query: AuditQuery },
  responses,
});

type Query = z.infer<typeof AuditQuery>;
type Lister = (filter: AuditFilter) => Promise<AuditRecord[]>;

const view = (r: AuditRecord) => ({ ...r, at: new Date(r.at).toISOString() });

/** The most rows one export sends; narrow it with since/until for more. */
const EXPORT_MAX_ROWS = 100_000;
const EXPORT_PAGE = 500;

function filterOf(q: Query, tenantId?: string): AuditFilter {
  return {
    tenantId,
    actor: q.actor,
    action: q.action,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
    beforeId: q.cursor,
    limit: q.limit,
  };
}

/** JSON lines, page by page, so an export of any size holds one page in memory at a time. */
function exportLines(c: Context<AppEnv>, list: Lister, filter: AuditFilter) {
  c.header("content-type", "application/x-ndjson; charset=utf-8");
  return stream(c, async (out) => {
    let beforeId = filter.beforeId;
    for (let sent = 0; sent < EXPORT_MAX_ROWS; ) {
      const rows = await list({ ...filter, beforeId, limit: EXPORT_PAGE });
      if (rows.length > 0) await out.write(rows.map((r) => `${JSON.stringify(view(r))}\n`).join(""));
      sent += rows.length;
      beforeId = rows.at(-1)?.id;
      if (rows.length < EXPORT_PAGE) break;
    }
  });
}

async function answer(c: Context<AppEnv>, list: Lister, q: Query, filter: AuditFilter) {
  const wantsLines = q.format === "jsonl" || /application\/x-ndjson/i.test(c.req.header("accept") ?? "");
  if (wantsLines) return exportLines(c, list, filter);
  const rows = await list({ ...filter, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  return c.json(
    { entries: page.map(view), nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null },
    200,
  );
}

export function auditRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(platformRouteDef, async (c) => {
    await requirePlatform(c, sql);
    const q = c.req.valid("query");
    return answer(c, (f) => listAuditAcrossTenants(sql, f), q, filterOf(q, q.tenant)) as never;
  });

  app.openapi(tenantRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const q = c.req.valid("query");
    return answer(c, (f) => inTenant(id, () => listAudit(sql, f)), q, filterOf(q)) as never;
  });

  return app;
}
