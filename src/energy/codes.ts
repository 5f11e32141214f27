// Every code the energy contracts reject a call with (ctx.reject(code, message)). Codes are stable
// sentences: never rename, reuse or renumber one. This list is documentation and is checked by
// tests against the contract sources and docs/energy.md; contract code does not import it (only
// the text of `execute` goes on chain, so each contract writes its codes as string literals).

export interface EnergyRejectCode {
  /** One line: what was wrong. */
  readonly summary: string;
  /** The contract types that use the code. */
  readonly contracts: readonly string[];
}

export const ENERGY_REJECT_CODES = {
  not_context_owner: {
    summary: 'Only the owner of the context (the holder of the context address key) may call this contract.',
    contracts: ['Trader', 'Producer', 'Consumer', 'Mutate', 'SettlementPeriod'],
  },
  trader_not_found: {
    summary: 'The named trader (address or trader field) is not a trader in the context.',
    contracts: ['Trader', 'Producer', 'Consumer', 'Mutate'],
  },
  trader_has_producers: {
    summary: 'A trader cannot be removed while producers are linked to it; remove or relink them first.',
    contracts: ['Trader'],
  },
  trader_has_consumers: {
    summary: 'A trader cannot be removed while consumers are linked to it; remove or relink them first.',
    contracts: ['Trader'],
  },
  producer_not_found: {
    summary: 'The address to remove is not a producer in the context.',
    contracts: ['Producer'],
  },
  consumer_not_found: {
    summary: 'The address to remove is not a consumer in the context.',
    contracts: ['Consumer'],
  },
  sender_not_producer: {
    summary: 'Positive energy (production) must be signed by a producer key of the context.',
    contracts: ['Energy'],
  },
  sender_not_consumer: {
    summary: 'Negative energy (consumption) must be signed by a consumer key of the context.',
    contracts: ['Energy'],
  },
  sender_not_trader: {
    summary: 'The signer is not a trader in the context.',
    contracts: ['Transfer', 'Reduce'],
  },
  receiver_not_trader: {
    summary: 'The receiver is not a trader in the context.',
    contracts: ['Transfer'],
  },
  transfer_to_self: {
    summary: 'A trader cannot transfer energy to itself.',
    contracts: ['Transfer'],
  },
  amount_zero: {
    summary: 'The amount is zero; it must be positive or negative.',
    contracts: ['Energy', 'Mutate'],
  },
  amount_must_be_positive: {
    summary: 'The amount must be greater than zero.',
    contracts: ['Transfer', 'Reduce'],
  },
  labels_to_remove_empty: {
    summary: 'labelsToRemove is empty; Reduce must remove at least one label.',
    contracts: ['Reduce'],
  },
  labels_to_remove_not_subset: {
    summary: 'labelsToRemove holds a label that is not in originalLabels; labels can only be removed, never added.',
    contracts: ['Reduce'],
  },
  description_too_long: {
    summary: 'The description is longer than 256 characters.',
    contracts: ['Transfer', 'Mutate'],
  },
  block_not_period_start: {
    summary: 'The block is not the first block of a settlement period of the context; periods are named by their first block.',
    contracts: ['Transfer', 'Reduce', 'Mutate'],
  },
  insufficient_energy: {
    summary: 'The trader holds less than the amount with exactly that label set in that period; trading never makes a balance negative.',
    contracts: ['Transfer', 'Reduce'],
  },
  balance_limit_exceeded: {
    summary: 'The resulting balance would exceed 10^15 Wh (10^12 kWh) in magnitude.',
    contracts: ['Energy', 'Transfer', 'Reduce', 'Mutate'],
  },
  meter_reading_invalid: {
    summary: 'A meter reading needs both register and readingMs; the register must not be negative and sinceMs must be before readingMs.',
    contracts: ['Energy'],
  },
  register_required: {
    summary: 'The device has recorded meter readings in this direction, so every later Energy call of it there must carry register and readingMs.',
    contracts: ['Energy'],
  },
  reading_in_future: {
    summary: 'The meter reading is dated more than one hour after the block time.',
    contracts: ['Energy'],
  },
  reading_not_newer: {
    summary: "The meter reading is not after the device's last reading in this direction (or its sinceMs is before it): a resubmitted or out-of-order reading.",
    contracts: ['Energy'],
  },
  register_mismatch: {
    summary: "The register does not advance by exactly |amount| from the device's last reading (the first reading may claim at most its register); details in the message: expected and got.",
    contracts: ['Energy'],
  },
  period_length_invalid: {
    summary: 'periodSeconds must be 0 (every block is its own period) or a divisor of 86400 (one day).',
    contracts: ['SettlementPeriod'],
  },
} as const satisfies Record<string, EnergyRejectCode>;

export type EnergyRejectCodeName = keyof typeof ENERGY_REJECT_CODES;

/** The limit on the magnitude of one balance, in Wh (contracts write it as a literal). */
export const ENERGY_BALANCE_WH_MAX = 10n ** 15n;

/** How far a meter reading may be dated after the block time, in ms (Energy writes it as a literal). */
export const ENERGY_READING_AHEAD_MS_MAX = 3_600_000;

/** The longest description Transfer and Mutate accept, in UTF-16 code units. */
export const ENERGY_DESCRIPTION_CHARS_MAX = 256;
