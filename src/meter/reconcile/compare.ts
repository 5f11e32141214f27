// Reconciliation (thesis 4.1.2; docs/meter.md, "Reconciliation"): the grid operator's 15-minute
// data against what each household's meter keys recorded on chain. Pure functions: the chain's
// readings are attributed to 15-minute intervals, compared per meter and interval with the CSV
// rows, and every difference is billed at the external price. I/O is in run.ts.
//
// Attribution: an Energy call with a meter reading booked the register's advance between
// `sinceMs` (or, without it, the device's previous reading) and `readingMs`. When that span lies
// inside one interval (the gateway cuts a reading at every boundary, so with telegrams on the
// boundary it always does), the energy belongs to that interval exactly. A span across boundaries
// (the meter was silent, or its telegrams are not on the boundaries) is split in proportion to
// time, in whole Wh by largest remainder, and the intervals are marked `estimated`. An Energy call
// without a reading is put in the interval of its block's time, also `estimated`.

import { csvField } from '../../core/csv.js';
import { formatWh } from '../../core/amount.js';
import type { ChainDevice, ChainReading } from '../gateway/chain-readings.js';
import { INTERVAL_MS, type GridRow } from './grid-csv.js';
import type { Direction } from '../gateway/state.js';

export interface ReconcileMeter {
  /** The meter's id in the CSV. */
  readonly meterId: string;
  readonly equipmentId: string;
  readonly producer: string;
  readonly consumer: string;
  /** The devices' registrations in the context (null: not registered). */
  readonly producerDevice: ChainDevice | null;
  readonly consumerDevice: ChainDevice | null;
}

/** What the chain holds for one device direction in one interval. */
export interface IntervalShare {
  wh: bigint;
  estimated: boolean;
  /** The settlement period (first block) the energy was booked in (the latest reading's). */
  block: number;
}

export interface Difference {
  readonly meterId: string;
  readonly intervalStartUtc: string;
  readonly intervalStartMs: number;
  readonly gridDeliveredKwh: string;
  readonly chainDeliveredKwh: string;
  readonly deliveredDiffKwh: string;
  readonly gridReturnedKwh: string;
  readonly chainReturnedKwh: string;
  readonly returnedDiffKwh: string;
  /** (delivered difference - returned difference) x price: positive, the household pays. */
  readonly billEur: string;
  readonly estimated: boolean;
  readonly disconnected: boolean;
  readonly deliveredDiffWh: bigint;
  readonly returnedDiffWh: bigint;
}

export interface DisconnectPeriod {
  readonly meterId: string;
  readonly fromUtc: string;
  /** Exclusive. */
  readonly toUtc: string;
  readonly intervals: number;
  readonly gridDeliveredKwh: string;
  readonly gridReturnedKwh: string;
}

export interface MeterSummary {
  readonly meterId: string;
  readonly equipmentId: string;
  readonly producer: string;
  readonly consumer: string;
  readonly intervals: number;
  readonly differences: number;
  readonly gridDeliveredKwh: string;
  readonly chainDeliveredKwh: string;
  readonly gridReturnedKwh: string;
  readonly chainReturnedKwh: string;
  readonly deliveredDiffKwh: string;
  readonly returnedDiffKwh: string;
  readonly billEur: string;
  readonly disconnectedIntervals: number;
  readonly estimatedIntervals: number;
  readonly notes: readonly string[];
}

export interface Comparison {
  readonly meters: MeterSummary[];
  readonly differences: Difference[];
  readonly disconnects: DisconnectPeriod[];
  /** Per meter and direction: interval start -> share (for settlement). */
  readonly shares: ReadonlyMap<string, ReadonlyMap<number, IntervalShare>>;
}

/** A price in EUR per kWh, exact: micro-euros per kWh. */
export function parsePrice(text: string): bigint | null {
  const m = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,6}))?$/.exec(text.trim());
  if (m === null) return null;
  return BigInt(m[1] ?? '0') * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/** EUR for `wh` at `priceMicro` micro-euros per kWh, exact, at least 2 decimals. */
export function billOf(wh: bigint, priceMicro: bigint): string {
  const nano = wh * priceMicro; // 10^-9 EUR
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const whole = abs / 1_000_000_000n;
  let frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${negative && abs !== 0n ? '-' : ''}${whole}.${frac}`;
}

export function shareKey(meterId: string, direction: Direction): string {
  return `${meterId}|${direction}`;
}

function add(
  map: Map<number, IntervalShare>,
  startMs: number,
  wh: bigint,
  estimated: boolean,
  block: number,
): void {
  const s = map.get(startMs);
  if (s === undefined) map.set(startMs, { wh, estimated, block });
  else {
    s.wh += wh;
    s.estimated = s.estimated || estimated;
    s.block = block;
  }
}

/** Splits `wh` over the intervals the span (a, b] overlaps, in proportion to time, exactly. */
function split(
  map: Map<number, IntervalShare>,
  a: number,
  b: number,
  wh: bigint,
  block: number,
): void {
  const k0 = Math.floor(a / INTERVAL_MS);
  const k1 = Math.floor((b - 1) / INTERVAL_MS);
  const span = BigInt(b - a);
  const parts: { startMs: number; wh: bigint; rest: bigint }[] = [];
  for (let k = k0; k <= k1; k += 1) {
    const overlap = BigInt(Math.min(b, (k + 1) * INTERVAL_MS) - Math.max(a, k * INTERVAL_MS));
    parts.push({
      startMs: k * INTERVAL_MS,
      wh: (wh * overlap) / span,
      rest: (wh * overlap) % span,
    });
  }
  let left = wh - parts.reduce((sum, p) => sum + p.wh, 0n);
  const byRest = [...parts].sort((x, y) =>
    y.rest > x.rest ? 1 : y.rest < x.rest ? -1 : x.startMs - y.startMs,
  );
  for (const p of byRest) {
    if (left <= 0n) break;
    p.wh += 1n;
    left -= 1n;
  }
  for (const p of parts) add(map, p.startMs, p.wh, true, block);
}

/** The chain's energy of one device direction per interval start (see the top of this file). */
export function attribute(readings: readonly ChainReading[]): Map<number, IntervalShare> {
  const out = new Map<number, IntervalShare>();
  const sorted = [...readings].sort(
    (x, y) =>
      (x.readingMs ?? x.processedMs) - (y.readingMs ?? y.processedMs) || x.height - y.height,
  );
  let previousMs: number | null = null;
  for (const r of sorted) {
    if (r.readingMs === null) {
      add(out, Math.floor(r.processedMs / INTERVAL_MS) * INTERVAL_MS, r.amountWh, true, r.block);
      continue;
    }
    const b = r.readingMs;
    let a = r.sinceMs ?? previousMs ?? Math.floor((b - 1) / INTERVAL_MS) * INTERVAL_MS;
    if (a >= b) a = Math.floor((b - 1) / INTERVAL_MS) * INTERVAL_MS;
    if (Math.floor(a / INTERVAL_MS) === Math.floor((b - 1) / INTERVAL_MS))
      add(out, Math.floor(a / INTERVAL_MS) * INTERVAL_MS, r.amountWh, false, r.block);
    else split(out, a, b, r.amountWh, r.block);
    previousMs = b;
  }
  return out;
}

/** Interval starts in which the meter was heard from: a reading's time or sinceMs in [start, end]. */
function heardIntervals(readings: readonly ChainReading[]): Set<number> {
  const heard = new Set<number>();
  for (const r of readings) {
    for (const t of [r.readingMs, r.sinceMs]) {
      if (t === null) continue;
      heard.add(Math.floor(t / INTERVAL_MS) * INTERVAL_MS);
      if (t % INTERVAL_MS === 0) heard.add(t - INTERVAL_MS);
    }
  }
  return heard;
}

function kwh(wh: bigint): string {
  return formatWh(wh);
}

/** Compares every meter's CSV rows with its chain readings (readings of any device, any time). */
export function compare(
  meters: readonly ReconcileMeter[],
  rows: readonly GridRow[],
  readings: readonly ChainReading[],
  priceMicro: bigint,
): Comparison {
  const shares = new Map<string, Map<number, IntervalShare>>();
  const summaries: MeterSummary[] = [];
  const differences: Difference[] = [];
  const disconnects: DisconnectPeriod[] = [];
  for (const meter of meters) {
    const mine = rows.filter((r) => r.meterId === meter.meterId);
    const produced = readings.filter(
      (r) => r.device === meter.producer && r.direction === 'returned',
    );
    const consumed = readings.filter(
      (r) => r.device === meter.consumer && r.direction === 'delivered',
    );
    const returned = attribute(produced);
    const delivered = attribute(consumed);
    shares.set(shareKey(meter.meterId, 'returned'), returned);
    shares.set(shareKey(meter.meterId, 'delivered'), delivered);
    const heard = heardIntervals([...produced, ...consumed]);
    const result = compareMeter(meter, mine, { delivered, returned, heard }, priceMicro);
    summaries.push(result.summary);
    differences.push(...result.differences);
    disconnects.push(...result.disconnects);
  }
  return { meters: summaries, differences, disconnects, shares };
}

interface MeterChain {
  readonly delivered: ReadonlyMap<number, IntervalShare>;
  readonly returned: ReadonlyMap<number, IntervalShare>;
  readonly heard: ReadonlySet<number>;
}

/** The meter's CSV rows by interval start; rows off the 15-minute grid or repeated are noted. */
function rowsByStart(rows: readonly GridRow[], notes: string[]): Map<number, GridRow> {
  const byStart = new Map<number, GridRow>();
  for (const r of rows) {
    if (r.intervalStartMs % INTERVAL_MS !== 0)
      notes.push(
        `line ${r.line}: interval ${r.intervalStartUtc} is not on a 15-minute boundary and is left out`,
      );
    else if (byStart.has(r.intervalStartMs))
      notes.push(`line ${r.line}: a second row for ${r.intervalStartUtc}; the first one is used`);
    else byStart.set(r.intervalStartMs, r);
  }
  return byStart;
}

/** Collects consecutive disconnected intervals into periods. */
class DisconnectRuns {
  readonly periods: DisconnectPeriod[] = [];
  private run: { from: number; to: number; n: number; d: bigint; r: bigint } | null = null;

  constructor(private readonly meterId: string) {}

  add(row: GridRow): void {
    const start = row.intervalStartMs;
    if (this.run !== null && this.run.to === start) {
      this.run.to = start + INTERVAL_MS;
      this.run.n += 1;
      this.run.d += row.deliveredWh;
      this.run.r += row.returnedWh;
      return;
    }
    this.close();
    this.run = {
      from: start,
      to: start + INTERVAL_MS,
      n: 1,
      d: row.deliveredWh,
      r: row.returnedWh,
    };
  }

  close(): void {
    const run = this.run;
    if (run === null) return;
    this.periods.push({
      meterId: this.meterId,
      fromUtc: new Date(run.from).toISOString(),
      toUtc: new Date(run.to).toISOString(),
      intervals: run.n,
      gridDeliveredKwh: kwh(run.d),
      gridReturnedKwh: kwh(run.r),
    });
    this.run = null;
  }
}

function difference(
  meterId: string,
  row: GridRow,
  chainD: bigint,
  chainR: bigint,
  flags: { estimated: boolean; disconnected: boolean },
  priceMicro: bigint,
): Difference {
  const dd = row.deliveredWh - chainD;
  const rd = row.returnedWh - chainR;
  return {
    meterId,
    intervalStartUtc: new Date(row.intervalStartMs).toISOString(),
    intervalStartMs: row.intervalStartMs,
    gridDeliveredKwh: kwh(row.deliveredWh),
    chainDeliveredKwh: kwh(chainD),
    deliveredDiffKwh: kwh(dd),
    gridReturnedKwh: kwh(row.returnedWh),
    chainReturnedKwh: kwh(chainR),
    returnedDiffKwh: kwh(rd),
    billEur: billOf(dd - rd, priceMicro),
    estimated: flags.estimated,
    disconnected: flags.disconnected,
    deliveredDiffWh: dd,
    returnedDiffWh: rd,
  };
}

function compareMeter(
  meter: ReconcileMeter,
  rows: readonly GridRow[],
  chain: MeterChain,
  priceMicro: bigint,
): { summary: MeterSummary; differences: Difference[]; disconnects: DisconnectPeriod[] } {
  const notes: string[] = [];
  if (meter.producerDevice === null)
    notes.push(`producer ${meter.producer} is not a producer in the context`);
  if (meter.consumerDevice === null)
    notes.push(`consumer ${meter.consumer} is not a consumer in the context`);
  const byStart = rowsByStart(rows, notes);
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  const t = { gridD: 0n, chainD: 0n, gridR: 0n, chainR: 0n, estimated: 0, disconnected: 0 };
  const differences: Difference[] = [];
  const runs = new DisconnectRuns(meter.meterId);
  for (const start of starts) {
    const row = byStart.get(start) as GridRow;
    const d = chain.delivered.get(start);
    const r = chain.returned.get(start);
    const flags = {
      estimated: (d?.estimated ?? false) || (r?.estimated ?? false),
      disconnected: !chain.heard.has(start),
    };
    t.gridD += row.deliveredWh;
    t.chainD += d?.wh ?? 0n;
    t.gridR += row.returnedWh;
    t.chainR += r?.wh ?? 0n;
    if (flags.estimated) t.estimated += 1;
    if (flags.disconnected) {
      t.disconnected += 1;
      runs.add(row);
    } else runs.close();
    if (row.deliveredWh !== (d?.wh ?? 0n) || row.returnedWh !== (r?.wh ?? 0n))
      differences.push(difference(meter.meterId, row, d?.wh ?? 0n, r?.wh ?? 0n, flags, priceMicro));
  }
  runs.close();
  const dd = t.gridD - t.chainD;
  const rd = t.gridR - t.chainR;
  const summary: MeterSummary = {
    meterId: meter.meterId,
    equipmentId: meter.equipmentId,
    producer: meter.producer,
    consumer: meter.consumer,
    intervals: starts.length,
    differences: differences.length,
    gridDeliveredKwh: kwh(t.gridD),
    chainDeliveredKwh: kwh(t.chainD),
    gridReturnedKwh: kwh(t.gridR),
    chainReturnedKwh: kwh(t.chainR),
    deliveredDiffKwh: kwh(dd),
    returnedDiffKwh: kwh(rd),
    billEur: billOf(dd - rd, priceMicro),
    disconnectedIntervals: t.disconnected,
    estimatedIntervals: t.estimated,
    notes,
  };
  return { summary, differences, disconnects: runs.periods };
}

const CSV_HEADER = [
  'meter_id',
  'interval_start_utc',
  'grid_delivered_kwh',
  'chain_delivered_kwh',
  'delivered_diff_kwh',
  'grid_returned_kwh',
  'chain_returned_kwh',
  'returned_diff_kwh',
  'bill_eur',
  'estimated',
  'disconnected',
  'settlement',
];

/** The differences as CSV (comma-separated, '.' decimals, one header line). */
export function differencesCsv(
  differences: readonly Omit<Difference, 'deliveredDiffWh' | 'returnedDiffWh'>[],
  settlement: ReadonlyMap<string, string> = new Map(),
): string {
  const lines = [CSV_HEADER.join(',')];
  for (const d of differences) {
    const s = settlement.get(`${d.meterId}|${d.intervalStartMs}`) ?? '';
    const fields = [
      d.meterId,
      d.intervalStartUtc,
      d.gridDeliveredKwh,
      d.chainDeliveredKwh,
      d.deliveredDiffKwh,
      d.gridReturnedKwh,
      d.chainReturnedKwh,
      d.returnedDiffKwh,
      d.billEur,
      String(d.estimated),
      String(d.disconnected),
      s,
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}
