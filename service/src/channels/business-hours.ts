/** Support hours, e.g. `Mon-Fri 09:00-17:00` in `Europe/Berlin`: which handoff message the customer gets. */
export interface BusinessHours {
  days: Set<number>;
  /** Minutes after midnight, local time. */
  start: number;
  end: number;
  timeZone: string;
}

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export function parseBusinessHours(spec: string, timeZone: string): BusinessHours {
  const match =
    /^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(spec);
  if (!match) throw new Error(`"${spec}" is not like "Mon-Fri 09:00-17:00"`);
  const [, from = "", to, sh = "0", sm = "0", eh = "0", em = "0"] = match;
  const first = DAYS.indexOf(from.toLowerCase());
  const last = DAYS.indexOf((to ?? from).toLowerCase());
  if (first < 0 || last < 0) throw new Error(`unknown day in "${spec}"`);
  const days = new Set<number>();
  for (let d = first; ; d = (d + 1) % 7) {
    days.add(d);
    if (d === last) break;
  }
  // Throws for an unknown time zone, so a typo fails at start-up rather than at the first handoff.
  new Intl.DateTimeFormat("en-US", { timeZone });
  return { days, start: Number(sh) * 60 + Number(sm), end: Number(eh) * 60 + Number(em), timeZone };
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
