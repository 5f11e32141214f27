// Producer (thesis 6.2.1): the context owner allows a producer key (a meter) and links it to the
// trader that receives its energy, with the label set applied to that energy (5.4.2: labels are
// set per device by the owner, never by users), or removes it.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface ProducerPayload {
  readonly context: string;
  readonly address: string;
  readonly allowed: boolean;
  readonly trader: string;
  readonly labels: readonly string[];
}

/** The codes Producer rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'trader_not_found',
  'producer_not_found',
] as const satisfies readonly EnergyRejectCodeName[];
type ProducerRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Producer',
  version: '1.0',
  description: 'Adds, updates (allowed true) or removes (allowed false) a producer of a context. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    address: { type: 'addr', name: 'address', desc: 'The producer (meter) address' },
    allowed: { type: 'bool', name: 'allowed', desc: 'true adds or updates the producer, false removes it' },
    trader: { type: 'addr', name: 'trader', desc: 'The trader whose balance receives the production (ignored when removing)' },
    labels: { type: 'labels', name: 'labels', desc: 'The labels of the produced energy, e.g. ["solar"] (ignored when removing)' },
  },
  manifest: energyManifest(['energy_producers'], ['energy_traders']),
  rejects: REJECTS,
  execute: function execute(payload: ProducerPayload, ctx: ContractContext<ProducerRejectCode>): ContractResult {
    const context = payload.context;
    const address = payload.address;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may add or remove producers; the sender is ${ctx.sender}`);
    }
    if (!payload.allowed) {
      if (!ctx.db.delete('energy_producers', { context, address })) {
        return ctx.reject('producer_not_found', `${address} is not a producer in context ${context}, so it cannot be removed`);
      }
      return 'OK';
    }
    if (ctx.db.get('energy_traders', { context, address: payload.trader }) === null) {
      return ctx.reject('trader_not_found', `${payload.trader} is not a trader in context ${context}; add it with Trader before linking producer ${address} to it`);
    }
    // The template hands over a canonical set; sorting again keeps the stored form canonical
    // whatever the caller of this code did.
    const labels = [...new Set(payload.labels)].sort();
    ctx.db.put('energy_producers', { context, address, trader: payload.trader, labels });
    return 'OK';
  },
});
