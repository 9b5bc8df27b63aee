import { createRoute, z } from "@hono/zod-openapi";
import { inTenant } from "../../db/tenant-scope";
import { smsUsageByDay, type UsageRow, usageByDay } from "../../db/usage-report";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, TenantParams } from "./schemas";

const DAY = 86_400_000;
/** The longest range one request reads: a year and a day (a leap year's comparison). */
const MAX_DAYS = 367;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const Day = z.iso.date().openapi({ description: "A UTC date, YYYY-MM-DD" });

const UsageRowSchema = z.object({
  day: z.string(),
  model: z.string(),
  channel: z.string(),
  requests: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedTokens: z.number(),
  costUsd: z.number(),
});
const Totals = UsageRowSchema.omit({ day: true, model: true, channel: true });
const SmsUsageSchema = z.object({
  day: z.string(),
  sent: z.number(),
  failed: z.number(),
  optedOut: z.number(),
  quotaHits: z.number().openapi({ description: "Customer texts left unanswered: the SMS quota was reached" }),
});

const usageRouteDef = createRoute({
  method: "get",
  path: "/api/v1/admin/tenants/{id}/usage",
  summary:
    "Requests, tokens and cost per day, model and channel, with totals (platform admins, its tenant admins)",
  request: {
    params: TenantParams,
    query: z.object({
      from: Day.optional().openapi({ description: "Default: 30 days before `to`" }),
      to: Day.optional().openapi({ description: "Default: today (UTC)" }),
      format: z.enum(["json", "csv"]).default("json"),
    }),
  },
  responses: {
    200: {
      description: "The usage (JSON, or CSV with `format=csv`)",
      content: {
        "application/json": {
          schema: z.object({
            from: z.string(),
            to: z.string(),
            rows: z.array(UsageRowSchema),
            totals: Totals,
            sms: z.array(SmsUsageSchema).openapi({ description: "Texts per day (days with any)" }),
          }),
        },
        "text/csv": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

function rangeOf(query: { from?: string | undefined; to?: string | undefined }) {
  const to = query.to ?? isoDay(new Date());
  const from = query.from ?? isoDay(new Date(Date.parse(to) - 30 * DAY));
  const days = (Date.parse(to) - Date.parse(from)) / DAY + 1;
  if (days < 1) throw new AppError(400, "validation_failed", "`from` must not be after `to`");
  if (days > MAX_DAYS) throw new AppError(400, "validation_failed", `at most ${MAX_DAYS} days at a time`);
  return { from, to };
}

function totalsOf(rows: UsageRow[]) {
  const sum = (key: keyof z.infer<typeof Totals>) => rows.reduce((n, r) => n + r[key], 0);
  return {
    requests: sum("requests"),
    inputTokens: sum("inputTokens"),
    outputTokens: sum("outputTokens"),
    cachedTokens: sum("cachedTokens"),
    costUsd: Math.round(sum("costUsd") * 1e8) / 1e8,
  };
}

/** Model and channel names are the service's own, but quote them anyway: a comma must not shift a column. */
const csvField = (v: string | number) => (typeof v === "number" ? String(v) : `"${v.replace(/"/g, '""')}"`);

function csvOf(rows: UsageRow[]): string {
  const header = "day,model,channel,requests,input_tokens,output_tokens,cached_tokens,cost_usd";
  const lines = rows.map((r) =>
    [r.day, r.model, r.channel, r.requests, r.inputTokens, r.outputTokens, r.cachedTokens, r.costUsd]
      .map(csvField)
      .join(","),
  );
  return `${[header, ...lines].join("\n")}\n`;
}

export function usageRoutes(deps: AdminDeps) {
  const app = createRouter();
  const { sql } = deps;

  app.openapi(usageRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const query = c.req.valid("query");
    const range = rangeOf(query);
    if (query.format === "csv") {
      const rows = await inTenant(id, () => usageByDay(sql, range));
      c.header("content-type", "text/csv; charset=utf-8");
      return c.body(csvOf(rows), 200) as never;
    }
    const [rows, sms] = await inTenant(id, async () => [
      await usageByDay(sql, range),
      await smsUsageByDay(sql, range),
    ]);
    return c.json({ ...range, rows, totals: totalsOf(rows), sms }, 200);
  });

  return app;
}
