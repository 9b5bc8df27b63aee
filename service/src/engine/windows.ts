/**
 * Fixed time windows of the request limits (per minute, per hour): every instance computes the same window
 * for the same moment, so they count into the same database row.
 */
export function fixedWindow(now: Date, windowMs: number): { start: Date; end: Date } {
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start: new Date(start), end: new Date(start + windowMs) };
}

/** Whole seconds from `now` until `when`, at least 1: a Retry-After never says "now". */
export function secondsUntil(when: Date, now: Date): number {
  return Math.max(1, Math.ceil((when.getTime() - now.getTime()) / 1000));
}
