import type { z } from "@hono/zod-openapi";
import { helpReply } from "../../channels/sms/notices";
import { smsSettingsOf } from "../../channels/sms/settings";
import type { TenantSettings } from "../../domain/tenant";
import type { EngineSettings } from "../../engine/conversation-engine";
import { leadIntents } from "../../engine/extraction/leads";
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
export function effectiveSettings(base: EngineSettings, settings: TenantSettings, tenantName?: string) {
  const e = tenantEngineSettings(base, settings);
  const sms = smsSettingsOf(settings, tenantName);
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
    // helpText as HELP is answered: the default, or the tenant's own as it goes out.
    sms: {
      maxSegments: sms.maxSegments,
      helpText: helpReply(sms),
      dailyLimit: sms.dailyLimit,
      monthlyLimit: sms.monthlyLimit,
      tier: sms.tier,
    },
    // Which intents the extraction finds make a lead (issue 14).
    leads: { intents: [...leadIntents(settings)] },
  };
}
