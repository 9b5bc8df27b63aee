import type { TenantSettings } from "../domain/tenant";
import type { EngineSettings } from "./conversation-engine";

type PromptVariables = NonNullable<TenantSettings["promptVariables"]>;

/** `{{businessName}}`, `{{hours}}`, `{{tone}}`, `{{escalationContact}}`: an unset variable is left out. */
export function renderPrompt(template: string, variables: PromptVariables): string {
  return template.replace(/\{\{\s*(businessName|hours|tone|escalationContact)\s*\}\}/g, (_, name: string) => {
    return variables[name as keyof PromptVariables] ?? "";
  });
}

/** What the variables add to a prompt that does not place them itself. */
function variableLines(v: PromptVariables): string[] {
  return [
    v.businessName && `You answer for ${v.businessName}.`,
    v.hours && `Opening hours: ${v.hours}.`,
    v.tone && `Tone: ${v.tone}.`,
    v.escalationContact && `If the customer needs a person, they can reach ${v.escalationContact}.`,
  ].filter((line): line is string => Boolean(line));
}

export function tenantSystemPrompt(base: string, settings: TenantSettings): string {
  const variables = settings.promptVariables ?? {};
  const template = settings.systemPrompt ?? base;
  if (/\{\{\s*\w+\s*\}\}/.test(template)) return renderPrompt(template, variables);
  return [template, ...variableLines(variables)].join(" ");
}

/**
 * The engine settings of one tenant: the deployment's (from its configuration) with the tenant's own
 * settings laid over them. A section the tenant did not set keeps the deployment's value.
 */
export function tenantEngineSettings(base: EngineSettings, settings: TenantSettings): EngineSettings {
  const limits = settings.rateLimits ?? {};
  return {
    ...base,
    systemPrompt: tenantSystemPrompt(base.systemPrompt, settings),
    routing: { ...base.routing, ...settings.routing },
    budgets: { ...base.budgets, ...settings.budgets },
    userRequestsPerMinute: limits.userRequestsPerMinute ?? base.userRequestsPerMinute,
    guests: {
      ...base.guests,
      clientRequestsPerMinute: limits.clientRequestsPerMinute ?? base.guests.clientRequestsPerMinute,
    },
    // Tenant-wide limits have no deployment default: unset, the tenant has none.
    tenant: {
      requestsPerMinute: limits.tenantRequestsPerMinute,
      dailyTokens: settings.tenantBudget?.dailyTokens,
      monthlyTokens: settings.tenantBudget?.monthlyTokens,
      warnRatio: base.budgetWarnRatio,
    },
  };
}
