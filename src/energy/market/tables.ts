// The tables of the local market (docs/decisions/0011-local-market.md; docs/energy.md, "The
// market"). A market context names its periods by their start (`period_start_ms`, a multiple of
// the period length in UTC milliseconds since the epoch), not by a block: a period exists once
// energy metered in it is booked, whenever that happens. Used for manifests only, like
// ../tables.ts, whose registry lists these tables too.

import type { TableDef } from '../../chain/contract-model.js';

/**
 * Whether the market is on in a context, and how it runs: the period length, the gate closure
 * (how long after a period's end it may be settled), and which ways of local clearing are on.
 * Written by Market; no row: the market is off (the thesis' per-block or SettlementPeriod periods).
 */
export const ENERGY_MARKET_SETTINGS: TableDef = {
  columns: {
    context: 'text',
    market_on: 'boolean',
    period_ms: 'bigint',
    gate_closure_ms: 'bigint',
    auction: 'boolean',
    allocation: 'boolean',
    changed_height: 'bigint',
  },
  key: ['context'],
};

/**
 * Market periods that received energy. `end_ms` is exclusive. `settled` becomes true when the
 * period is settled; energy metered in a settled period is late.
 */
export const ENERGY_MARKET_PERIODS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    end_ms: 'bigint',
    settled: 'boolean',
    opened_height: 'bigint',
  },
  key: ['context', 'period_start_ms'],
  indexes: [['context', 'settled']],
};

/**
 * What each trader produced and consumed in a market period, per label set (the device's labels)
 * and direction (`produced` or `consumed`): `wh` in total (always > 0), of which `estimated_wh`
 * came from readings whose interval spanned several periods and was split by time.
 */
export const ENERGY_MARKET_POSITIONS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    labels_key: 'text',
    direction: 'text',
    labels: 'text[]',
    wh: 'bigint',
    estimated_wh: 'bigint',
  },
  key: ['context', 'period_start_ms', 'trader', 'labels_key', 'direction'],
  indexes: [['context', 'trader', 'period_start_ms']],
};

/**
 * Every booking of metered energy into a market period, one row per period a reading touched:
 * the audit trail of energy_market_positions (their `wh` is the sum of these rows' `wh`).
 */
export const ENERGY_MARKET_BOOKINGS: TableDef = {
  columns: {
    tx_id: 'text',
    seq: 'bigint',
    context: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    labels: 'text[]',
    direction: 'text',
    wh: 'bigint',
    estimated: 'boolean',
    device: 'text',
    height: 'bigint',
    processed_ms: 'bigint',
  },
  key: ['tx_id', 'seq'],
  indexes: [
    ['context', 'period_start_ms'],
    ['context', 'trader', 'height'],
  ],
};

export const MARKET_TABLES: Readonly<Record<string, TableDef>> = {
  energy_market_settings: ENERGY_MARKET_SETTINGS,
  energy_market_periods: ENERGY_MARKET_PERIODS,
  energy_market_positions: ENERGY_MARKET_POSITIONS,
  energy_market_bookings: ENERGY_MARKET_BOOKINGS,
};
