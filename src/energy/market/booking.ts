// How Energy books metered energy in a market context (docs/decisions/0011-local-market.md):
// into the period(s) in which it was metered, not the period of the block. Helpers in the sense
// of ../helpers.ts: each runs inside QuickJS as part of the contract that declares it, so each is
// a plain, self-contained function declaration that calls no other function of this module
// (splitByPeriods calls shareByWeight, which a contract declaring it must declare too).

import type { HelperContext } from '../../contracts/authoring/define.js';
import { shareByWeight } from './share.js';

/** One period's share of a reading. */
export interface PeriodShare {
  readonly startMs: bigint;
  readonly wh: bigint;
  /** The reading spanned several periods and this share was computed by time. */
  readonly estimated: boolean;
}

/**
 * Splits `wh` metered in the interval (sinceMs, endMs] over the periods [k·periodMs,
 * (k+1)·periodMs) it overlaps, in proportion to the overlap. Each share is rounded down to the Wh;
 * the Wh left go one each to the shares with the largest remainders, the earlier period first on
 * a tie. Without sinceMs (or when it lies in the last period) everything goes to the period
 * holding the last instant before endMs, not estimated; a split share is estimated, even when the
 * other periods' shares round to 0 Wh. At most `periodsMax` periods take part: an earlier start
 * is moved to the start of that window. Periods with a share of 0 Wh are left out; shares come in
 * time order and add up to `wh` exactly.
 */
export function splitByPeriods(
  sinceMs: bigint | null,
  endMs: bigint,
  periodMs: bigint,
  wh: bigint,
  periodsMax: bigint,
): PeriodShare[] {
  const lastInstant = endMs - 1n;
  const lastStart = lastInstant - (((lastInstant % periodMs) + periodMs) % periodMs);
  if (sinceMs === null || sinceMs >= lastStart)
    return [{ startMs: lastStart, wh, estimated: false }];
  const windowStart = lastStart - (periodsMax - 1n) * periodMs;
  const fromMs = sinceMs < windowStart ? windowStart : sinceMs;
  const firstStart = fromMs - (((fromMs % periodMs) + periodMs) % periodMs);
  const starts: bigint[] = [];
  const overlaps: bigint[] = [];
  for (let start = firstStart; start <= lastStart; start += periodMs) {
    starts.push(start);
    overlaps.push((endMs < start + periodMs ? endMs : start + periodMs) - (fromMs > start ? fromMs : start));
  }
  const bases = shareByWeight(wh, overlaps);
  const shares: PeriodShare[] = [];
  for (let i = 0; i < starts.length; i++) {
    const share = bases[i] as bigint;
    if (share > 0n) shares.push({ startMs: starts[i] as bigint, wh: share, estimated: true });
  }
  return shares;
}

/** What a market booking is about: whose energy, with which labels, in which direction. */
export interface MarketBooking {
  readonly context: string;
  readonly trader: string;
  readonly labels: string[];
  /** `produced` or `consumed`. */
  readonly direction: string;
  /** The device (producer or consumer address) that metered it. */
  readonly device: string;
  readonly periodMs: bigint;
}

/**
 * Books the shares into energy_market_positions (opening each period's row in
 * energy_market_periods on its first energy), or into energy_market_late for a period already
 * settled, and records each in energy_market_bookings. Returns
 * the first share that would take a position past `positionWhMax` (the contract then rejects the
 * call, which discards these writes), or null.
 */
export function bookMarketShares(
  ctx: HelperContext,
  b: MarketBooking,
  shares: readonly PeriodShare[],
  positionWhMax: bigint,
): { startMs: bigint; afterWh: bigint } | null {
  const labelsKey = b.labels.join(',');
  const height = BigInt(ctx.block.height);
  let seq = 0n;
  for (const share of shares) {
    const periodKey = { context: b.context, period_start_ms: share.startMs };
    const period = ctx.db.get('energy_market_periods', periodKey);
    if (period === null) {
      ctx.db.put('energy_market_periods', {
        ...periodKey,
        end_ms: share.startMs + b.periodMs,
        settled: false,
        opened_height: height,
      });
    }
    // Energy metered in a period that is settled already is late: the next settlement settles it.
    const late = period !== null && period['settled'] === true;
    const positionKey = {
      ...periodKey,
      trader: b.trader,
      labels_key: labelsKey,
      direction: b.direction,
    };
    const position = ctx.db.get(late ? 'energy_market_late' : 'energy_market_positions', positionKey);
    const afterWh = (position === null ? 0n : (position['wh'] as bigint)) + share.wh;
    if (afterWh > positionWhMax) return { startMs: share.startMs, afterWh };
    if (late) {
      ctx.db.put('energy_market_late', { ...positionKey, labels: b.labels, wh: afterWh });
    } else {
      const estimatedWh =
        (position === null ? 0n : (position['estimated_wh'] as bigint)) +
        (share.estimated ? share.wh : 0n);
      ctx.db.put('energy_market_positions', {
        ...positionKey,
        labels: b.labels,
        wh: afterWh,
        estimated_wh: estimatedWh,
      });
    }
    ctx.db.put('energy_market_bookings', {
      tx_id: ctx.txId,
      seq,
      context: b.context,
      period_start_ms: share.startMs,
      trader: b.trader,
      labels: b.labels,
      direction: b.direction,
      wh: share.wh,
      estimated: share.estimated,
      late,
      device: b.device,
      height,
      processed_ms: BigInt(ctx.block.processedMs),
    });
    seq += 1n;
  }
  return null;
}
