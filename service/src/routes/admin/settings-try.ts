import { createRoute, z } from "@hono/zod-openapi";
import { countRequest } from "../../db/rate-limits";
import { inTenant } from "../../db/tenant-scope";
import { applySettingsPatch } from "../../domain/tenant";
import type { SettingsTrials } from "../../engine/settings-trial";
import { AppError } from "../../http/errors";
import { createRouter } from "../../http/router";
import { recordAction, requireTenantRole } from "./access";
import type { AdminDeps } from "./deps";
import { errorResponses, jsonBody, jsonContent, TenantParams } from "./schemas";
import { invalidSettings } from "./settings-view";

/** "Try it" turns a person may run a minute: each spends model tokens. */
export const TRIALS_PER_MINUTE = 20;

const TryRequest = z
  .object({
    settings: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({ description: "A settings patch (as PATCH …/settings takes) laid over the saved settings" }),
    message: z.string().trim().min(1).max(4000),
  })
  .openapi("SettingsTryRequest", {
    example: { settings: { promptVariables: { businessName: "Acme" } }, message: "When are you open?" },
  });

const TryResponse = z
  .object({
    reply: z.string(),
    model: z.string(),
    outcome: z.enum(["answered", "fallback"]),
    confident: z.boolean(),
    systemPrompt: z.string().openapi({ description: "The system prompt the draft settings make" }),
    sources: z.array(z.string()).openapi({ description: "Knowledge documents matching the message" }),
  })
  .openapi("SettingsTryResult");

const tryRouteDef = createRoute({
  method: "post",
  path: "/api/v1/admin/tenants/{id}/settings/try",
  summary:
    "Run one turn on draft settings without saving them or the conversation (accounted as usage purpose `try`)",
  request: { params: TenantParams, ...jsonBody(TryRequest) },
  responses: {
    200: jsonContent("The reply a customer would get", TryResponse),
    ...errorResponses(400, 401, 403, 404, 429),
  },
});

export function settingsTryRoutes(deps: AdminDeps, trials: SettingsTrials) {
  const app = createRouter();
  const { sql } = deps;
  app.openapi(tryRouteDef, async (c) => {
    const { id } = c.req.valid("param");
    const { tenant, acting } = await requireTenantRole(c, sql, id, ["tenant_admin"]);
    const { settings: patch, message } = c.req.valid("json");
    const draft = applySettingsPatch(tenant.settings, patch);
    if (!draft.success) throw invalidSettings(draft.error);
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const allowed = await inTenant(id, () =>
      countRequest(sql, `try:${acting.actor}`, minute, TRIALS_PER_MINUTE),
    );
    if (!allowed) {
      c.header("retry-after", String(60 - new Date().getUTCSeconds()));
      throw new AppError(429, "rate_limited", `At most ${TRIALS_PER_MINUTE} tries a minute`);
    }
    const answer = await trials.trial(tenant, draft.data, { message, actor: acting.actor });
    // The audit says that someone tried which sections, never the texts (they may be customers' words).
    await inTenant(id, () =>
      recordAction(c, sql, acting, {
        action: "settings.tried",
        target: id,
        summary: { draft: Object.keys(patch), outcome: answer.outcome, model: answer.model },
      }),
    );
    return c.json(answer, 200);
  });
  return app;
}
