// The HanzeNet energy contracts, in installation order: every table a contract only reads is
// defined by a contract before it (Trader also defines the producer and consumer tables it reads,
// which breaks the Trader <-> Producer/Consumer cycle; Market defines the market period table that
// it reads and Energy writes). ENERGY_TABLES and ENERGY_REJECT_CODES
// document the tables and the reject codes; each contract's `rejects` says which codes it uses.

import type { ContractDefinition } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import consumer from './consumer.js';
import energy from './energy.js';
import market from './market/market.js';
import marketCorrection from './market/market-correction.js';
import marketMember from './market/market-member.js';
import marketParent from './market/market-parent.js';
import memberPosition from './market/member-position.js';
import upstreamSettlement from './market/upstream-settlement.js';
import marketPrices from './market/market-prices.js';
import order from './market/order.js';
import cancelOrder from './market/cancel-order.js';
import settlePeriod from './market/settle-period.js';
import mutate from './mutate.js';
import place from './place.js';
import producer from './producer.js';
import reduce from './reduce.js';
import settlementPeriod from './settlement-period.js';
import trader from './trader.js';
import transfer from './transfer.js';

export { ENERGY_REJECT_CODES } from './codes.js';
export type {
  EnergyOutcomeCode,
  EnergyRejectCode,
  EnergyRejectCodeName,
  EnergyTxOutcome,
} from './codes.js';
export { ENERGY_TABLES } from './tables.js';
export {
  cancelOrder,
  consumer,
  energy,
  market,
  marketCorrection,
  marketMember,
  marketParent,
  marketPrices,
  memberPosition,
  mutate,
  order,
  place,
  producer,
  reduce,
  settlePeriod,
  settlementPeriod,
  trader,
  transfer,
  upstreamSettlement,
};

/**
 * Forgets a definition's concrete payload type. Safe because the platform checks every payload
 * against the contract's template before `execute` runs, which guarantees that type.
 */
function erasePayloadType<P>(
  def: ContractDefinition<P, EnergyRejectCodeName>,
): EnergyContractDefinition {
  return def as unknown as EnergyContractDefinition;
}

/** An energy contract: its payload type forgotten, its reject codes those of the catalogue. */
export type EnergyContractDefinition = ContractDefinition<
  Record<string, unknown>,
  EnergyRejectCodeName
>;

export const ENERGY_CONTRACTS: readonly EnergyContractDefinition[] = [
  trader,
  producer,
  consumer,
  settlementPeriod,
  market,
  energy,
  marketPrices,
  order,
  cancelOrder,
  marketParent,
  settlePeriod,
  transfer,
  reduce,
  mutate,
  marketCorrection,
  marketMember,
  memberPosition,
  upstreamSettlement,
  place,
].map((def) => erasePayloadType<never>(def));

/**
 * The contract types that declare each reject code, in installation order: the "contracts"
 * column of docs/errors.md. Derived from the declarations, so it cannot drift from the code.
 */
export function contractsByRejectCode(): Map<EnergyRejectCodeName, string[]> {
  const out = new Map<EnergyRejectCodeName, string[]>();
  for (const def of ENERGY_CONTRACTS) {
    for (const code of def.rejects ?? []) out.set(code, [...(out.get(code) ?? []), def.type]);
  }
  return out;
}
