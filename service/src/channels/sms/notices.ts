import { type BusinessHours, isWithinBusinessHours } from "../../domain/business-hours";
import { fitSms } from "./format";
import { isOneGsmSegment, type SmsSettings } from "./settings";

/**
 * The texts Switchboard itself sends a customer: the handoff notice, the quota notice and the HELP reply.
 * Each names the business when it fits and stays one GSM-7 segment (one billed message).
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** "Acme: <text>" when that still fits one GSM-7 segment, else the text alone. */
function signed(s: SmsSettings, text: string): string {
  const withName = s.businessName ? `${s.businessName.trim()}: ${text}` : undefined;
  return withName && isOneGsmSegment(withName) ? withName : text;
}

/** The weekday (0 = Sunday) and minutes after midnight at `at` in the hours' time zone. */
function localClock(at: Date, timeZone: string): { day: number; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "long",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return { day: DAYS.indexOf(get("weekday")), minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

/** The time zone as customers read it ("EST", "GMT+1", "UTC"). */
function zoneName(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(at);
  return parts.find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

const clock = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** When support next opens, in words: "09:00 EST today", "… tomorrow", "… on Monday". */
export function nextOpening(hours: BusinessHours, now: Date): string | undefined {
  const { day, minutes } = localClock(now, hours.timeZone);
  const at = `${clock(hours.start)} ${zoneName(now, hours.timeZone)}`;
  if (hours.days.has(day) && minutes < hours.start) return `${at} today`;
  for (let ahead = 1; ahead <= 7; ahead++) {
    const next = (day + ahead) % 7;
    if (hours.days.has(next)) return ahead === 1 ? `${at} tomorrow` : `${at} on ${DAYS[next]}`;
  }
  return undefined;
}

/**
 * What the customer is told when the conversation goes to a person: that a person will text back here,
 * and when, in words that match the support hours. Without hours, no promise of when.
 */
export function handoffNotice(s: SmsSettings, now: Date, hours?: BusinessHours): string {
  if (!hours) return signed(s, "Thanks. A person from our team will text you back here as soon as they can.");
  if (isWithinBusinessHours(hours, now)) {
    return signed(s, "Thanks. A person from our team will text you back here shortly.");
  }
  const opening = nextOpening(hours, now);
  return signed(
    s,
    opening
      ? `Thanks. Our team is away now; a person will text you back here once we open at ${opening}.`
      : "Thanks. Our team is away now; a person will text you back here when they are back.",
  );
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
