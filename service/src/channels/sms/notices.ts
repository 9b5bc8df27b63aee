import type { BusinessHours } from "../../domain/business-hours";
import { handoffNoticeText } from "../../domain/handoff-notice";
import { fitSms } from "./format";
import { isOneGsmSegment, type SmsSettings } from "./settings";

/**
 * The texts Switchboard itself sends a customer: the handoff notice, the quota notice and the HELP reply.
 * Each names the business when it fits and stays one GSM-7 segment (one billed message).
 */

/** "Acme: <text>" when that still fits one GSM-7 segment, else the text alone. */
function signed(s: SmsSettings, text: string): string {
  const withName = s.businessName ? `${s.businessName.trim()}: ${text}` : undefined;
  return withName && isOneGsmSegment(withName) ? withName : text;
}

/**
 * What the customer is told when the conversation goes to a person: that a person will text back here,
 * and when, in words that match the support hours. Without hours, no promise of when.
 */
export function handoffNotice(s: SmsSettings, now: Date, hours?: BusinessHours): string {
  return signed(s, handoffNoticeText("text you back here", now, hours));
}

/**
 * The one notice a customer gets when the tenant's SMS quota is spent. `period` names the limit reached;
 * unset, it is read from the settings when only one limit is set.
 */
export function quotaNotice(s: SmsSettings, period?: "day" | "month"): string {
  const which =
    period ??
    (s.dailyLimit !== null && s.monthlyLimit === null ? "day" : undefined) ??
    (s.monthlyLimit !== null && s.dailyLimit === null ? "month" : undefined);
  if (which === "day") return signed(s, "We can't answer more texts today. We'll reply again tomorrow.");
  if (which === "month")
    return signed(s, "We can't answer more texts this month. We'll reply again next month.");
  return signed(s, "We can't answer more texts for now. Please try again later.");
}

/**
 * The answer to HELP or INFO: the tenant's help text as plain SMS. The default is one segment; a tenant's
 * own (up to 300 characters) is kept whole when GSM-7 (2 segments hold 306) and cut to 2 segments otherwise.
 */
export const HELP_MAX_SEGMENTS = 2;

export function helpReply(s: SmsSettings): string {
  return fitSms(s.helpText, HELP_MAX_SEGMENTS);
}
