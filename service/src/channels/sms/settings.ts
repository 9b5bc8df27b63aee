import type { Tier } from "../../domain/identity";
import type { TenantSettings } from "../../domain/tenant";
import { plainPunctuation } from "./format";
import { countSegments } from "./segments";

/** A tenant's SMS settings with the defaults filled in (the tenant settings' `sms` block). */
export interface SmsSettings {
  /** The most segments a reply may cost; longer replies are cut (format.ts). */
  maxSegments: number;
  /** What HELP and INFO are answered with. */
  helpText: string;
  /** Replies a tenant may send a day / a month (UTC); null: no limit. */
  dailyLimit: number | null;
  monthlyLimit: number | null;
  /** The budget tier of the customers who text the tenant (per-identity token budgets). */
  tier: Tier;
  /** The name customers know the business by, when the tenant gave one: notices start with it. */
  businessName?: string | undefined;
}

export const SMS_DEFAULTS = { maxSegments: 3, tier: "free" } as const satisfies Partial<SmsSettings>;

/** Opt-out instructions and the rates notice carriers expect in a HELP reply (CTIA). */
const HELP_TAIL = "Reply STOP to opt out. Msg&data rates may apply.";

/** Whether a text goes as one GSM-7 segment through either provider. */
export const isOneGsmSegment = (text: string) => {
  const c = countSegments(text, "portable");
  return c.encoding === "GSM-7" && c.segments === 1;
};

/**
 * The help text when the tenant set none: who is texting, where to get help, how to opt out, in one GSM-7
 * segment. Each variant that does not fit gives way to a shorter one.
 */
export function defaultHelpText(name: string | undefined, contact: string | undefined): string {
  const n = name && plainPunctuation(name).trim();
  const c = contact && plainPunctuation(contact).trim();
  const candidates = [
    n && c ? `${n}: for help, contact ${c}. ${HELP_TAIL}` : "",
    n ? `${n}: text us your question and we'll answer here. ${HELP_TAIL}` : "",
    n ? `${n}: ${HELP_TAIL}` : "",
  ];
  return candidates.find((t) => t !== "" && isOneGsmSegment(t)) ?? HELP_TAIL;
}

/**
 * A tenant's SMS settings over the defaults. The help text names the business by its prompt variable
 * `businessName`, else `tenantName` (the tenant's display name), and gives its `escalationContact`.
 */
export function smsSettingsOf(tenantSettings: TenantSettings, tenantName?: string): SmsSettings {
  const sms = tenantSettings.sms ?? {};
  const vars = tenantSettings.promptVariables ?? {};
  const businessName = vars.businessName ?? tenantName;
  return {
    maxSegments: sms.maxSegments ?? SMS_DEFAULTS.maxSegments,
    helpText: sms.helpText ?? defaultHelpText(businessName, vars.escalationContact),
    dailyLimit: sms.dailyLimit ?? null,
    monthlyLimit: sms.monthlyLimit ?? null,
    tier: sms.tier ?? SMS_DEFAULTS.tier,
    businessName,
  };
}

/** The support hours a handoff notice speaks of (domain/handoff-notice.ts: one rule for every channel). */
export { tenantBusinessHours as smsBusinessHours } from "../../domain/handoff-notice";
