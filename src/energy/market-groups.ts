// Grouping market periods into calendar days and months of a time zone (docs/api.md "Market
// statements" and "Market figures"). Periods are named by their start, a UTC instant; a day or a
// month is a calendar one in the zone, so in Europe/Amsterdam the day of the spring change (29
// March 2026) holds 23 hours, 92 quarter hours, and the day of the autumn change (25 October
// 2026) 25 hours, 100 quarter hours. The boundaries are computed here with Intl (the zone data of
// Node's ICU), not by the database: the store groups by the index of the boundary below each
// period start (width_bucket), so the two never disagree about a zone's rules.

import { ChainError } from '../core/errors.js';
import { parseIntegerParam } from './query-params.js';

export type GroupKind = 'period' | 'day' | 'month';
export const GROUP_KINDS: readonly GroupKind[] = ['period', 'day', 'month'];

/** Most groups (or grouped rows) in one answer, and the default. */
export const GROUPS_LIMIT_MAX = 10_000;

/** Periods starting at or after fromMs and before toMs, grouped; at most `limit` groups listed. */
export interface GroupQuery {
  readonly group: GroupKind;
  /** The canonical IANA name (`UTC` when none was given). */
  readonly tz: string;
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit: number;
}

/** One calendar day or month: `label` is `2026-03-29` or `2026-03`; endMs is exclusive. */
export interface CalendarGroup {
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

const HOUR_MS = 3_600_000;
const TZ_TEXT = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function badRequest(field: string, message: string, details: Record<string, unknown> = {}) {
  return new ChainError('bad_request', message, { field, ...details });
}

/** An IANA time zone name (`Europe/Amsterdam`, `UTC`), as its canonical name. */
export function parseTimeZone(value: unknown, field = 'tz'): string {
  const text = typeof value === 'string' ? value : '';
  let canonical: string | undefined;
  if (TZ_TEXT.test(text)) {
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
    } catch {
      canonical = undefined; // RangeError: not a zone that this Node's ICU knows
    }
  }
  if (canonical === undefined) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
    throw badRequest(
      field,
      `${field} must be an IANA time zone name such as Europe/Amsterdam or UTC, got ${shown}`,
    );
  }
  return canonical;
}

/** `period` (the default), `day` or `month`. */
export function parseGroupKind(value: unknown, field = 'group'): GroupKind {
  const kind = GROUP_KINDS.find((k) => k === value);
  if (kind === undefined) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
    throw badRequest(field, `${field} must be period, day or month, got ${shown}`, {
      allowed: [...GROUP_KINDS],
    });
  }
  return kind;
}

/** The query of `?from=&to=&group=&tz=&limit=` (times in ms since the Unix epoch). */
export function parseGroupQuery(params: Readonly<Record<string, string>>): GroupQuery {
  const group = params['group'] === undefined ? 'period' : parseGroupKind(params['group']);
  const tz = params['tz'] === undefined ? 'UTC' : parseTimeZone(params['tz']);
  const limit =
    params['limit'] === undefined
      ? GROUPS_LIMIT_MAX
      : parseIntegerParam(params['limit'], 'limit', 1, GROUPS_LIMIT_MAX);
  const out: { group: GroupKind; tz: string; fromMs?: number; toMs?: number; limit: number } = {
    group,
    tz,
    limit,
  };
  if (params['from'] !== undefined)
    out.fromMs = parseIntegerParam(params['from'], 'from', 0, Number.MAX_SAFE_INTEGER);
  if (params['to'] !== undefined)
    out.toMs = parseIntegerParam(params['to'], 'to', 0, Number.MAX_SAFE_INTEGER);
  if (out.fromMs !== undefined && out.toMs !== undefined && out.toMs <= out.fromMs) {
    throw badRequest('to', `to (${out.toMs}) must be after from (${out.fromMs})`);
  }
  return out;
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall clock time in `tz` at the instant `ms`, written as if it were UTC (ms). */
export function wallClockMs(ms: number, tz: string): number {
  const part: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(ms)) {
    if (p.type !== 'literal') part[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    part['year'] ?? 0,
    (part['month'] ?? 1) - 1,
    part['day'] ?? 1,
    part['hour'] ?? 0,
    part['minute'] ?? 0,
    part['second'] ?? 0,
  );
  return wall + (((ms % 1000) + 1000) % 1000);
}

/**
 * The first instant whose wall clock in `tz` reads `wallMs` (a local midnight written as UTC).
 * The offsets in force 14 hours either side are the candidates (no zone is further from UTC); a
 * midnight that a change skips (spring forward at midnight) starts its day at the change itself.
 */
export function instantOfWallClock(wallMs: number, tz: string): number {
  const offsets = new Set([
    wallClockMs(wallMs - 14 * HOUR_MS, tz) - (wallMs - 14 * HOUR_MS),
    wallClockMs(wallMs + 14 * HOUR_MS, tz) - (wallMs + 14 * HOUR_MS),
  ]);
  const exact = [...offsets]
    .map((offsetMs) => wallMs - offsetMs)
    .filter((t) => wallClockMs(t, tz) === wallMs)
    .sort((a, b) => a - b);
  if (exact[0] !== undefined) return exact[0];
  // In a gap: the first instant whose wall clock is at or past wallMs.
  let lo = wallMs - 14 * HOUR_MS;
  let hi = wallMs + 14 * HOUR_MS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClockMs(mid, tz) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The calendar day or month with the `index`-th day or month after 1970-01 (a UTC wall date). */
function groupAt(
  kind: 'day' | 'month',
  index: number,
  tz: string,
  knownStartMs?: number,
): CalendarGroup {
  const startWall = kind === 'day' ? index * 86_400_000 : Date.UTC(1970, index, 1);
  const endWall = kind === 'day' ? (index + 1) * 86_400_000 : Date.UTC(1970, index + 1, 1);
  const wall = new Date(startWall);
  const ymd = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1, 2)}-${pad(wall.getUTCDate(), 2)}`;
  return {
    label: kind === 'day' ? ymd : ymd.slice(0, 7),
    startMs: knownStartMs ?? instantOfWallClock(startWall, tz),
    endMs: instantOfWallClock(endWall, tz),
  };
}

/** The index (days or months since 1970-01) of the wall date of the instant `ms` in `tz`. */
function groupIndexOf(kind: 'day' | 'month', ms: number, tz: string): number {
  const wall = new Date(wallClockMs(ms, tz));
  return kind === 'day'
    ? Math.floor(wall.getTime() / 86_400_000)
    : (wall.getUTCFullYear() - 1970) * 12 + wall.getUTCMonth();
}

/**
 * The calendar day or month of `tz` that holds the instant `ms`. A day runs from the first instant
 * of its date to the first instant of the next date (so an hour that a change at midnight repeats
 * belongs to the later day).
 */
export function calendarGroupOf(kind: 'day' | 'month', ms: number, tz: string): CalendarGroup {
  let index = groupIndexOf(kind, ms, tz);
  let g = groupAt(kind, index, tz);
  while (g.endMs <= ms) g = groupAt(kind, ++index, tz);
  while (g.startMs > ms) g = groupAt(kind, --index, tz);
  return g;
}

/**
 * The calendar groups from the one holding `firstMs` through the one holding `lastMs`, at most
 * `count` of them, consecutive. Bounded work: `count` groups, a few Intl calls each.
 */
export function calendarGroups(
  kind: 'day' | 'month',
  firstMs: number,
  lastMs: number,
  tz: string,
  count: number,
): CalendarGroup[] {
  const first = calendarGroupOf(kind, firstMs, tz);
  const out: CalendarGroup[] = [first];
  let index = groupIndexOf(kind, first.startMs, tz);
  let last = first;
  while (out.length < count && last.endMs <= lastMs) {
    last = groupAt(kind, ++index, tz, last.endMs);
    out.push(last);
  }
  return out;
}
