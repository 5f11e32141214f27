// Every code the energy contracts reject a call with (ctx.reject(code, message)). Codes are stable
// sentences: never rename, reuse or renumber one. Each contract declares the codes it uses in its
// `rejects` list, typed against this catalogue, and the compiler holds its ctx.reject calls to that
// list; so a code is used only when it is catalogued here. Only the text of `execute` goes on
// chain, so contracts write their codes as string literals and import this file for types only.

import type { OutcomeCode } from '../core/errors.js';
import type { TxOutcome } from '../chain/types.js';

export interface EnergyRejectCode {
  /** One line: what was wrong. */
  readonly summary: string;
}

export const ENERGY_REJECT_CODES = {
  not_context_owner: {
    summary:
      'Only the owner of the context (the holder of the context address key) may call this contract.',
  },
  trader_not_found: {
    summary: 'The named trader (address or trader field) is not a trader in the context.',
  },
  trader_has_producers: {
    summary:
      'A trader cannot be removed while producers are linked to it; remove or relink them first.',
  },
  trader_has_consumers: {
    summary:
      'A trader cannot be removed while consumers are linked to it; remove or relink them first.',
  },
  producer_not_found: {
    summary: 'The address to remove is not a producer in the context.',
  },
  consumer_not_found: {
    summary: 'The address to remove is not a consumer in the context.',
  },
  sender_not_producer: {
    summary: 'Positive energy (production) must be signed by a producer key of the context.',
  },
  sender_not_consumer: {
    summary: 'Negative energy (consumption) must be signed by a consumer key of the context.',
  },
  sender_not_trader: {
    summary: 'The signer is not a trader in the context.',
  },
  receiver_not_trader: {
    summary: 'The receiver is not a trader in the context.',
  },
  transfer_to_self: {
    summary: 'A trader cannot transfer energy to itself.',
  },
  amount_zero: {
    summary: 'The amount is zero; it must be positive or negative.',
  },
  amount_must_be_positive: {
    summary: 'The amount must be greater than zero.',
  },
  labels_to_remove_empty: {
    summary: 'labelsToRemove is empty; Reduce must remove at least one label.',
  },
  labels_to_remove_not_subset: {
    summary:
      'labelsToRemove holds a label that is not in originalLabels; labels can only be removed, never added.',
  },
  description_too_long: {
    summary: 'The description is longer than 256 characters.',
  },
  block_not_period_start: {
    summary:
      'The block is not the first block of a settlement period of the context; periods are named by their first block.',
  },
  insufficient_energy: {
    summary:
      'The trader holds less than the amount with exactly that label set in that period; trading never makes a balance negative.',
  },
  balance_limit_exceeded: {
    summary: 'The resulting balance would exceed 10^15 Wh (10^12 kWh) in magnitude.',
  },
  meter_reading_invalid: {
    summary:
      'A meter reading needs both register and readingMs; the register must not be negative and sinceMs must be before readingMs.',
  },
  register_required: {
    summary:
      'The device has recorded meter readings in this direction, so every later Energy call of it there must carry register and readingMs.',
  },
  reading_in_future: {
    summary: 'The meter reading is dated more than one hour after the block time.',
  },
  reading_not_newer: {
    summary:
      "The meter reading is not after the device's last reading in this direction (or its sinceMs is before it): a resubmitted or out-of-order reading.",
  },
  register_mismatch: {
    summary:
      "The register does not advance by exactly |amount| from the device's last reading (the first reading may claim at most its register); details in the message: expected and got.",
  },
  period_length_invalid: {
    summary:
      'periodSeconds must be 0 (every block is its own period) or a divisor of 86400 (one day).',
  },
  market_period_length_invalid: {
    summary: "The market's periodSeconds must be a divisor of 86400 (one day) of at least 60.",
  },
  gate_closure_invalid: {
    summary: 'gateClosureSeconds must be at most 86400 (one day).',
  },
  market_mode_invalid: {
    summary:
      'A market that is on needs a way to clear locally: the double auction, the community allocation or both.',
  },
  market_periods_open: {
    summary:
      'The period length of a market cannot change while a period that received energy is not settled.',
  },
  position_limit_exceeded: {
    summary:
      "A trader's production or consumption of one label set in one market period would pass 10^9 Wh (1 GWh).",
  },
  market_not_on: {
    summary:
      "The context's market is not on: never turned on (Market), or turned off when placing an order.",
  },
  period_start_invalid: {
    summary:
      "The time is not the start of a market period: periods start at multiples of the market's period length.",
  },
  price_table_invalid: {
    summary:
      'A price table needs 1 to 2976 periods with a local, a supply and a feed-in price each.',
  },
  price_invalid: {
    summary: 'A price must be EUR per kWh from 0 to 10 with at most 6 decimals, as a decimal text.',
  },
  period_already_settled: {
    summary:
      'The market period is settled already: it cannot be settled again or change its prices.',
  },
  gate_not_closed: {
    summary:
      "A market period can be settled only once the block time reaches its end plus the market's gate closure.",
  },
  prices_missing: {
    summary: 'The market period has no prices; the owner sets them with MarketPrices.',
  },
  earlier_period_unsettled: {
    summary:
      'An earlier market period of the context is not settled yet: periods are settled in order.',
  },
  period_too_large: {
    summary:
      'The market period has 10,000 or more positions of one direction, or the context 10,000 or more orders on one side.',
  },
  order_invalid: {
    summary:
      'An order needs side buy or sell, no labels on a sell, an amount above 0 if any, and toMs not before fromMs.',
  },
  period_closed: {
    summary: 'Orders are only for periods that have not ended yet.',
  },
  period_too_far: {
    summary: 'An order may reach at most 7 days past the block time.',
  },
  order_not_found: {
    summary: 'The context has no order with that id (never placed, or cancelled).',
  },
  order_not_owned: {
    summary: 'Only the trader who placed an order may cancel it.',
  },
  period_not_ended: {
    summary:
      'A correction is for a market period that has ended: its end is at or before the block time.',
  },
  direction_invalid: {
    summary: 'direction must be produced or consumed.',
  },
  correction_too_large: {
    summary: 'A correction of metered market energy is at most 10^9 Wh (1 GWh) in magnitude.',
  },
  chain_id_invalid: {
    summary:
      "A chain id is 1-64 characters of letters, digits, '.', '_', ':' or '-' (the processor's rule).",
  },
  member_device_invalid: {
    summary:
      "A member's producer and consumer must be devices of the context registered to the member trader.",
  },
  member_unknown: {
    summary:
      'The trader is not a member of the parent market (MarketMember links it to a child chain).',
  },
  checkpoint_signer_unknown: {
    summary:
      "A member's position must be signed by the processor key its owner registered for the member (MarketMember).",
  },
  checkpoint_mismatch: {
    summary:
      "A member's position names another chain or child context than the one registered for the member.",
  },
  checkpoint_invalid: {
    summary:
      'A position or settlement between marketplaces is malformed: its directions, labels, kWh amounts, prices or block hash.',
  },
  period_length_mismatch: {
    summary: 'A child marketplace and its parent must use the same market period length.',
  },
  position_after_gate: {
    summary:
      "A member's position reached the parent after the parent's gate closure of that period; the parent's owner settles it externally.",
  },
  position_exists: {
    summary:
      'The parent market holds a position of this member for the period already: one per member and period.',
  },
  checkpoint_out_of_order: {
    summary:
      "A member's positions only move forward: a later period and a later child block than its last position.",
  },
  parent_unknown: {
    summary: 'The context has no parent market (MarketParent).',
  },
  upstream_open: {
    summary:
      "The parent market cannot change while a period's residual waits for its settlement from the parent.",
  },
  upstream_signer_unknown: {
    summary:
      'A settlement from the parent market must be signed by the processor key the owner registered with MarketParent.',
  },
  upstream_mismatch: {
    summary:
      "A settlement from the parent market names another parent, context or member, or does not add up to the period's residual.",
  },
  upstream_not_open: {
    summary:
      'The market period left nothing to settle with the parent market (no residual, or not settled locally yet).',
  },
  upstream_already_settled: {
    summary: "The period's residual was settled with the parent market already.",
  },
  place_out_of_range: {
    summary: 'A position on the community map has x and y from 0 to 10000.',
  },
  place_label_invalid: {
    summary:
      'A map label is at most 32 characters of text without control characters (it is public chain data).',
  },
} as const satisfies Record<string, EnergyRejectCode>;

export type EnergyRejectCodeName = keyof typeof ENERGY_REJECT_CODES;

/** Any code a call of an energy contract can end with: the platform's and the catalogue's. */
export type EnergyOutcomeCode = OutcomeCode<EnergyRejectCodeName>;

/** The outcome of a call of an energy contract. */
export type EnergyTxOutcome = TxOutcome<EnergyRejectCodeName>;

/** The limit on the magnitude of one balance, in Wh (contracts write it as a literal). */
export const ENERGY_BALANCE_WH_MAX = 10n ** 15n;

/** How far a meter reading may be dated after the block time, in ms (Energy writes it as a literal). */
export const ENERGY_READING_AHEAD_MS_MAX = 3_600_000;

/** The longest description Transfer and Mutate accept, in UTF-16 code units. */
export const ENERGY_DESCRIPTION_CHARS_MAX = 256;

/** The largest x and y on the community map (Place writes it as a literal). */
export const PLACE_COORDINATE_MAX = 10_000;

/** The longest map label Place accepts, in UTF-16 code units (Place writes it as a literal). */
export const PLACE_LABEL_CHARS_MAX = 32;

/** The limit on one market position (trader, period, label set, direction), in Wh. */
export const MARKET_POSITION_WH_MAX = 10n ** 9n;

/** The most market periods one reading is spread over (14 days of quarter hours). */
export const MARKET_SPLIT_PERIODS_MAX = 1344;
