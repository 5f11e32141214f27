// Which transactions settle reconciliation's differences (docs/meter.md, "Settling"): one per
// interval, direction and trader of the time (attribution.ts), with a Mutate without the market
// and a MarketCorrection per market period with it. Pure: run.ts sends what this plans. Every id
// is derived from what the transaction settles, so a second run sends the same ids.

import { createHash } from 'node:crypto';
import { formatWh } from '../../core/amount.js';
import type { Direction } from '../gateway/state.js';
import { attributeInterval, type RegistrationSpan } from './attribution.js';
import { shareKey, type Comparison, type Difference, type ReconcileMeter } from './compare.js';
import { INTERVAL_MS } from './grid-csv.js';

const DESCRIPTION_CHARS_MAX = 256;

export type SettleStatus =
  | 'settled'
  | 'already_settled'
  | 'rejected'
  | 'previously_rejected'
  | 'pending'
  | 'failed'
  | 'not_settleable';

export interface Settlement {
  readonly meterId: string;
  readonly intervalStartUtc: string;
  readonly direction: Direction;
  readonly txId: string;
  readonly amountKwh: string;
  /** The trader the device was registered to when the energy was metered. */
  readonly trader: string | null;
  /** Mutate (no market): the settlement period by its first block. */
  readonly block: number | null;
  /** MarketCorrection (market context): the market period, ms since the Unix epoch. */
  readonly periodStartMs: number | null;
  readonly description: string;
  status: SettleStatus;
  code: string | null;
  message: string | null;
}

/** The id of the Mutate that settles one difference: the same on every run. */
export function settleTxId(
  context: string,
  meterId: string,
  intervalStartMs: number,
  direction: Direction,
): string {
  return createHash('sha256')
    .update(`hanzenet reconcile|${context}|${meterId}|${intervalStartMs}|${direction}`)
    .digest('hex')
    .slice(0, 32);
}

/** What settling needs to know of the context and its devices beyond the comparison. */
export interface SettleContext {
  /** The market's period length; null: no market, settle with Mutate. */
  readonly marketPeriodMs: number | null;
  /**
   * Now, ms: a market period that has not ended by then is not corrected yet (MarketCorrection
   * would reject it for good under its fixed id); a later run books it.
   */
  readonly nowMs: number;
  /** Per device address and role ("address|producer"): its registrations over time. */
  readonly spans: ReadonlyMap<string, readonly RegistrationSpan[]>;
}

/** The key of a device's spans in SettleContext.spans. */
export function spansKey(address: string, direction: Direction): string {
  return `${address}|${direction === 'returned' ? 'producer' : 'consumer'}`;
}

export type Planned = { s: Settlement; payload: Record<string, unknown> | null };

/** The transactions that settle the differences (see the top of this file); pure. */
export function plan(
  context: string,
  meters: readonly ReconcileMeter[],
  c: Comparison,
  sc: SettleContext,
): Planned[] {
  const out: Planned[] = [];
  for (const d of c.differences) {
    const meter = meters.find((m) => m.meterId === d.meterId);
    if (meter === undefined) continue;
    for (const direction of ['delivered', 'returned'] as const) {
      const diff = direction === 'delivered' ? d.deliveredDiffWh : d.returnedDiffWh;
      if (diff === 0n) continue;
      const grid = direction === 'delivered' ? d.gridDeliveredKwh : d.gridReturnedKwh;
      const chain = direction === 'delivered' ? d.chainDeliveredKwh : d.chainReturnedKwh;
      const description =
        `Reconciliation meter ${meter.meterId} interval ${d.intervalStartUtc} ${direction}: grid ${grid} kWh, chain ${chain} kWh`.slice(
          0,
          DESCRIPTION_CHARS_MAX,
        );
      const address = direction === 'delivered' ? meter.consumer : meter.producer;
      const spans = sc.spans.get(spansKey(address, direction)) ?? [];
      const one = { meterId: meter.meterId, d, direction, description, spans };
      if (sc.marketPeriodMs === null) out.push(...planMutates(context, c, one, diff));
      else out.push(...planCorrections(context, one, diff, sc.marketPeriodMs, sc.nowMs));
    }
  }
  return out;
}

interface OneDifference {
  readonly meterId: string;
  readonly d: Difference;
  readonly direction: Direction;
  readonly description: string;
  readonly spans: readonly RegistrationSpan[];
}

function unsettleable(s: Settlement, direction: Direction, message?: string): Planned {
  s.status = 'not_settleable';
  s.message =
    message ??
    `the ${direction === 'delivered' ? 'consumer' : 'producer'} key was not registered in the context when this was metered`;
  return { s, payload: null };
}

/** Mutates (no market): the ledger is corrected to what the grid measured, per trader of the time. */
function planMutates(context: string, c: Comparison, x: OneDifference, diff: bigint): Planned[] {
  // More consumption lowers the balance.
  const signedWh = x.direction === 'delivered' ? -diff : diff;
  const startMs = x.d.intervalStartMs;
  const shares = attributeInterval(startMs, startMs + INTERVAL_MS, signedWh, x.spans, INTERVAL_MS);
  const block = periodFor(c, x.meterId, x.direction, startMs);
  return shares.map((share) => {
    const txId =
      shares.length === 1
        ? settleTxId(context, x.meterId, startMs, x.direction)
        : shareTxId(context, x.meterId, startMs, x.direction, share.periodStartMs, share.trader);
    const s = settlementOf(x, txId, share.wh, share.trader, block, null);
    if (share.trader === null) return unsettleable(s, x.direction);
    if (block === null)
      return unsettleable(
        s,
        x.direction,
        'no settlement period of this device is known (no energy of it on chain)',
      );
    const payload = {
      context: context,
      trader: share.trader,
      block,
      labels: share.labels,
      amount: formatWh(share.wh),
      description: x.description,
    };
    return { s, payload };
  });
}

/** MarketCorrections: the difference per market period and trader of the time. */
function planCorrections(
  context: string,
  x: OneDifference,
  diff: bigint,
  periodMs: number,
  nowMs: number,
): Planned[] {
  const startMs = x.d.intervalStartMs;
  const shares = attributeInterval(startMs, startMs + INTERVAL_MS, diff, x.spans, periodMs);
  return shares.map((share) => {
    const txId = shareTxId(
      context,
      x.meterId,
      startMs,
      x.direction,
      share.periodStartMs,
      share.trader,
    );
    const s = settlementOf(x, txId, share.wh, share.trader, null, share.periodStartMs);
    if (share.trader === null) return unsettleable(s, x.direction);
    if (share.periodStartMs + periodMs > nowMs)
      return unsettleable(
        s,
        x.direction,
        'the market period has not ended yet; run again after it',
      );
    const payload = {
      context,
      trader: share.trader,
      periodStartMs: share.periodStartMs,
      labels: share.labels,
      // Positive: the grid measured more than the chain booked in this direction.
      amount: formatWh(share.wh),
      direction: x.direction === 'delivered' ? 'consumed' : 'produced',
      description: x.description,
    };
    return { s, payload };
  });
}

function settlementOf(
  x: OneDifference,
  txId: string,
  wh: bigint,
  trader: string | null,
  block: number | null,
  periodStartMs: number | null,
): Settlement {
  return {
    meterId: x.meterId,
    intervalStartUtc: x.d.intervalStartUtc,
    direction: x.direction,
    txId,
    amountKwh: formatWh(wh),
    trader,
    block,
    periodStartMs,
    description: x.description,
    status: 'pending',
    code: null,
    message: null,
  };
}

/** The id of one share's transaction when a difference is settled in several (market, or a move). */
export function shareTxId(
  context: string,
  meterId: string,
  intervalStartMs: number,
  direction: Direction,
  periodStartMs: number,
  trader: string | null,
): string {
  return createHash('sha256')
    .update(
      `hanzenet reconcile|${context}|${meterId}|${intervalStartMs}|${direction}|${periodStartMs}|${trader ?? ''}`,
    )
    .digest('hex')
    .slice(0, 32);
}

/** The period to book a difference in: that of the device's energy in the interval, else the nearest. */
function periodFor(
  c: Comparison,
  meterId: string,
  direction: Direction,
  startMs: number,
): number | null {
  const own = c.shares.get(shareKey(meterId, direction));
  const other = c.shares.get(
    shareKey(meterId, direction === 'delivered' ? 'returned' : 'delivered'),
  );
  for (const map of [own, other]) {
    if (map === undefined || map.size === 0) continue;
    const exact = map.get(startMs);
    if (exact !== undefined) return exact.block;
    let best: { distance: number; block: number } | null = null;
    for (const [k, share] of map) {
      const distance = Math.abs(k - startMs);
      if (best === null || distance < best.distance) best = { distance, block: share.block };
    }
    if (best !== null) return best.block;
  }
  return null;
}
