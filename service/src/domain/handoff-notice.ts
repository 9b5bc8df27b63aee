import { type BusinessHours, isTimeZone, isWithinBusinessHours, parseWeeklyHours } from "./business-hours";
import type { TenantSettings } from "./tenant";

/**
 * What a customer handed to a person is told happens next, in words that match the support hours: one
 * wording for every channel (the SMS notice, the web chat's, an escalation's), each channel naming how the
 * person will reach the customer ("text you back here", "reply here").
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

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
 * The notice: `reach` is how the person gets back to the customer on the channel ("text you back here").
 * Without hours, no promise of when.
 */
export function handoffNoticeText(reach: string, now: Date, hours?: BusinessHours): string {
  if (!hours) return `Thanks. A person from our team will ${reach} as soon as they can.`;
  if (isWithinBusinessHours(hours, now)) return `Thanks. A person from our team will ${reach} shortly.`;
  const opening = nextOpening(hours, now);
  return opening
    ? `Thanks. Our team is away now; a person will ${reach} once we open at ${opening}.`
    : `Thanks. Our team is away now; a person will ${reach} when they are back.`;
}

/**
 * The support hours a notice speaks of: the tenant's `businessHours` over the deployment's
 * (BUSINESS_HOURS, BUSINESS_TIMEZONE). A tenant value that does not parse falls back to the deployment's,
 * so a typo in settings never makes a notice promise hours nobody keeps.
 */
export function tenantBusinessHours(
  tenantSettings: TenantSettings,
  deployment: BusinessHours,
): BusinessHours {
  const own = tenantSettings.businessHours ?? {};
  const weekly = own.spec === undefined ? undefined : parseWeeklyHours(own.spec);
  const hours = weekly && !("error" in weekly) ? weekly : deployment;
  const timeZone =
    own.timeZone !== undefined && isTimeZone(own.timeZone) ? own.timeZone : deployment.timeZone;
  return { days: hours.days, start: hours.start, end: hours.end, timeZone };
}
