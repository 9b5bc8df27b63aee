/** Support hours, e.g. `Mon-Fri 09:00-17:00` in `Europe/Berlin`: which handoff message the customer gets. */
export interface WeeklyHours {
  /** 0 = Sunday … 6 = Saturday. */
  days: Set<number>;
  /** Minutes after midnight, local time; `end` is exclusive and at most 24:00. */
  start: number;
  end: number;
}

export interface BusinessHours extends WeeklyHours {
  /** An IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const SPEC = /^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/;

/** `Mon-Fri 09:00-17:00` (or one day, `Sat 10:00-14:00`; a range may wrap, `Fri-Mon`), or why it is not. */
export function parseWeeklyHours(spec: string): WeeklyHours | { error: string } {
  const match = SPEC.exec(spec);
  if (!match) return { error: 'must be like "Mon-Fri 09:00-17:00"' };
  const [, from = "", to, sh = "0", sm = "0", eh = "0", em = "0"] = match;
  const first = DAYS.indexOf(from.toLowerCase());
  const last = DAYS.indexOf((to ?? from).toLowerCase());
  if (first < 0 || last < 0) return { error: "has an unknown day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)" };
  const start = minutesOf(sh, sm);
  const end = minutesOf(eh, em);
  if (start === undefined || end === undefined)
    return { error: "has a time that is not between 00:00 and 24:00" };
  if (start >= end) return { error: "must end after it starts on the same day" };
  const days = new Set<number>();
  for (let d = first; ; d = (d + 1) % 7) {
    days.add(d);
    if (d === last) break;
  }
  return { days, start, end };
}

function minutesOf(hours: string, minutes: string): number | undefined {
  const total = Number(hours) * 60 + Number(minutes);
  return Number(minutes) < 60 && total <= 24 * 60 ? total : undefined;
}

/** Whether `zone` is a time zone this runtime knows (an IANA name like `Europe/Berlin`, or `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function isWithinBusinessHours(hours: BusinessHours, at: Date): boolean {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: hours.timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = DAYS.indexOf(get("weekday").toLowerCase());
  const minutes = Number(get("hour")) * 60 + Number(get("minute"));
  return hours.days.has(day) && minutes >= hours.start && minutes < hours.end;
}
