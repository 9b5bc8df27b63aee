import type { z } from "@hono/zod-openapi";
import type { TenantSettings } from "../../domain/tenant";
import type { EngineSettings } from "../../engine/conversation-engine";
import { tenantEngineSettings } from "../../engine/tenant-settings";
import { AppError } from "../../http/errors";

/** 400 `invalid_settings` with zod's issues (path and message of each) in `details`. */
export function invalidSettings(error: z.ZodError): AppError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  return new AppError(
    400,
    "invalid_settings",
    `Invalid settings: ${issues.map((i) => `${i.path || "(root)"} ${i.message}`).join("; ")}`,
    { details: { issues } },
  );
}

/**
 * What the engine will use for this tenant: its settings laid over the deployment's, the system prompt
 * rendered. Shown beside the stored settings so a person editing them sees what an unset key falls back to.
 */
export function effectiveSettings(base: EngineSettings, settings: TenantSettings) {
  const e = tenantEngineSettings(base, settings);
  return {
    systemPrompt: e.systemPrompt,
    routing: {
      defaultModel: e.routing.defaultModel,
      escalationModel: e.routing.escalationModel,
      escalatePatterns: [...e.routing.escalatePatterns],
      turnThreshold: e.routing.turnThreshold,
    },
    budgets: e.budgets,
    rateLimits: {
      userRequestsPerMinute: e.userRequestsPerMinute,
      clientRequestsPerMinute: e.guests.clientRequestsPerMinute,
    },
  };
}
