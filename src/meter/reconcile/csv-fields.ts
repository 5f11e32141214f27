// Field-level reading for the grid operator's CSV: splitting a line into fields (src/core/csv.ts),
// kWh values (decimal point or comma) as exact Wh, and interval start times (ISO with
// an offset, or Europe/Amsterdam wall time).

import { ENERGY_WH_MAX } from '../../core/amount.js';
import { isValidWallTime, type WallTime } from '../shared/amsterdam-time.js';
import { scaleDecimal } from '../shared/decimal.js';
import type { CsvSeparator } from '../../core/csv.js';

export { detectSeparator, splitCsvLine, type CsvSeparator } from '../../core/csv.js';

export type DecimalMark = '.' | ',';

export type KwhField =
  | { ok: true; wh: bigint; mark: DecimalMark | null }
  | { ok: false; reason: string };

/**
 * kWh text as exact Wh. The decimal mark is '.' or ',' (',' only when the separator is not ',');
 * no thousands separators, no sign, at most 3 significant decimals (1 Wh): more is refused.
 */
export function parseKwhField(text: string, sep: CsvSeparator): KwhField {
  const m = /^([0-9]+)(?:([.,])([0-9]+))?$/.exec(text);
  if (!m)
    return {
      ok: false,
      reason: `expected kWh like "0.125"${sep === ',' ? '' : ' or "0,125"'}, got ${JSON.stringify(text)}`,
    };
  const mark = (m[2] ?? null) as DecimalMark | null;
  if (mark === ',' && sep === ',')
    return {
      ok: false,
      reason: `a decimal comma cannot be used in a file separated by ',' (got ${JSON.stringify(text)})`,
    };
  const wh = scaleDecimal(`${m[1]}${m[3] === undefined ? '' : `.${m[3]}`}`, 3);
  if (wh === null)
    return {
      ok: false,
      reason: `${JSON.stringify(text)} kWh is more precise than 1 Wh (at most 3 decimals; values are never rounded)`,
    };
  if (wh > ENERGY_WH_MAX)
    return { ok: false, reason: `${JSON.stringify(text)} kWh is above the limit` };
  return { ok: true, wh, mark };
}

/** A start time as written: its wall-clock fields and, when given, its UTC offset in minutes. */
export type TimeField =
  | { ok: true; wall: WallTime; ms: number; offsetMin: number | null }
  | { ok: false; reason: string };

const ISO_LIKE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$/;
const DAY_FIRST =
  /^([0-9]{2})[-/]([0-9]{2})[-/]([0-9]{4})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$/;
const OFFSET_MIN_MAX = 14 * 60;

/**
 * "2026-03-29T01:00:00Z", "2026-03-29 03:00+02:00" (with an offset: an exact instant), or wall
 * time without an offset: "2026-03-29 03:00", "2026-03-29T03:00:00", "29-03-2026 03:00",
 * "29/03/2026 03:00" (day first, as Dutch exports write it).
 */
export function parseTimeField(text: string): TimeField {
  const iso = ISO_LIKE.exec(text);
  const dayFirst = iso ? null : DAY_FIRST.exec(text);
  if (!iso && !dayFirst) {
    return {
      ok: false,
      reason: `expected a time like "2026-03-29T01:00:00Z", "2026-03-29 03:00+02:00", "2026-03-29 03:00" or "29-03-2026 03:00", got ${JSON.stringify(text)}`,
    };
  }
  const n = (s: string | undefined): number => Number(s ?? '0');
  const wall: WallTime = iso
    ? {
        year: n(iso[1]),
        month: n(iso[2]),
        day: n(iso[3]),
        hour: n(iso[4]),
        minute: n(iso[5]),
        second: n(iso[6]),
      }
    : {
        year: n(dayFirst?.[3]),
        month: n(dayFirst?.[2]),
        day: n(dayFirst?.[1]),
        hour: n(dayFirst?.[4]),
        minute: n(dayFirst?.[5]),
        second: n(dayFirst?.[6]),
      };
  if (!isValidWallTime(wall))
    return { ok: false, reason: `${JSON.stringify(text)} is not a possible date and time` };
  const ms = iso ? Number((iso[7] ?? '').padEnd(3, '0')) : 0;
  const offsetText = iso?.[8];
  if (offsetText === undefined) return { ok: true, wall, ms, offsetMin: null };
  if (offsetText === 'Z') return { ok: true, wall, ms, offsetMin: 0 };
  const digits = offsetText.slice(1).replace(':', '');
  const offsetMin =
    (offsetText[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  if (Math.abs(offsetMin) > OFFSET_MIN_MAX || Number(digits.slice(2)) > 59)
    return { ok: false, reason: `${JSON.stringify(text)} has an impossible UTC offset` };
  return { ok: true, wall, ms, offsetMin };
}
