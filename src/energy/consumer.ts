// Consumer (thesis 6.2.2): the context owner allows a consumer key (a meter) and links it to the
// trader whose balance its consumption comes from, with the label set of that energy (5.4.2:
// labels are set per device by the owner, never by users), or removes it.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface ConsumerPayload {
  readonly context: string;
  readonly address: string;
  readonly allowed: boolean;
  readonly trader: string;
  readonly labels: readonly string[];
}

/** The codes Consumer rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'trader_not_found',
  'consumer_not_found',
] as const satisfies readonly EnergyRejectCodeName[];
type ConsumerRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Consumer',
  version: '1.0',
  description: 'Adds, updates (allowed true) or removes (allowed false) a consumer of a context. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    address: { type: 'addr', name: 'address', desc: 'The consumer (meter) address' },
    allowed: { type: 'bool', name: 'allowed', desc: 'true adds or updates the consumer, false removes it' },
    trader: { type: 'addr', name: 'trader', desc: 'The trader whose balance the consumption comes from (ignored when removing)' },
    labels: { type: 'labels', name: 'labels', desc: 'The labels of the consumed energy, usually [] (ignored when removing)' },
  },
  manifest: energyManifest(['energy_consumers'], ['energy_traders']),
  rejects: REJECTS,
  execute: function execute(payload: ConsumerPayload, ctx: ContractContext<ConsumerRejectCode>): ContractResult {
    const context = payload.context;
    const address = payload.address;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may add or remove consumers; the sender is ${ctx.sender}`);
    }
    if (!payload.allowed) {
      if (!ctx.db.delete('energy_consumers', { context, address })) {
        return ctx.reject('consumer_not_found', `${address} is not a consumer in context ${context}, so it cannot be removed`);
      }
      return 'OK';
    }
    if (ctx.db.get('energy_traders', { context, address: payload.trader }) === null) {
      return ctx.reject('trader_not_found', `${payload.trader} is not a trader in context ${context}; add it with Trader before linking consumer ${address} to it`);
    }
    // The template hands over a canonical set; sorting again keeps the stored form canonical
    // whatever the caller of this code did.
    const labels = [...new Set(payload.labels)].sort();
    ctx.db.put('energy_consumers', { context, address, trader: payload.trader, labels });
    return 'OK';
  },
});
