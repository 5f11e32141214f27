// Energy (thesis 6.2.4): a producer key records production (amount > 0), a consumer key records
// consumption (amount < 0). The amount goes to (or comes from) the balance of the linked trader,
// with the device's labels, in the settlement period of the current block.
//
// Finding that period from nothing but ctx.block and the stored state (docs/energy.md, "Periods"):
// energy_settings holds the period length P in force for this block (no row: 0, every block its
// own period; a change applies from the next block on), and energy_periods marks the most
// recently opened period of the context `latest`. The current block stays in that period when it
// is the period's first block, or when the period has length P and the block's time is before
// its end. Otherwise this block opens a new period: with P > 0 it starts at the block time
// rounded down to a multiple of P (so 15-minute periods start at :00, :15, :30, :45 UTC), and
// with P = 0 at the block time itself. When the length changed inside the latest period, that
// period is cut short and the new one starts just after the previous block (every block booked
// into the latest period came before this one), so periods never overlap.
//
// Meter readings (docs/energy.md, "Meter readings"): a call may also carry the meter's cumulative
// register after the reading (`register`, kWh: returned energy for production, delivered for
// consumption), the meter's time of the reading (`readingMs`) and optionally the time since which
// the register stood at its previous value (`sinceMs`). energy_meter_readings keeps the last
// register and time per (context, device, direction). The first reading sets the baseline and
// may claim at most its register; every later one must advance the register by exactly |amount|
// at a later time. So a resubmitted or double-counted reading can never be booked, whatever the
// gateway remembers. Once a device has a reading in a direction, it must always send one there.
//
// In a context whose market is on (energy_market_settings; docs/decisions/0011-local-market.md),
// the energy goes instead to the market period(s) in which it was metered: the reading covers
// (sinceMs, readingMs], sinceMs defaulting to the device's previous reading; without a reading it
// ends at the block time. A span of several periods is split by time (splitByPeriods) and marked
// estimated. The thesis balances are not touched.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult, RejectResult, SandboxRow } from '../contracts/authoring/define.js';
import { applyBalanceChange, kwh, planBalanceChange } from './helpers.js';
import type { EnergyRejectCodeName } from './codes.js';
import { bookMarketShares, splitByPeriods } from './market/booking.js';
import { shareByWeight } from './market/share.js';
import { energyManifest } from './tables.js';

export interface EnergyPayload {
  readonly context: string;
  /** Wh (the template turns kWh with at most 3 decimals into an exact integer). */
  readonly amount: bigint;
  /** The meter register after this reading, Wh (returned for production, delivered for consumption). */
  readonly register?: bigint;
  /** The meter's time of the reading, ms since the Unix epoch. */
  readonly readingMs?: number;
  /** Since when the register stood at register - |amount| (the meter's previous reading), ms. */
  readonly sinceMs?: number;
}

/** The codes Energy rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'sender_not_producer',
  'sender_not_consumer',
  'amount_zero',
  'balance_limit_exceeded',
  'meter_reading_invalid',
  'register_required',
  'reading_in_future',
  'reading_not_newer',
  'register_mismatch',
  'position_limit_exceeded',
] as const satisfies readonly EnergyRejectCodeName[];
type EnergyRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Energy',
  version: '1.0',
  description: 'Records metered production (positive, by a producer key) or consumption (negative, by a consumer key).',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    amount: { type: 'kwh', name: 'amount', desc: 'kWh (at most 3 decimals): positive production, negative consumption' },
    register: { type: 'kwh?', name: 'register', desc: 'Optional: the meter register after this reading, kWh (returned for production, delivered for consumption)' },
    readingMs: { type: 'uint?', name: 'readingMs', desc: 'Optional, with register: the meter time of the reading, ms since the Unix epoch' },
    sinceMs: { type: 'uint?', name: 'sinceMs', desc: 'Optional, with register: since when the register stood at register - |amount|, ms' },
  },
  manifest: energyManifest(
    ['energy_balances', 'energy_periods', 'energy_history', 'energy_meter_readings', 'energy_market_periods', 'energy_market_positions', 'energy_market_bookings', 'energy_market_late'],
    ['energy_producers', 'energy_consumers', 'energy_settings', 'energy_market_settings'],
  ),
  rejects: REJECTS,
  helpers: { kwh, planBalanceChange, applyBalanceChange, shareByWeight, splitByPeriods, bookMarketShares },
  execute: function execute(payload: EnergyPayload, ctx: ContractContext<EnergyRejectCode>): ContractResult {
    const BALANCE_WH_MAX = 1000000000000000n;
    const READING_AHEAD_MS_MAX = 3600000n;
    const POSITION_WH_MAX = 1000000000n;
    const SPLIT_PERIODS_MAX = 1344n;
    const context = payload.context;
    const amountWh = payload.amount;
    const height = BigInt(ctx.block.height);
    const nowMs = BigInt(ctx.block.processedMs);

    /** The period of the current block (see the comment at the top of this file). */
    function currentPeriod(): { block: bigint; startMs: bigint } {
      const settings = ctx.db.get('energy_settings', { context });
      let periodMs = 0n;
      if (settings !== null) {
        periodMs = height >= (settings['from_height'] as bigint) ? (settings['period_ms'] as bigint) : (settings['previous_period_ms'] as bigint);
      }
      const latest: SandboxRow | undefined = ctx.db.find('energy_periods', { context, latest: true }, 1)[0];
      if (latest !== undefined) {
        const latestBlock = latest['block'] as bigint;
        const inLatest = periodMs > 0n && latest['period_ms'] === periodMs && nowMs < (latest['end_ms'] as bigint);
        if (latestBlock === height || inLatest) return { block: latestBlock, startMs: latest['start_ms'] as bigint };
      }
      let startMs = periodMs > 0n ? nowMs - (nowMs % periodMs) : nowMs;
      const endMs = periodMs > 0n ? startMs + periodMs : nowMs + 1n;
      if (latest !== undefined) {
        let latestEndMs = latest['end_ms'] as bigint;
        if (latestEndMs > startMs) {
          // The length changed inside the latest period. Every block booked into it is at or
          // before the previous block, so starting after that keeps the periods apart.
          const afterPreviousMs = BigInt(ctx.block.previousProcessedMs) + 1n;
          if (afterPreviousMs > startMs) startMs = afterPreviousMs;
          latestEndMs = startMs;
        }
        ctx.db.put('energy_periods', { ...latest, end_ms: latestEndMs, latest: false });
      }
      ctx.db.put('energy_periods', { context, block: height, start_ms: startMs, end_ms: endMs, period_ms: periodMs, latest: true });
      return { block: height, startMs };
    }

    /**
     * The meter reading's row to store, a reason to reject, or null for a call without a reading
     * (see the comment at the top of this file). Runs after the device check: `producing` decides
     * the direction, so a key that is both producer and consumer keeps two readings.
     */
    function checkReading(): { row: SandboxRow; lastMs: bigint | null } | { rejected: RejectResult } | null {
      const direction = producing ? 'returned' : 'delivered';
      const readingKey = { context, address: ctx.sender, direction };
      const register = payload.register;
      const readingMs = payload.readingMs;
      const sinceMs = payload.sinceMs;
      const who = `${producing ? 'producer' : 'consumer'} ${ctx.sender} in context ${context}`;
      if (register === undefined && readingMs === undefined && sinceMs === undefined) {
        if (ctx.db.get('energy_meter_readings', readingKey) === null) return null;
        return { rejected: ctx.reject('register_required', `${who} has recorded meter readings of its ${direction} register, so every reading must carry register and readingMs`) };
      }
      if (register === undefined || readingMs === undefined) {
        return { rejected: ctx.reject('meter_reading_invalid', `a meter reading needs both register and readingMs (and optionally sinceMs); ${who} sent ${register === undefined ? 'no register' : 'no readingMs'}`) };
      }
      if (register < 0n) return { rejected: ctx.reject('meter_reading_invalid', `the register of ${who} must not be negative, got ${kwh(register)}`) };
      if (sinceMs !== undefined && sinceMs >= readingMs) {
        return { rejected: ctx.reject('meter_reading_invalid', `sinceMs ${sinceMs} of ${who} must be before readingMs ${readingMs}`) };
      }
      if (BigInt(readingMs) > nowMs + READING_AHEAD_MS_MAX) {
        return { rejected: ctx.reject('reading_in_future', `the reading of ${who} is dated ${readingMs}, more than ${READING_AHEAD_MS_MAX} ms after the block time ${nowMs}`) };
      }
      const advanceWh = producing ? amountWh : -amountWh;
      const last = ctx.db.get('energy_meter_readings', readingKey);
      if (last === null) {
        if (advanceWh > register) {
          return { rejected: ctx.reject('register_mismatch', `the first reading of ${who} claims ${kwh(advanceWh)}, more than its ${direction} register of ${kwh(register)}: expected at most the register, got ${kwh(advanceWh)}`) };
        }
      } else {
        const lastRegisterWh = last['register_wh'] as bigint;
        const lastMs = last['reading_ms'] as bigint;
        if (BigInt(readingMs) <= lastMs) {
          return { rejected: ctx.reject('reading_not_newer', `the reading of ${who} at ${readingMs} is not after its last reading at ${lastMs}`) };
        }
        if (sinceMs !== undefined && BigInt(sinceMs) < lastMs) {
          return { rejected: ctx.reject('reading_not_newer', `the reading of ${who} says its register stood still since ${sinceMs}, before its last reading at ${lastMs}`) };
        }
        const expectedWh = lastRegisterWh + advanceWh;
        if (register !== expectedWh) {
          return {
            rejected: ctx.reject(
              'register_mismatch',
              `the ${direction} register of ${who} was ${kwh(lastRegisterWh)} at ${lastMs}; with ${kwh(advanceWh)} it must become ${kwh(expectedWh)}: expected register ${kwh(expectedWh)}, got ${kwh(register)}`,
            ),
          };
        }
      }
      const lastMs = last === null ? null : (last['reading_ms'] as bigint);
      return { row: { context, address: ctx.sender, direction, register_wh: register, reading_ms: BigInt(readingMs), height, tx_id: ctx.txId }, lastMs };
    }

    if (amountWh === 0n) {
      return ctx.reject('amount_zero', `the amount recorded in context ${context} must not be zero: positive is production, negative is consumption`);
    }
    const producing = amountWh > 0n;
    const device = ctx.db.get(producing ? 'energy_producers' : 'energy_consumers', { context, address: ctx.sender });
    if (device === null) {
      return producing
        ? ctx.reject('sender_not_producer', `${ctx.sender} is not a producer in context ${context}, so it cannot record production of ${kwh(amountWh)}`)
        : ctx.reject('sender_not_consumer', `${ctx.sender} is not a consumer in context ${context}, so it cannot record consumption of ${kwh(amountWh)}`);
    }
    const reading = checkReading();
    if (reading !== null && 'rejected' in reading) return reading.rejected;
    const trader = device['trader'] as string;
    const labels = device['labels'] as string[];
    const market = ctx.db.get('energy_market_settings', { context });
    if (market !== null && market['market_on'] === true) {
      const periodMs = market['period_ms'] as bigint;
      const endMs = reading === null ? nowMs : BigInt(payload.readingMs as number);
      const sinceMs = reading === null ? null : payload.sinceMs !== undefined ? BigInt(payload.sinceMs) : reading.lastMs;
      const magnitudeWh = producing ? amountWh : -amountWh;
      const shares = splitByPeriods(sinceMs, endMs, periodMs, magnitudeWh, SPLIT_PERIODS_MAX);
      const direction = producing ? 'produced' : 'consumed';
      const over = bookMarketShares(ctx, { context, trader, labels, direction, device: ctx.sender, periodMs }, shares, POSITION_WH_MAX);
      if (over !== null) {
        return ctx.reject(
          'position_limit_exceeded',
          `recording ${kwh(amountWh)} would bring what trader ${trader} ${direction} with ${labels.length === 0 ? 'no labels' : 'labels [' + labels.join(', ') + ']'} in the market period starting at ${over.startMs} of context ${context} to ${kwh(over.afterWh)}, beyond the limit of ${kwh(POSITION_WH_MAX)}`,
        );
      }
      if (reading !== null) ctx.db.put('energy_meter_readings', reading.row);
      return 'OK';
    }
    const period = currentPeriod();
    const change = planBalanceChange(ctx, context, period, trader, labels, amountWh);
    const afterWh = change.afterWh;
    if (afterWh > BALANCE_WH_MAX || afterWh < -BALANCE_WH_MAX) {
      return ctx.reject(
        'balance_limit_exceeded',
        `recording ${kwh(amountWh)} would bring the balance of trader ${trader} in period ${period.block} of context ${context} to ${kwh(afterWh)}, beyond the limit of ${kwh(BALANCE_WH_MAX)}`,
      );
    }
    if (reading !== null) ctx.db.put('energy_meter_readings', reading.row);
    applyBalanceChange(ctx, context, period, change, { seq: 0n, kind: 'energy', counterparty: ctx.sender, description: '' });
    return 'OK';
  },
});
