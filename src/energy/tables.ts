// The tables of the energy market (docs/energy.md has the SQL view of them). Every contract that
// defines a table uses the very same TableDef object from here, so the definitions can never
// drift apart. This module is used for manifests only: contract code (`execute`) names tables by
// their string names and never imports anything at run time.
//
// Conventions: every table starts its primary key with `context`, so contexts never share a row.
// `block` is always the *first block of a settlement period*, which is how users name a period;
// times are milliseconds since the Unix epoch (`*_ms`); energy is an exact integer count of Wh
// (`*_wh`); a label set is stored canonically (sorted, no duplicates) as `labels` (text[], with a
// GIN index for "all balances carrying label X") and as `labels_key` (the labels joined by ',',
// '' for the empty set), which keeps the primary key scalar. A label can never hold ',', so the
// key is unambiguous.

import type { ContractManifest, TableDef } from '../chain/contract-model.js';
import { MARKET_TABLES } from './market/tables.js';

/** The traders of each context: who may hold a balance, Transfer and Reduce. */
export const ENERGY_TRADERS: TableDef = {
  columns: { context: 'text', address: 'text', added_height: 'bigint' },
  key: ['context', 'address'],
};

/** Producer devices (meter keys); their positive Energy goes to `trader` with `labels`. */
export const ENERGY_PRODUCERS: TableDef = {
  columns: { context: 'text', address: 'text', trader: 'text', labels: 'text[]' },
  key: ['context', 'address'],
  indexes: [['context', 'trader']],
};

/** Consumer devices (meter keys); their negative Energy comes from `trader` with `labels`. */
export const ENERGY_CONSUMERS: TableDef = {
  columns: { context: 'text', address: 'text', trader: 'text', labels: 'text[]' },
  key: ['context', 'address'],
  indexes: [['context', 'trader']],
};

/**
 * Balances per (context, trader, period, label set). A balance that reaches exactly zero is
 * deleted, so the table holds only non-zero balances (the thesis' overview in 6.3).
 */
export const ENERGY_BALANCES: TableDef = {
  columns: {
    context: 'text',
    trader: 'text',
    block: 'bigint',
    period_start_ms: 'bigint',
    labels: 'text[]',
    labels_key: 'text',
    amount_wh: 'bigint',
  },
  key: ['context', 'trader', 'block', 'labels_key'],
  indexes: [['labels'], ['context', 'block']],
};

/**
 * Settlement periods that received energy, per context, named by their first block. `end_ms` is
 * exclusive; a period cut short by a change of the period length ends where the next one starts.
 * Exactly one row per context has `latest` = true: the most recently opened period, which is how
 * Energy finds the period of the current block.
 */
export const ENERGY_PERIODS: TableDef = {
  columns: {
    context: 'text',
    block: 'bigint',
    start_ms: 'bigint',
    end_ms: 'bigint',
    period_ms: 'bigint',
    latest: 'boolean',
  },
  key: ['context', 'block'],
  indexes: [['context', 'latest']],
};

/**
 * The settlement period length the owner chose (no row: 0, every block is its own period). A
 * change applies from the next block, so a block never changes period halfway: `period_ms`
 * applies from block `from_height` on, `previous_period_ms` before it.
 */
export const ENERGY_SETTINGS: TableDef = {
  columns: {
    context: 'text',
    period_ms: 'bigint',
    previous_period_ms: 'bigint',
    from_height: 'bigint',
  },
  key: ['context'],
};

/**
 * Every change of a balance, one row each, so a trader's history can be shown and audited: the
 * sum of `delta_wh` over a context equals the sum of its balances. `kind` is one of energy,
 * transfer, reduce, mutate, removal (a removed trader's balances). `counterparty` is the device
 * for energy, the other trader for transfer, the context owner for mutate, '' otherwise.
 */
export const ENERGY_HISTORY: TableDef = {
  columns: {
    tx_id: 'text',
    seq: 'bigint',
    context: 'text',
    trader: 'text',
    block: 'bigint',
    period_start_ms: 'bigint',
    labels: 'text[]',
    delta_wh: 'bigint',
    kind: 'text',
    counterparty: 'text',
    description: 'text',
    height: 'bigint',
    processed_ms: 'bigint',
  },
  key: ['tx_id', 'seq'],
  indexes: [
    ['context', 'trader', 'height'],
    ['context', 'block'],
  ],
};

/**
 * The last meter reading per device and direction (`returned` for production, `delivered` for
 * consumption), written by Energy calls that carry a register: the register in Wh, the meter's
 * time of the reading, and the height and id of the transaction that recorded it. The next
 * reading must advance `register_wh` by exactly its amount at a later time (docs/energy.md).
 */
export const ENERGY_METER_READINGS: TableDef = {
  columns: {
    context: 'text',
    address: 'text',
    direction: 'text',
    register_wh: 'bigint',
    reading_ms: 'bigint',
    height: 'bigint',
    tx_id: 'text',
  },
  key: ['context', 'address', 'direction'],
};

/**
 * Where each member of a context stands on the community's schematic map (not geographic), set by
 * the owner with Place: `x` and `y` from 0 to 10000, and a short public `label` ('' for none).
 */
export const ENERGY_PLACES: TableDef = {
  columns: {
    context: 'text',
    member: 'text',
    x: 'bigint',
    y: 'bigint',
    label: 'text',
    height: 'bigint',
  },
  key: ['context', 'member'],
};

/** Table name -> definition, for documentation and tests. */
export const ENERGY_TABLES: Readonly<Record<string, TableDef>> = {
  energy_traders: ENERGY_TRADERS,
  energy_producers: ENERGY_PRODUCERS,
  energy_consumers: ENERGY_CONSUMERS,
  energy_balances: ENERGY_BALANCES,
  energy_periods: ENERGY_PERIODS,
  energy_settings: ENERGY_SETTINGS,
  energy_history: ENERGY_HISTORY,
  energy_meter_readings: ENERGY_METER_READINGS,
  energy_places: ENERGY_PLACES,
  ...MARKET_TABLES,
};

/** A manifest from table names: `defines` may be read and written, `reads` only read. */
export function energyManifest(
  defines: readonly string[],
  reads: readonly string[],
): ContractManifest {
  const tables: Record<string, TableDef> = {};
  for (const name of defines) {
    const def = ENERGY_TABLES[name];
    if (def === undefined) throw new Error(`unknown energy table ${name}`);
    tables[name] = def;
  }
  for (const name of reads) {
    if (ENERGY_TABLES[name] === undefined) throw new Error(`unknown energy table ${name}`);
  }
  return { tables, reads: [...reads] };
}
