// The owner's price table from a CSV file (docs/energy.md "Prices", docs/cli.md `hanzenet market
// upload-prices`): one row per time slot with its start and the supplier's supply price, and
// optionally the feed-in and local prices, for example a day-ahead price list with a markup
// already applied. Each row's prices apply to every market period of its slot (hourly rows fill
// four quarter-hour periods). The result is what MarketPrices takes: runs of consecutive periods,
// each at most 2,976 periods (one transaction), prices as exact EUR per kWh texts.
//
// A file is read completely or refused: every error names its line and column.

import { detectSeparator, splitCsvLine, type CsvSeparator } from '../core/csv.js';
import { ChainError } from '../core/errors.js';
import { formatNeur } from '../energy/market-statements.js';

/** Periods of one MarketPrices transaction (the contract's limit). */
export const PRICE_RUN_PERIODS_MAX = 2976;
/** Periods of one file: a leap year of quarter hours. */
export const PRICE_TABLE_PERIODS_MAX = 366 * 96;
const LINES_MAX = 100_000;

export type PriceUnit = 'eur-per-kwh' | 'eur-per-mwh';

export interface PriceTableOptions {
  /** The market's period length (Market), ms. */
  readonly periodMs: number;
  readonly unit: PriceUnit;
  /** For every row when the file has no feed-in column (EUR per kWh). */
  readonly feedInEur?: string;
  /** For every row when the file has no local column (EUR per kWh). */
  readonly localEur?: string;
  /** How long each row's slot is; default: the smallest step between two rows' starts. */
  readonly rowMs?: number;
}

/** Consecutive periods from `fromMs`: one MarketPrices payload without its context. */
export interface PriceRun {
  readonly fromMs: number;
  readonly localEur: string[];
  readonly supplyEur: string[];
  readonly feedInEur: string[];
}

export interface PriceTable {
  readonly rows: number;
  readonly rowMs: number;
  readonly periodMs: number;
  readonly periods: number;
  readonly runs: PriceRun[];
}

interface Row {
  readonly line: number;
  readonly startMs: number;
  readonly supply: string;
  readonly feedIn: string;
  readonly local: string;
}

const COLUMN_NAMES = {
  start: ['start', 'time', 'from', 'periodstart', 'datetime', 'timestamp'],
  supply: ['supply', 'supplyeur', 'supplyprice', 'price', 'dayaheadprice'],
  feedIn: ['feedin', 'feedineur', 'feedinprice'],
  local: ['local', 'localeur', 'localprice'],
} as const;
type Column = keyof typeof COLUMN_NAMES;

function fail(message: string, line: number | null, column: string | null): never {
  throw new ChainError('bad_request', line === null ? message : `line ${line}: ${message}`, {
    ...(line === null ? {} : { line }),
    ...(column === null ? {} : { column }),
  });
}

/** The column of each field, from the header row (names compared without case, spaces or units). */
function columnsOf(header: readonly string[]): Partial<Record<Column, number>> {
  const out: Partial<Record<Column, number>> = {};
  header.forEach((name, i) => {
    const key = name
      .toLowerCase()
      .replace(/\(.*\)|\[.*\]/g, '')
      .replace(/[^a-z]/g, '');
    for (const [column, names] of Object.entries(COLUMN_NAMES) as [Column, readonly string[]][]) {
      if (!names.includes(key)) continue;
      if (out[column] !== undefined) fail(`two columns name the ${column} (${name})`, 1, name);
      out[column] = i;
    }
  });
  if (out.start === undefined || out.supply === undefined)
    fail(
      `the header must name a start column (${COLUMN_NAMES.start.join(', ')}) and a supply price column (${COLUMN_NAMES.supply.join(', ')}); it names ${header.map((h) => JSON.stringify(h)).join(', ')}`,
      1,
      null,
    );
  return out;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?\s*(Z|[+-]\d{2}:?\d{2})$/;

/** An exact instant (ISO 8601 with Z or an offset), ms. */
function startOf(text: string, line: number): number {
  const m = INSTANT.exec(text);
  const offset = m?.[7];
  const ms =
    m === null || offset === undefined
      ? Number.NaN
      : Date.parse(
          `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${offset === 'Z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`}`,
        );
  if (Number.isNaN(ms))
    fail(
      `the start ${JSON.stringify(text)} is not an exact time: write it as ISO 8601 with its offset, such as 2026-06-01T00:00:00+02:00 or 2026-05-31T22:00:00Z`,
      line,
      'start',
    );
  return ms;
}

/** A price in the file's unit as exact EUR per kWh text ("0.2345"). */
function priceOf(
  text: string,
  unit: PriceUnit,
  sep: CsvSeparator,
  line: number,
  column: string,
): string {
  const plain = sep === ',' ? text : text.replace(',', '.');
  if (/^-/.test(plain))
    fail(
      `the ${column} price ${text} is negative; the market takes prices from 0 to 10 EUR per kWh (replace negative day-ahead prices by the price you charge)`,
      line,
      column,
    );
  const m = /^(\d+)(?:\.(\d+))?$/.exec(plain);
  const decimals = unit === 'eur-per-kwh' ? 6 : 3;
  const frac = (m?.[2] ?? '').replace(/0+$/, '');
  if (m === null || frac.length > decimals)
    fail(
      `the ${column} price ${JSON.stringify(text)} is not a decimal ${unit === 'eur-per-kwh' ? 'EUR per kWh with at most 6 decimals' : 'EUR per MWh with at most 3 decimals'}${sep === ',' ? '' : ' (a decimal comma is fine)'}`,
      line,
      column,
    );
  const whole = (m[1] as string).replace(/^0+(?=\d)/, '');
  // 10 EUR/kWh is 10,000 EUR/MWh: a longer whole part is above the maximum anyway.
  const ueur =
    whole.length > 5
      ? null
      : unit === 'eur-per-kwh'
        ? BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, '0'))
        : BigInt(whole) * 1000n + BigInt(frac.padEnd(3, '0'));
  if (ueur === null || ueur > 10_000_000n)
    fail(`the ${column} price ${text} is above 10 EUR per kWh, the market's maximum`, line, column);
  return formatNeur(ueur * 1000n);
}

function rowsOf(text: string, o: PriceTableOptions): Row[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > LINES_MAX) fail(`the file has more than ${LINES_MAX} lines`, null, null);
  const sep = detectSeparator(lines[0] ?? '');
  const split = (line: string, n: number): string[] => {
    const fields = splitCsvLine(line, sep);
    if ('error' in fields) fail(fields.error, n, null);
    return fields;
  };
  const header = split(lines[0] ?? '', 1);
  const columns = columnsOf(header);
  for (const [column, flag, value] of [
    ['feedIn', '--feed-in-eur', o.feedInEur],
    ['local', '--local-eur', o.localEur],
  ] as const) {
    if (columns[column] === undefined && value === undefined)
      fail(`the file has no ${column} column: give ${flag} for every row`, 1, null);
  }
  const fixed = (value: string | undefined, flag: string): string =>
    value === undefined ? '' : priceOf(value, 'eur-per-kwh', ',', 0, flag);
  const feedIn = fixed(o.feedInEur, '--feed-in-eur');
  const local = fixed(o.localEur, '--local-eur');
  const rows: Row[] = [];
  lines.slice(1).forEach((raw, i) => {
    const n = i + 2;
    if (raw.trim() === '') return;
    const f = split(raw, n);
    if (f.length !== header.length)
      fail(
        `the row has ${f.length} fields and the header ${header.length}${sep === ',' ? ' (a decimal comma needs ";" as the separator)' : ''}`,
        n,
        null,
      );
    const field = (column: Column): string | undefined => {
      const at = columns[column];
      return at === undefined ? undefined : (f[at] ?? '').trim();
    };
    const price = (column: Column, fallback: string): string => {
      const value = field(column);
      return value === undefined ? fallback : priceOf(value, o.unit, sep, n, column);
    };
    rows.push({
      line: n,
      startMs: startOf(field('start') ?? '', n),
      supply: price('supply', ''),
      feedIn: price('feedIn', feedIn),
      local: price('local', local),
    });
  });
  if (rows.length === 0) fail('the file has a header but no rows', null, null);
  return rows;
}

/** The slot length: given, or the smallest step between two rows; checked against the period. */
function rowLengthMs(rows: readonly Row[], o: PriceTableOptions): number {
  let rowMs = o.rowMs ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows.length && o.rowMs === undefined; i++) {
    const step = (rows[i] as Row).startMs - (rows[i - 1] as Row).startMs;
    if (step > 0 && step < rowMs) rowMs = step;
  }
  if (!Number.isFinite(rowMs)) rowMs = o.periodMs;
  if (rowMs % o.periodMs !== 0)
    fail(
      `rows are ${rowMs / 60_000} minutes apart, not a multiple of the market's ${o.periodMs / 60_000}-minute periods`,
      null,
      null,
    );
  return rowMs;
}

/** Reads a price table; throws a bad_request ChainError naming the line and column of a fault. */
export function parsePriceTable(text: string, o: PriceTableOptions): PriceTable {
  const rows = rowsOf(text, o);
  const rowMs = rowLengthMs(rows, o);
  const runs: PriceRun[] = [];
  let run: PriceRun | null = null;
  let nextMs = Number.NaN;
  let periods = 0;
  rows.forEach((r, i) => {
    if (r.startMs % o.periodMs !== 0)
      fail(
        `the start ${new Date(r.startMs).toISOString()} is not the start of a market period (periods start every ${o.periodMs / 60_000} minutes from midnight UTC)`,
        r.line,
        'start',
      );
    const previous = rows[i - 1];
    if (previous !== undefined && r.startMs < previous.startMs + rowMs)
      fail(
        `the start ${new Date(r.startMs).toISOString()} is not after the slot of line ${previous.line} (${rowMs / 60_000} minutes from ${new Date(previous.startMs).toISOString()}); rows must be in time order without overlap`,
        r.line,
        'start',
      );
    for (let ms = r.startMs; ms < r.startMs + rowMs; ms += o.periodMs) {
      if (run === null || ms !== nextMs || run.supplyEur.length === PRICE_RUN_PERIODS_MAX) {
        run = { fromMs: ms, localEur: [], supplyEur: [], feedInEur: [] };
        runs.push(run);
      }
      run.localEur.push(r.local);
      run.supplyEur.push(r.supply);
      run.feedInEur.push(r.feedIn);
      nextMs = ms + o.periodMs;
      periods++;
    }
    if (periods > PRICE_TABLE_PERIODS_MAX)
      fail(`the table covers more than ${PRICE_TABLE_PERIODS_MAX} periods`, r.line, null);
  });
  return { rows: rows.length, rowMs, periodMs: o.periodMs, periods, runs };
}
