// Wall-clock time in Europe/Amsterdam (also Brussels: the same rules), computed from the EU
// summer-time rule instead of the platform's time-zone database, so results do not depend on the
// ICU data Node was built with. Summer time (UTC+2) runs from the last Sunday of March, 01:00 UTC,
// to the last Sunday of October, 01:00 UTC; the rest of the year is winter time (UTC+1). The rule
// holds from 1996 on; earlier dates are computed with it too (no meter data predates it).

const MINUTE_MS = 60_000;
export const WINTER_OFFSET_MIN = 60;
export const SUMMER_OFFSET_MIN = 120;

/** A wall-clock time: month 1..12, day 1..31, hour 0..23. */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** True when the fields name a real calendar date and time of day (no leap seconds). */
export function isValidWallTime(t: WallTime): boolean {
  const ints = [t.year, t.month, t.day, t.hour, t.minute, t.second].every(Number.isSafeInteger);
  if (!ints || t.year < 1970 || t.year > 9999 || t.month < 1 || t.month > 12) return false;
  const daysInMonth = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
  return (
    t.day >= 1 &&
    t.day <= daysInMonth &&
    t.hour <= 23 &&
    t.minute <= 59 &&
    t.second <= 59 &&
    Math.min(t.hour, t.minute, t.second) >= 0
  );
}

function lastSundayAt0100Utc(year: number, monthIndex: number): number {
  const lastDay = new Date(Date.UTC(year, monthIndex + 1, 0));
  const day = lastDay.getUTCDate() - lastDay.getUTCDay();
  return Date.UTC(year, monthIndex, day, 1, 0, 0);
}

/** Summer time starts and ends (UTC ms) in `year`. */
export function summerTimeBoundsMs(year: number): { startMs: number; endMs: number } {
  return { startMs: lastSundayAt0100Utc(year, 2), endMs: lastSundayAt0100Utc(year, 9) };
}

/** The UTC offset of Amsterdam wall time at the instant `utcMs`: 60 or 120 minutes. */
export function amsterdamOffsetMinutes(utcMs: number): number {
  const { startMs, endMs } = summerTimeBoundsMs(new Date(utcMs).getUTCFullYear());
  return utcMs >= startMs && utcMs < endMs ? SUMMER_OFFSET_MIN : WINTER_OFFSET_MIN;
}

/** The wall-clock fields as if they were UTC (the "local epoch" of the wall time). */
export function wallAsUtcMs(t: WallTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** UTC instant of a wall time read with an explicit offset (minutes east of UTC). */
export function wallWithOffsetToUtcMs(t: WallTime, offsetMin: number): number {
  return wallAsUtcMs(t) - offsetMin * MINUTE_MS;
}

/**
 * Every UTC instant at which Amsterdam clocks showed `t`, earliest first: one for most times,
 * none in the spring gap (02:00..02:59 on the last Sunday of March), two in the autumn repeat
 * (02:00..02:59 on the last Sunday of October: first in summer time, then in winter time).
 */
export function amsterdamWallToUtcCandidates(t: WallTime): number[] {
  const local = wallAsUtcMs(t);
  return [SUMMER_OFFSET_MIN, WINTER_OFFSET_MIN]
    .map((offset) => ({ offset, utcMs: local - offset * MINUTE_MS }))
    .filter((c) => amsterdamOffsetMinutes(c.utcMs) === c.offset)
    .map((c) => c.utcMs);
}

/** Amsterdam wall time at `utcMs`, with whether summer time applies. */
export function utcToAmsterdamWall(utcMs: number): WallTime & { readonly summer: boolean } {
  const offset = amsterdamOffsetMinutes(utcMs);
  const d = new Date(utcMs + offset * MINUTE_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    summer: offset === SUMMER_OFFSET_MIN,
  };
}
