import { type BusinessHours, isWithinBusinessHours } from "../../domain/business-hours";
import type { TenantSettings } from "../../domain/tenant";

/**
 * The `dynamic_variables` a tenant's Telnyx assistant gets when a call starts: what the business is, and
 * what it knows of the caller. Every value is a string (Telnyx substitutes `{{name}}` in the assistant's
 * instructions and greeting); one that is unknown is an empty string, so a prompt can test for it.
 */
export type DynamicVariables = Record<string, string>;

/** The per-tenant part, computed once and kept in memory (it changes only with the tenant's settings). */
export interface TenantVoiceBlock {
  businessName: string;
  hours: string;
  greeting: string;
  escalationContact: string;
  /** The support hours the open/closed flag is computed from, at each call. */
  businessHours: BusinessHours;
}

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** `Mon, Tue, Wed 09:00-17:00 (Europe/Berlin)`: the hours as a person says them. */
export function describeHours(hours: BusinessHours): string {
  const days = [1, 2, 3, 4, 5, 6, 0].filter((d) => hours.days.has(d)).map((d) => DAY_NAMES[d]);
  return `${days.join(", ")} ${hhmm(hours.start)}-${hhmm(hours.end)} (${hours.timeZone})`;
}

/**
 * The block of one tenant: its business name (its prompt variable, else the tenant's display name), the
 * hours as written in its prompt variables (else its support hours), the widget's greeting (else a plain
 * one naming the business), and whom a person can reach.
 */
export function tenantVoiceBlock(
  tenant: { name: string; settings: TenantSettings },
  businessHours: BusinessHours,
): TenantVoiceBlock {
  const vars = tenant.settings.promptVariables ?? {};
  const businessName = vars.businessName ?? tenant.name;
  return {
    businessName,
    hours: vars.hours ?? describeHours(businessHours),
    greeting:
      tenant.settings.widget?.greeting ?? `Thank you for calling ${businessName}. How can I help you today?`,
    escalationContact: vars.escalationContact ?? "",
    businessHours,
  };
}

export interface CallerFacts {
  name: string | null;
  openEscalations: number;
  lastSummary: string | null;
}

const GENERIC_GREETING = "Hello, thank you for calling. How can I help you today?";

/**
 * What Telnyx gets: the tenant's block (or nothing of a tenant: an unknown number, a failure), and the
 * caller's facts when they could be read in time.
 */
export function dynamicVariables(
  block: TenantVoiceBlock | undefined,
  caller: CallerFacts | undefined,
  now: Date,
  callerVerified = false,
): DynamicVariables {
  return {
    business_name: block?.businessName ?? "",
    hours: block?.hours ?? "",
    greeting: block?.greeting ?? GENERIC_GREETING,
    escalation_contact: block?.escalationContact ?? "",
    business_open_now: block ? String(isWithinBusinessHours(block.businessHours, now)) : "",
    caller_known: String(Boolean(caller?.name || caller?.lastSummary)),
    caller_verified: String(callerVerified),
    caller_name: caller?.name ?? "",
    caller_open_escalations: String(caller?.openEscalations ?? 0),
    last_conversation_summary: caller?.lastSummary ?? "",
  };
}
