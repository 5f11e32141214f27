// The HanzeNet energy contracts, in installation order: every table a contract only reads is
// defined by a contract before it (Trader also defines the producer and consumer tables it reads,
// which breaks the Trader <-> Producer/Consumer cycle). ENERGY_TABLES and ENERGY_REJECT_CODES
// document the tables and the reject codes.

import type { ContractDefinition } from '../contracts/authoring/define.js';
import consumer from './consumer.js';
import energy from './energy.js';
import mutate from './mutate.js';
import producer from './producer.js';
import reduce from './reduce.js';
import settlementPeriod from './settlement-period.js';
import trader from './trader.js';
import transfer from './transfer.js';

export { ENERGY_REJECT_CODES } from './codes.js';
export type { EnergyRejectCode, EnergyRejectCodeName } from './codes.js';
export { ENERGY_TABLES } from './tables.js';
export { consumer, energy, mutate, producer, reduce, settlementPeriod, trader, transfer };

/**
 * Forgets a definition's concrete payload type. Safe because the platform checks every payload
 * against the contract's template before `execute` runs, which guarantees that type.
 */
function erasePayloadType<P>(def: ContractDefinition<P>): ContractDefinition {
  return def as unknown as ContractDefinition;
}

export const ENERGY_CONTRACTS: readonly ContractDefinition[] = [
  trader,
  producer,
  consumer,
  settlementPeriod,
  energy,
  transfer,
  reduce,
  mutate,
].map((def) => erasePayloadType<never>(def));
