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
 * the audit trail of energy_market_positions (their `wh` is the sum of these rows' `wh` that are
 * not `late`) and of energy_market_late.
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
    late: 'boolean',
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

/**
 * Energy metered in a period that was already settled (late), per trader, period, label set and
 * direction; the next settlement of the context settles it as imbalance and deletes the row.
 */
export const ENERGY_MARKET_LATE: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    labels_key: 'text',
    direction: 'text',
    labels: 'text[]',
    wh: 'bigint',
  },
  key: ['context', 'period_start_ms', 'trader', 'labels_key', 'direction'],
};

/**
 * The owner's prices per period, micro-euro per kWh: the local price of the community
 * allocation, the external supplier's supply price and its feed-in price. Written by MarketPrices.
 */
export const ENERGY_MARKET_PRICES: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    local_ueur_per_kwh: 'bigint',
    supply_ueur_per_kwh: 'bigint',
    feed_in_ueur_per_kwh: 'bigint',
    height: 'bigint',
  },
  key: ['context', 'period_start_ms'],
};

/**
 * Standing and single-period orders, keyed so that the store returns them in clearing order:
 * `price_key` is the price for a sell and 10^7 minus the price for a buy, then `seq`.
 * `amount_wh` -1 means the trader's whole position; `labels` are what a buy requires.
 */
export const ENERGY_MARKET_ORDERS: TableDef = {
  columns: {
    context: 'text',
    side: 'text',
    price_key: 'bigint',
    seq: 'bigint',
    order_id: 'text',
    trader: 'text',
    price_ueur_per_kwh: 'bigint',
    amount_wh: 'bigint',
    labels: 'text[]',
    from_ms: 'bigint',
    to_ms: 'bigint',
    height: 'bigint',
  },
  key: ['context', 'side', 'price_key', 'seq'],
  indexes: [['context', 'order_id']],
};

/**
 * How each kWh of a settled period was covered, one row per flow (SettlePeriod): `kind` is own,
 * auction, allocation, supply or export, late_supply / late_export for imbalance of an
 * earlier period (`of_period_ms`), or correction_supply / correction_export for a correction
 * (MarketCorrection) of the period `of_period_ms`; in a context with a parent market also
 * upstream (traded in the parent market, the counterparty there) and upstream_own (the context's
 * own surplus that covered its own deficit in the parent). The owner, or the parent market's
 * counterparty, is the counterparty of external flows. Money is
 * `wh` times the price, in nano-euro.
 */
export const ENERGY_MARKET_FLOWS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    seq: 'bigint',
    kind: 'text',
    seller: 'text',
    buyer: 'text',
    labels: 'text[]',
    wh: 'bigint',
    price_ueur_per_kwh: 'bigint',
    neur: 'bigint',
    of_period_ms: 'bigint',
    height: 'bigint',
  },
  key: ['context', 'period_start_ms', 'seq'],
  indexes: [
    ['context', 'seller', 'period_start_ms'],
    ['context', 'buyer', 'period_start_ms'],
  ],
};

/**
 * Each trader's statement of a settled period (SettlePeriod): what it produced and consumed, used
 * itself, bought and sold locally, was supplied and exported, the energy of earlier periods
 * metered late that this settlement settles (`late_wh`, signed: production positive) and its
 * imbalance settlement (`imbalance_wh`, signed: Wh it received), the corrections of earlier
 * periods that this settlement settles (`corrected_wh`, signed: production positive, from
 * MarketCorrection) and their settlement (`correction_wh`, signed: Wh it received), in Wh and
 * nano-euro, and what it owes (`due_neur`, negative: it is owed). produced - consumed + late +
 * corrected + bought - sold + supplied - exported + imbalance + correction is 0 for every row.
 */
export const ENERGY_MARKET_STATEMENTS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    produced_wh: 'bigint',
    consumed_wh: 'bigint',
    own_use_wh: 'bigint',
    bought_wh: 'bigint',
    bought_neur: 'bigint',
    sold_wh: 'bigint',
    sold_neur: 'bigint',
    supplied_wh: 'bigint',
    supplied_neur: 'bigint',
    exported_wh: 'bigint',
    exported_neur: 'bigint',
    late_wh: 'bigint',
    imbalance_wh: 'bigint',
    imbalance_neur: 'bigint',
    corrected_wh: 'bigint',
    correction_wh: 'bigint',
    correction_neur: 'bigint',
    due_neur: 'bigint',
  },
  key: ['context', 'period_start_ms', 'trader'],
  indexes: [['context', 'trader', 'period_start_ms']],
};

/**
 * Corrections of metered market energy booked by the owner (MarketCorrection), usually from
 * reconciliation against the grid operator's data, one row per transaction in booking order
 * (`seq`): `wh` is the signed change of what the trader metered in `direction` (produced or
 * consumed) in the period starting at `period_start_ms`. `settled_period_ms` is -1 until a
 * settlement settles the correction as imbalance at the prices of its own period, then the start
 * of the period whose settlement did.
 */
export const ENERGY_MARKET_CORRECTIONS: TableDef = {
  columns: {
    context: 'text',
    seq: 'bigint',
    tx_id: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    labels: 'text[]',
    direction: 'text',
    wh: 'bigint',
    description: 'text',
    height: 'bigint',
    settled_period_ms: 'bigint',
  },
  key: ['context', 'seq'],
  indexes: [
    ['context', 'settled_period_ms'],
    ['context', 'trader', 'period_start_ms'],
  ],
};

/** The auction's result per requirement class of a settled period: its uniform price and volume. */
export const ENERGY_MARKET_CLEARINGS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    labels_key: 'text',
    labels: 'text[]',
    price_ueur_per_kwh: 'bigint',
    wh: 'bigint',
  },
  key: ['context', 'period_start_ms', 'labels_key'],
};

/** Counters per context, such as the sequence number of the next order (`order_seq`). */
export const ENERGY_MARKET_COUNTERS: TableDef = {
  columns: { context: 'text', name: 'text', value: 'bigint' },
  key: ['context', 'name'],
};

/**
 * The members of a parent market (decision 0012): traders of this context that stand for a whole
 * child marketplace on another chain (or this one). `processor` is the address of the key that
 * signs the member's positions (the child's processor); positions are booked under the member's
 * `producer` and `consumer` devices. `last_period_ms` and `last_height` (-1 before the first) are
 * the period and child height of the last position: both only move forward.
 */
export const ENERGY_MARKET_MEMBERS: TableDef = {
  columns: {
    context: 'text',
    member: 'text',
    chain: 'text',
    child_context: 'text',
    processor: 'text',
    producer: 'text',
    consumer: 'text',
    last_period_ms: 'bigint',
    last_height: 'bigint',
    height: 'bigint',
  },
  key: ['context', 'member'],
};

/**
 * Each member's position of a period as its child chain's processor signed it (MemberPosition):
 * the child's block at `child_height` with `child_block_hash`, and the Wh booked in each direction.
 */
export const ENERGY_MARKET_MEMBER_POSITIONS: TableDef = {
  columns: {
    context: 'text',
    member: 'text',
    period_start_ms: 'bigint',
    chain: 'text',
    child_height: 'bigint',
    child_block_hash: 'text',
    produced_wh: 'bigint',
    consumed_wh: 'bigint',
    tx_id: 'text',
    height: 'bigint',
  },
  key: ['context', 'member', 'period_start_ms'],
  indexes: [['context', 'period_start_ms']],
};

/**
 * The parent market of a context (MarketParent): what is left after its local settlement goes up
 * to `parent_context` on chain `parent_chain`, whose processor (`parent_processor`, an address)
 * signs what comes back down.
 */
export const ENERGY_MARKET_PARENTS: TableDef = {
  columns: {
    context: 'text',
    parent_chain: 'text',
    parent_context: 'text',
    parent_processor: 'text',
    height: 'bigint',
  },
  key: ['context'],
};

/**
 * What a context with a parent market left over in a period after settling it locally: each
 * trader's remaining deficit (`consumed`, no labels) and surplus (`produced`, the seller's labels),
 * written by SettlePeriod; UpstreamSettlement settles them with what came back from the parent.
 */
export const ENERGY_MARKET_RESIDUALS: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    trader: 'text',
    labels_key: 'text',
    direction: 'text',
    labels: 'text[]',
    wh: 'bigint',
  },
  key: ['context', 'period_start_ms', 'trader', 'labels_key', 'direction'],
};

/**
 * The trip to the parent market of a period that left residual energy: `state` is `open` from
 * the local settlement (at `local_height`, with the residual's `produced_wh` and `consumed_wh`)
 * until UpstreamSettlement settles it (`settled`, at `settled_height`, with the parent's block it
 * was signed at; `missed` when the position did not reach the parent before its gate closure).
 * `flow_seq` is the sequence number the period's next flow gets.
 */
export const ENERGY_MARKET_UPSTREAM: TableDef = {
  columns: {
    context: 'text',
    period_start_ms: 'bigint',
    state: 'text',
    local_height: 'bigint',
    produced_wh: 'bigint',
    consumed_wh: 'bigint',
    flow_seq: 'bigint',
    missed: 'boolean',
    parent_height: 'bigint',
    parent_block_hash: 'text',
    settled_height: 'bigint',
  },
  key: ['context', 'period_start_ms'],
  indexes: [['context', 'state']],
};

export const MARKET_TABLES: Readonly<Record<string, TableDef>> = {
  energy_market_settings: ENERGY_MARKET_SETTINGS,
  energy_market_periods: ENERGY_MARKET_PERIODS,
  energy_market_positions: ENERGY_MARKET_POSITIONS,
  energy_market_bookings: ENERGY_MARKET_BOOKINGS,
  energy_market_late: ENERGY_MARKET_LATE,
  energy_market_prices: ENERGY_MARKET_PRICES,
  energy_market_orders: ENERGY_MARKET_ORDERS,
  energy_market_counters: ENERGY_MARKET_COUNTERS,
  energy_market_flows: ENERGY_MARKET_FLOWS,
  energy_market_statements: ENERGY_MARKET_STATEMENTS,
  energy_market_clearings: ENERGY_MARKET_CLEARINGS,
  energy_market_corrections: ENERGY_MARKET_CORRECTIONS,
  energy_market_members: ENERGY_MARKET_MEMBERS,
  energy_market_member_positions: ENERGY_MARKET_MEMBER_POSITIONS,
  energy_market_parents: ENERGY_MARKET_PARENTS,
  energy_market_residuals: ENERGY_MARKET_RESIDUALS,
  energy_market_upstream: ENERGY_MARKET_UPSTREAM,
};
