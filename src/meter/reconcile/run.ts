// `hanzenet reconcile`: reads the grid operator's CSV and the meters config, fetches what the
// meter keys recorded on chain through the API, compares (compare.ts) and, with `settle`, books
// every difference signed by the context owner: with a MarketCorrection in a market context (per
// market period), with a Mutate otherwise. Each difference goes to the trader the device was
// registered to when the energy was metered (attribution.ts, from the device's registrations on
// chain), not to its trader of today. Each transaction's id is derived from (context, meter,
// interval, direction, and the period and trader of its share), so a second run sends the same
// ids, which the chain refuses as tx_duplicate_id: a difference is settled exactly once however
// often this runs.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { readConfigJson } from '../../config/file.js';
import type { TxView } from '../../chain/views.js';
import type { BatchItemResult, HanzenetClient } from '../../client/client.js';
import { formatWh, parseKwh } from '../../core/amount.js';
import { ChainError } from '../../core/errors.js';
import {
  fetchDeviceReadings,
  fetchDeviceRegistrations,
  fetchEnergyContext,
} from '../../energy/client.js';
import type { PrivateKey } from '../../core/keys.js';
import { parseKeyText } from '../../store/key-file.js';
import { chainReadings, type ChainDevice, type ChainReading } from '../gateway/chain-readings.js';
import { registrationSpans, type RegistrationSpan } from './attribution.js';
import { checkMetersFile, type MeterConfig } from '../gateway/config.js';
import { METERS_CONFIG_KIND } from '../gateway/config-schema.js';
import { parseGridCsv } from './grid-csv.js';
import { plan, spansKey, type SettleContext, type Settlement } from './plan.js';
import {
  billOf,
  compare,
  differencesCsv,
  type Comparison,
  type Difference,
  type MeterSummary,
  type ReconcileMeter,
} from './compare.js';
import type { Direction } from '../gateway/state.js';

export { settleTxId, shareTxId, type SettleStatus, type Settlement } from './plan.js';

export interface ReconcileOptions {
  readonly client: HanzenetClient;
  readonly context: string;
  readonly csvText: string;
  readonly csvName: string;
  readonly meters: readonly MeterConfig[];
  readonly priceText: string;
  readonly priceMicro: bigint;
  /** The context owner's key: settle the differences with Mutate transactions. */
  readonly settleKey?: PrivateKey;
}

export interface ReconcileReport {
  readonly context: string;
  readonly csv: {
    readonly file: string;
    readonly rows: number;
    readonly meters: number;
    readonly fromUtc: string | null;
    readonly toUtc: string | null;
    readonly separator: string;
    readonly decimalMark: string | null;
  };
  readonly priceEurPerKwh: string;
  readonly summary: {
    readonly meters: number;
    readonly intervals: number;
    readonly differences: number;
    readonly deliveredDiffKwh: string;
    readonly returnedDiffKwh: string;
    readonly billEur: string;
    readonly disconnectedIntervals: number;
  };
  readonly meters: readonly MeterSummary[];
  readonly differences: readonly Omit<Difference, 'deliveredDiffWh' | 'returnedDiffWh'>[];
  readonly disconnects: Comparison['disconnects'];
  /** Meter ids in the CSV that the meters config does not name, and configured meters without rows. */
  readonly unknownMeters: readonly string[];
  readonly metersWithoutRows: readonly string[];
  readonly settlement: {
    readonly settled: number;
    readonly alreadySettled: number;
    readonly failed: number;
    readonly transactions: readonly Settlement[];
  } | null;
}

const SETTLE_BATCH = 500;
const SETTLE_WAIT_MS = 120_000;
/** A reading booked before the CSV's first interval may still end in it (at most 1 h late, see Energy). */
const LOOKBACK_MS = 2 * 3_600_000;

/** The meters config (a gateway config, or {"meters": [...]}) of a file. */
export async function readMetersFile(path: string): Promise<MeterConfig[]> {
  const file = resolve(path);
  return checkMetersFile(readConfigJson(METERS_CONFIG_KIND, file), dirname(file), file);
}

async function addressOf(m: MeterConfig, direction: Direction): Promise<string> {
  const given = direction === 'returned' ? m.producerAddress : m.consumerAddress;
  if (given !== null) return given;
  const file = (direction === 'returned' ? m.producerKeyFile : m.consumerKeyFile) ?? '';
  try {
    return parseKeyText((await readFile(file, 'utf8')).trim(), file).address;
  } catch (err) {
    throw new ChainError(
      'gateway_config_invalid',
      `meter ${m.equipmentId}: cannot read a key from ${file}: ${(err as Error).message}`,
      { field: direction === 'returned' ? 'producerKeyFile' : 'consumerKeyFile', path: file },
      { cause: err },
    );
  }
}

export async function reconcile(o: ReconcileOptions): Promise<ReconcileReport> {
  const parsed = parseGridCsv(o.csvText);
  if (!parsed.ok) throw new ChainError(parsed.code, parsed.message, parsed.details);
  const view = await fetchEnergyContext(o.client, o.context);
  const csvIds = new Set(parsed.rows.map((r) => r.meterId));
  const meters: ReconcileMeter[] = [];
  for (const m of o.meters) {
    const producer = await addressOf(m, 'returned');
    const consumer = await addressOf(m, 'delivered');
    const p = view.producers.find((d) => d.address === producer);
    const c = view.consumers.find((d) => d.address === consumer);
    meters.push({
      meterId: m.gridId,
      equipmentId: m.equipmentId,
      producer,
      consumer,
      producerDevice:
        p === undefined
          ? null
          : { address: producer, direction: 'returned', trader: p.trader, labels: p.labels },
      consumerDevice:
        c === undefined
          ? null
          : { address: consumer, direction: 'delivered', trader: c.trader, labels: c.labels },
    });
  }
  const active = meters.filter((m) => csvIds.has(m.meterId));
  const spans = await deviceSpans(o, active);
  const marketPeriodMs = view.market === null ? null : view.market.periodSeconds * 1000;
  const starts = parsed.rows.map((r) => r.intervalStartMs);
  const fromMs = starts.length === 0 ? 0 : Math.min(...starts) - LOOKBACK_MS;
  const readings =
    marketPeriodMs === null
      ? await thesisReadings(o, active, spans, fromMs)
      : await marketReadings(o, active, fromMs);
  const comparison = compare(active, parsed.rows, readings, o.priceMicro);
  const settlement =
    o.settleKey === undefined
      ? null
      : await settle(o, o.settleKey, active, comparison, {
          marketPeriodMs,
          spans,
          nowMs: Date.now(),
        });
  return buildReport(o, parsed, meters, active, comparison, settlement);
}

/** The registrations of every meter's producer and consumer key, as spans per role. */
async function deviceSpans(
  o: ReconcileOptions,
  meters: readonly ReconcileMeter[],
): Promise<Map<string, RegistrationSpan[]>> {
  const out = new Map<string, RegistrationSpan[]>();
  for (const m of meters) {
    for (const [address, direction] of [
      [m.producer, 'returned'],
      [m.consumer, 'delivered'],
    ] as const) {
      if (out.has(spansKey(address, direction))) continue;
      const view = await fetchDeviceRegistrations(o.client, o.context, address);
      out.set(spansKey(address, 'returned'), registrationSpans(view.registrations, 'producer'));
      out.set(spansKey(address, 'delivered'), registrationSpans(view.registrations, 'consumer'));
    }
  }
  return out;
}

/**
 * Without the market, Energy books into the histories of the trader of the day: look in the
 * history of every trader each device has had, so that energy booked before a move is found.
 */
async function thesisReadings(
  o: ReconcileOptions,
  meters: readonly ReconcileMeter[],
  spans: ReadonlyMap<string, readonly RegistrationSpan[]>,
  fromMs: number,
): Promise<ChainReading[]> {
  const devices: ChainDevice[] = [];
  for (const m of meters) {
    for (const [address, direction] of [
      [m.producer, 'returned'],
      [m.consumer, 'delivered'],
    ] as const) {
      const traders = new Set((spans.get(spansKey(address, direction)) ?? []).map((s) => s.trader));
      for (const trader of traders)
        if (trader !== null) devices.push({ address, direction, trader, labels: [] });
    }
  }
  return devices.length === 0 ? [] : chainReadings(o.client, o.context, devices, fromMs);
}

/** With the market, a device's Energy transactions are read directly (GET .../readings). */
async function marketReadings(
  o: ReconcileOptions,
  meters: readonly ReconcileMeter[],
  fromMs: number,
): Promise<ChainReading[]> {
  const out: ChainReading[] = [];
  const addresses = new Set(meters.flatMap((m) => [m.producer, m.consumer]));
  for (const address of addresses) {
    const seen = new Set<string>();
    let from = fromMs;
    for (;;) {
      const page = await fetchDeviceReadings(o.client, o.context, address, from);
      for (const r of page.readings) {
        if (seen.has(r.txId)) continue;
        seen.add(r.txId);
        const amount = parseKwh(r.amount);
        const register = r.register === null ? null : parseKwh(r.register);
        if (!amount.ok) continue;
        out.push({
          txId: r.txId,
          device: address,
          direction: amount.wh > 0n ? 'returned' : 'delivered',
          amountWh: amount.wh < 0n ? -amount.wh : amount.wh,
          registerWh: register?.ok ? register.wh : null,
          readingMs: r.readingMs,
          sinceMs: r.sinceMs,
          height: r.height,
          processedMs: r.processedMs,
          block: 0,
          trader: '',
          labels: [],
        });
      }
      const last = page.readings.at(-1);
      if (!page.truncated || last === undefined) break;
      if (last.processedMs === from)
        throw new ChainError(
          'internal',
          `device ${address} has more Energy transactions processed at ${from} than one answer lists`,
          { address, fromMs: from },
        );
      from = last.processedMs;
    }
  }
  return out;
}

function buildReport(
  o: ReconcileOptions,
  parsed: Extract<ReturnType<typeof parseGridCsv>, { ok: true }>,
  meters: readonly ReconcileMeter[],
  active: readonly ReconcileMeter[],
  comparison: Comparison,
  settlement: Settlement[] | null,
): ReconcileReport {
  const configured = new Set(meters.map((m) => m.meterId));
  const starts = parsed.rows.map((r) => r.intervalStartMs);
  const sum = (pick: (d: Difference) => bigint): bigint =>
    comparison.differences.reduce((s, d) => s + pick(d), 0n);
  const deliveredDiff = sum((d) => d.deliveredDiffWh);
  const returnedDiff = sum((d) => d.returnedDiffWh);
  const billWh = deliveredDiff - returnedDiff;
  return {
    context: o.context,
    csv: {
      file: o.csvName,
      rows: parsed.rows.length,
      meters: parsed.meters.length,
      fromUtc: starts.length === 0 ? null : new Date(Math.min(...starts)).toISOString(),
      toUtc: starts.length === 0 ? null : new Date(Math.max(...starts) + 15 * 60_000).toISOString(),
      separator: parsed.format.separator,
      decimalMark: parsed.format.decimalMark,
    },
    priceEurPerKwh: o.priceText,
    summary: {
      meters: active.length,
      intervals: comparison.meters.reduce((s, m) => s + m.intervals, 0),
      differences: comparison.differences.length,
      deliveredDiffKwh: formatWh(deliveredDiff),
      returnedDiffKwh: formatWh(returnedDiff),
      billEur: billOf(billWh, o.priceMicro),
      disconnectedIntervals: comparison.meters.reduce((s, m) => s + m.disconnectedIntervals, 0),
    },
    meters: comparison.meters,
    differences: comparison.differences.map(
      ({ deliveredDiffWh: _d, returnedDiffWh: _r, ...rest }) => rest,
    ),
    disconnects: comparison.disconnects,
    unknownMeters: [...new Set(parsed.rows.map((r) => r.meterId))].filter(
      (id) => !configured.has(id),
    ),
    metersWithoutRows: meters.filter((m) => !active.includes(m)).map((m) => m.meterId),
    settlement:
      settlement === null
        ? null
        : {
            settled: settlement.filter((s) => s.status === 'settled').length,
            alreadySettled: settlement.filter((s) => s.status === 'already_settled').length,
            failed: settlement.filter(
              (s) => s.status !== 'settled' && s.status !== 'already_settled',
            ).length,
            transactions: settlement,
          },
  };
}

/** The report's differences as CSV, with each difference's settlement status when settled. */
export function reportCsv(report: ReconcileReport): string {
  const settled = new Map<string, string>();
  for (const s of report.settlement?.transactions ?? []) {
    const key = `${s.meterId}|${Date.parse(s.intervalStartUtc)}`;
    settled.set(
      key,
      [settled.get(key), `${s.direction}:${s.status}`].filter((x) => x !== undefined).join(' '),
    );
  }
  return differencesCsv(report.differences, settled);
}

async function settle(
  o: ReconcileOptions,
  key: PrivateKey,
  meters: readonly ReconcileMeter[],
  c: Comparison,
  sc: SettleContext,
): Promise<Settlement[]> {
  const planned = plan(o.context, meters, c, sc);
  const todo = planned.filter((p) => p.payload !== null);
  if (todo.length === 0) return planned.map((p) => p.s);
  const contractHash = await o.client.contractHashOfType(
    sc.marketPeriodMs === null ? 'Mutate' : 'MarketCorrection',
  );
  for (let i = 0; i < todo.length; i += SETTLE_BATCH) {
    const chunk = todo.slice(i, i + SETTLE_BATCH);
    const txs = [];
    for (const p of chunk)
      txs.push(
        await o.client.signContractCall({
          contractHash,
          payload: p.payload ?? {},
          key,
          idHex: p.s.txId,
          validTillMs: 0,
        }),
      );
    const results = await o.client.submitBatch(txs, { wait: true, timeoutMs: SETTLE_WAIT_MS });
    for (let j = 0; j < chunk.length; j += 1)
      await record(o.client, (chunk[j] as (typeof chunk)[number]).s, results[j]);
  }
  return planned.map((p) => p.s);
}

async function record(
  client: HanzenetClient,
  s: Settlement,
  r: BatchItemResult | undefined,
): Promise<void> {
  if (r === undefined) {
    s.status = 'failed';
    s.message = 'no answer for this transaction';
    return;
  }
  if ('error' in r) {
    if (r.error.code !== 'tx_duplicate_id') {
      s.status = 'failed';
      s.code = r.error.code;
      s.message = r.error.message;
      return;
    }
    // Sent before, by an earlier run: its outcome decides.
    const view = await client.getTransaction(s.txId, { wait: true, timeoutMs: 30_000 });
    apply(s, view, true);
    return;
  }
  if (r.status === 'new') {
    s.status = 'pending';
    s.message =
      'not final within the wait; run again to learn the outcome (the same id cannot be booked twice)';
    return;
  }
  apply(s, r as TxView, false);
}

function apply(s: Settlement, view: TxView, earlier: boolean): void {
  s.code = view.code;
  s.message = view.message;
  if (view.status === 'accepted') s.status = earlier ? 'already_settled' : 'settled';
  else if (view.status === 'new') s.status = 'pending';
  else
    s.status = earlier ? 'previously_rejected' : view.status === 'rejected' ? 'rejected' : 'failed';
}
