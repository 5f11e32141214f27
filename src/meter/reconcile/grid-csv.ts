// The grid operator's 15-minute data, as a CSV of meter id, interval start, delivered kWh and
// returned kWh per row. The reader accepts the common variants (docs/meter.md): ',' ';' or tab
// separators, a decimal comma when the separator is not ',', an optional header row (detected:
// a first line without anything that looks like a date is a header; its column names may reorder
// the columns),
// quoted fields, and start times either as exact instants (ISO with Z or an offset) or as
// Europe/Amsterdam wall time, converted to UTC with the EU summer-time rule.
//
// Wall times in the autumn repeated hour (02:00-02:59 on the last Sunday of October) appear
// twice per meter: the first row of a meter with such a time is the summer-time (UTC+2) one, the
// second the winter-time (UTC+1) one, so files must list each meter's rows in time order; a third
// occurrence is an error. An explicit offset always decides by itself. Wall times in the spring
// gap (02:00-02:59 on the last Sunday of March) do not exist and are an error.
//
// A file is read completely or refused: every error names its line and field.

import {
  amsterdamWallToUtcCandidates,
  utcToAmsterdamWall,
  wallWithOffsetToUtcMs,
  type WallTime,
} from '../shared/amsterdam-time.js';
import {
  detectSeparator,
  parseKwhField,
  parseTimeField,
  splitCsvLine,
  type CsvSeparator,
  type DecimalMark,
} from './csv-fields.js';

export const INTERVAL_MS = 15 * 60_000;
export const GRID_ROWS_MAX_DEFAULT = 5_000_000;
const METER_ID_MAX = 64;

export interface GridRow {
  readonly meterId: string;
  /** Start of the 15-minute interval, UTC ISO: "2026-03-29T01:00:00.000Z". */
  readonly intervalStartUtc: string;
  readonly intervalStartMs: number;
  readonly deliveredWh: bigint;
  readonly returnedWh: bigint;
  /** 1-based line number in the file. */
  readonly line: number;
}

/** Which field of a row (or which part of the file) an error is about. */
export type GridCsvField =
  | 'file'
  | 'header'
  | 'row'
  | 'meterId'
  | 'intervalStart'
  | 'delivered'
  | 'returned';

export interface GridColumns {
  readonly meterId: number;
  readonly intervalStart: number;
  readonly delivered: number;
  readonly returned: number;
}

export interface GridCsvFormat {
  readonly separator: CsvSeparator;
  /** The decimal mark the values used; null when no value had decimals. */
  readonly decimalMark: DecimalMark | null;
  /** The header row's fields, or null when the file has none. */
  readonly header: readonly string[] | null;
  /** 0-based column of each field. */
  readonly columns: GridColumns;
}

export interface GridGap {
  /** The missing span [fromUtc, toUtc): from the end of one interval to the start of the next. */
  readonly fromUtc: string;
  readonly toUtc: string;
  readonly missingIntervals: number;
  readonly afterLine: number;
  readonly beforeLine: number;
}

export interface GridDuplicate {
  readonly intervalStartUtc: string;
  readonly lines: readonly number[];
}

export interface GridMisaligned {
  readonly intervalStartUtc: string;
  readonly line: number;
}

/** Quarter hours per Amsterdam calendar day: 96, or 92 / 100 on the days clocks change. */
export interface GridDayCount {
  readonly localDate: string;
  readonly intervals: number;
  readonly expectedIntervals: number;
}

export interface GridMeterCheck {
  readonly meterId: string;
  readonly rows: number;
  /** Distinct interval starts. */
  readonly intervals: number;
  readonly firstStartUtc: string;
  /** End of the last interval (its start + 15 minutes). */
  readonly endUtc: string;
  /** No gaps, no duplicates and every start on a 15-minute boundary. */
  readonly contiguous: boolean;
  readonly gaps: readonly GridGap[];
  readonly duplicates: readonly GridDuplicate[];
  readonly misaligned: readonly GridMisaligned[];
  readonly days: readonly GridDayCount[];
}

export type GridCsvParse =
  | {
      readonly ok: true;
      readonly rows: readonly GridRow[];
      readonly meters: readonly GridMeterCheck[];
      readonly format: GridCsvFormat;
    }
  | {
      readonly ok: false;
      readonly code: 'grid_csv_invalid';
      readonly message: string;
      readonly details: { readonly line: number; readonly field: GridCsvField };
    };

export interface GridCsvOptions {
  readonly rowsMax?: number;
}

class CsvReject extends Error {
  constructor(
    readonly line: number,
    readonly field: GridCsvField,
    message: string,
  ) {
    super(`line ${line}, ${field}: ${message}`);
  }
}

export function parseGridCsv(text: string, opts: GridCsvOptions = {}): GridCsvParse {
  try {
    const { rows, format } = readRows(text, opts.rowsMax ?? GRID_ROWS_MAX_DEFAULT);
    return { ok: true, rows, format, meters: checkGridIntervals(rows) };
  } catch (err) {
    if (!(err instanceof CsvReject)) throw err;
    return {
      ok: false,
      code: 'grid_csv_invalid',
      message: err.message,
      details: { line: err.line, field: err.field },
    };
  }
}

function readRows(text: string, rowsMax: number): { rows: GridRow[]; format: GridCsvFormat } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstIndex = lines.findIndex((l) => l.trim() !== '');
  if (firstIndex < 0) throw new CsvReject(1, 'file', 'the file has no rows');
  const separator = detectSeparator(lines[firstIndex] ?? '');
  const firstFields = fieldsOf(lines[firstIndex] ?? '', separator, firstIndex + 1);
  const header = firstFields.some(looksLikeDate) ? null : firstFields;
  const columns = header === null ? POSITIONAL : mapHeader(header, firstIndex + 1);
  const width = header === null ? 4 : header.length;
  const reader = new RowReader(separator, columns, width);
  const rows: GridRow[] = [];
  for (let i = header === null ? firstIndex : firstIndex + 1; i < lines.length; i++) {
    const lineText = lines[i] ?? '';
    if (lineText.trim() === '') continue;
    if (rows.length >= rowsMax) throw new CsvReject(i + 1, 'file', `more than ${rowsMax} rows`);
    rows.push(reader.read(fieldsOf(lineText, separator, i + 1), i + 1));
  }
  if (rows.length === 0)
    throw new CsvReject(firstIndex + 1, 'file', 'the file has a header but no data rows');
  return { rows, format: { separator, decimalMark: reader.decimalMark, header, columns } };
}

/** A data row always has a date; a header row has none (so a header is told apart without a flag). */
function looksLikeDate(field: string): boolean {
  return /^[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}/.test(field);
}

const POSITIONAL: GridColumns = { meterId: 0, intervalStart: 1, delivered: 2, returned: 3 };

function fieldsOf(line: string, sep: CsvSeparator, lineNo: number): string[] {
  const fields = splitCsvLine(line, sep);
  if ('error' in fields) throw new CsvReject(lineNo, 'row', fields.error);
  return fields;
}

/**
 * Header names decide the columns when all four can be told apart (English and Dutch words:
 * returned/teruglevering/export/production, delivered/afname/levering/consumption/import,
 * start/van/from/time/datum, meter/ean/id); otherwise a 4-column header is taken in the order
 * meter id, interval start, delivered, returned.
 */
function mapHeader(header: readonly string[], lineNo: number): GridColumns {
  const patterns: ReadonlyArray<[keyof GridColumns, RegExp]> = [
    ['returned', /return|teruglever|terug|export|produc|injectie|feedin|invoeding/],
    ['delivered', /deliver|afname|levering|verbruik|consum|import|offtake/],
    ['intervalStart', /start|begin|from|van|time|tijd|datum|date|interval|period/],
    ['meterId', /meter|ean|aansluiting|connection|id/],
  ];
  const found: Partial<Record<keyof GridColumns, number[]>> = {};
  header.forEach((name, index) => {
    const key = name.toLowerCase().replace(/[^a-z]/g, '');
    const match = patterns.find(([, re]) => re.test(key));
    if (match) (found[match[0]] ??= []).push(index);
  });
  const unique = (k: keyof GridColumns): number | undefined =>
    found[k]?.length === 1 ? found[k]?.[0] : undefined;
  const cols = {
    meterId: unique('meterId'),
    intervalStart: unique('intervalStart'),
    delivered: unique('delivered'),
    returned: unique('returned'),
  };
  if (
    cols.meterId !== undefined &&
    cols.intervalStart !== undefined &&
    cols.delivered !== undefined &&
    cols.returned !== undefined
  ) {
    return {
      meterId: cols.meterId,
      intervalStart: cols.intervalStart,
      delivered: cols.delivered,
      returned: cols.returned,
    };
  }
  if (header.length === 4) return POSITIONAL;
  throw new CsvReject(
    lineNo,
    'header',
    `cannot tell the meter id, interval start, delivered and returned columns apart in ${JSON.stringify(header)}`,
  );
}

/** Reads data rows in file order, tracking the decimal mark and repeated autumn wall times. */
class RowReader {
  decimalMark: DecimalMark | null = null;
  private readonly wallSeen = new Map<string, number>();

  constructor(
    private readonly sep: CsvSeparator,
    private readonly columns: GridColumns,
    private readonly width: number,
  ) {}

  read(fieldsIn: readonly string[], line: number): GridRow {
    const fields = [...fieldsIn];
    while (fields.length > this.width && fields[fields.length - 1] === '') fields.pop();
    if (fields.length !== this.width)
      throw new CsvReject(
        line,
        'row',
        `expected ${this.width} fields separated by ${JSON.stringify(this.sep)}, got ${fields.length}`,
      );
    const meterId = fields[this.columns.meterId] ?? '';
    if (meterId === '' || meterId.length > METER_ID_MAX || /[\x00-\x1f\x7f]/.test(meterId)) {
      throw new CsvReject(
        line,
        'meterId',
        `expected 1 to ${METER_ID_MAX} printable characters, got ${JSON.stringify(meterId.slice(0, 80))}`,
      );
    }
    const intervalStartMs = this.startMs(meterId, fields[this.columns.intervalStart] ?? '', line);
    const deliveredWh = this.kwh(fields[this.columns.delivered] ?? '', line, 'delivered');
    const returnedWh = this.kwh(fields[this.columns.returned] ?? '', line, 'returned');
    return {
      meterId,
      intervalStartUtc: new Date(intervalStartMs).toISOString(),
      intervalStartMs,
      deliveredWh,
      returnedWh,
      line,
    };
  }

  private kwh(text: string, line: number, field: 'delivered' | 'returned'): bigint {
    const v = parseKwhField(text, this.sep);
    if (!v.ok) throw new CsvReject(line, field, v.reason);
    if (v.mark !== null && this.decimalMark !== null && v.mark !== this.decimalMark) {
      throw new CsvReject(
        line,
        field,
        `${JSON.stringify(text)} uses "${v.mark}" as decimal mark, earlier values use "${this.decimalMark}"`,
      );
    }
    this.decimalMark ??= v.mark;
    return v.wh;
  }

  private startMs(meterId: string, text: string, line: number): number {
    const t = parseTimeField(text);
    if (!t.ok) throw new CsvReject(line, 'intervalStart', t.reason);
    if (t.offsetMin !== null) return wallWithOffsetToUtcMs(t.wall, t.offsetMin) + t.ms;
    const candidates = amsterdamWallToUtcCandidates(t.wall);
    if (candidates.length === 0) {
      throw new CsvReject(
        line,
        'intervalStart',
        `${JSON.stringify(text)} does not exist in Europe/Amsterdam (clocks jump from 02:00 to 03:00 that day)`,
      );
    }
    if (candidates.length === 1) return (candidates[0] as number) + t.ms;
    const key = `${meterId}\u0000${wallKey(t.wall)}`;
    const seen = this.wallSeen.get(key) ?? 0;
    if (seen >= candidates.length) {
      throw new CsvReject(
        line,
        'intervalStart',
        `${JSON.stringify(text)} appears a third time for meter ${meterId}; the autumn repeated hour occurs twice (give an offset such as +01:00 to be explicit)`,
      );
    }
    this.wallSeen.set(key, seen + 1);
    return (candidates[seen] as number) + t.ms;
  }
}

function wallKey(w: WallTime): string {
  return [w.year, w.month, w.day, w.hour, w.minute, w.second].join('-');
}

/** Per meter (in order of first appearance): gaps, duplicates, misaligned starts and day counts. */
export function checkGridIntervals(rows: readonly GridRow[]): GridMeterCheck[] {
  const byMeter = new Map<string, GridRow[]>();
  for (const row of rows) {
    const list = byMeter.get(row.meterId);
    if (list === undefined) byMeter.set(row.meterId, [row]);
    else list.push(row);
  }
  return [...byMeter.entries()].map(([meterId, list]) => checkMeter(meterId, list));
}

function checkMeter(meterId: string, rowsIn: readonly GridRow[]): GridMeterCheck {
  const rows = [...rowsIn].sort((a, b) => a.intervalStartMs - b.intervalStartMs || a.line - b.line);
  const gaps: GridGap[] = [];
  const duplicates: GridDuplicate[] = [];
  const misaligned = rows
    .filter((r) => r.intervalStartMs % INTERVAL_MS !== 0)
    .map((r) => ({ intervalStartUtc: r.intervalStartUtc, line: r.line }));
  const starts: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as GridRow;
    const prev = rows[i - 1];
    if (prev !== undefined && prev.intervalStartMs === row.intervalStartMs) {
      const last = duplicates[duplicates.length - 1];
      if (last !== undefined && last.intervalStartUtc === row.intervalStartUtc)
        duplicates[duplicates.length - 1] = { ...last, lines: [...last.lines, row.line] };
      else
        duplicates.push({ intervalStartUtc: row.intervalStartUtc, lines: [prev.line, row.line] });
      continue;
    }
    if (prev !== undefined && row.intervalStartMs > prev.intervalStartMs + INTERVAL_MS) {
      const fromMs = prev.intervalStartMs + INTERVAL_MS;
      gaps.push({
        fromUtc: new Date(fromMs).toISOString(),
        toUtc: row.intervalStartUtc,
        missingIntervals: Math.ceil((row.intervalStartMs - fromMs) / INTERVAL_MS),
        afterLine: prev.line,
        beforeLine: row.line,
      });
    }
    starts.push(row.intervalStartMs);
  }
  const first = rows[0] as GridRow;
  const lastStartMs = starts[starts.length - 1] ?? first.intervalStartMs;
  return {
    meterId,
    rows: rows.length,
    intervals: starts.length,
    firstStartUtc: first.intervalStartUtc,
    endUtc: new Date(lastStartMs + INTERVAL_MS).toISOString(),
    contiguous: gaps.length === 0 && duplicates.length === 0 && misaligned.length === 0,
    gaps,
    duplicates,
    misaligned,
    days: countDays(starts),
  };
}

/** Distinct interval starts per Amsterdam calendar day, with the number that day should have. */
function countDays(startsMs: readonly number[]): GridDayCount[] {
  const counts = new Map<string, number>();
  for (const ms of startsMs) {
    const w = utcToAmsterdamWall(ms);
    const date = `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
    counts.set(date, (counts.get(date) ?? 0) + 1);
  }
  return [...counts.entries()].map(([localDate, intervals]) => ({
    localDate,
    intervals,
    expectedIntervals: quarterHoursInDay(localDate),
  }));
}

/** 96 on most days, 92 on the last Sunday of March, 100 on the last Sunday of October. */
export function quarterHoursInDay(localDate: string): number {
  const [year = 0, month = 0, day = 0] = localDate.split('-').map(Number);
  const midnight = (y: number, m: number, d: number): number => {
    const next = new Date(Date.UTC(y, m - 1, d));
    const wall = {
      year: next.getUTCFullYear(),
      month: next.getUTCMonth() + 1,
      day: next.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
    };
    return amsterdamWallToUtcCandidates(wall)[0] ?? wallWithOffsetToUtcMs(wall, 60);
  };
  return (midnight(year, month, day + 1) - midnight(year, month, day)) / INTERVAL_MS;
}
