// MarketParent (ours; decision 0012, "Who is who"): the owner of a market context names the
// parent market it is a member of: the parent's chain id, the parent context and the address of
// the parent processor's key, which signs what comes back down (UpstreamSettlement). From then on
// SettlePeriod leaves what the context could not settle locally as residual for the parent
// instead of supplying and exporting it at the owner's prices. `on: false` removes the parent.
// The parent cannot change while a period's residual waits for the parent.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';

export interface MarketParentPayload {
  readonly context: string;
  readonly on: boolean;
  readonly parentChain?: string;
  readonly parentContext?: string;
  readonly processor?: string;
}

/** The codes MarketParent rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'market_not_on',
  'chain_id_invalid',
  'parent_unknown',
  'upstream_open',
] as const satisfies readonly EnergyRejectCodeName[];
type MarketParentRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'MarketParent',
  version: '1.0',
  description: 'Names the parent market a market context trades its residual in (or removes it). Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    on: { type: 'bool', name: 'on', desc: 'true sets the parent market, false removes it' },
    parentChain: { type: 'str?', name: 'parentChain', desc: "The parent's chain id (needed with on: true)" },
    parentContext: { type: 'addr?', name: 'parentContext', desc: 'The parent context on that chain (needed with on: true)' },
    processor: { type: 'addr?', name: 'processor', desc: "The address of the parent processor's key (needed with on: true)" },
  },
  manifest: energyManifest(['energy_market_parents', 'energy_market_upstream'], ['energy_market_settings']),
  rejects: REJECTS,
  execute: function execute(payload: MarketParentPayload, ctx: ContractContext<MarketParentRejectCode>): ContractResult {
    const context = payload.context;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may set its parent market; the sender is ${ctx.sender}`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null || settings['market_on'] !== true) {
      return ctx.reject('market_not_on', `context ${context} has no market on (Market), so it has nothing to trade in a parent market`);
    }
    const open = ctx.db.find('energy_market_upstream', { context, state: 'open' }, 1)[0];
    if (open !== undefined) {
      return ctx.reject('upstream_open', `the residual of the period starting at ${open['period_start_ms']} of context ${context} waits for its settlement from the parent market; the parent cannot change before it lands`);
    }
    if (!payload.on) {
      if (!ctx.db.delete('energy_market_parents', { context })) return ctx.reject('parent_unknown', `context ${context} has no parent market to remove`);
      return 'OK';
    }
    const chain = payload.parentChain;
    if (chain === undefined || !/^[A-Za-z0-9._:-]{1,64}$/.test(chain)) {
      return ctx.reject('chain_id_invalid', `parentChain ${JSON.stringify(chain ?? null)} is not a chain id: 1-64 characters of letters, digits, '.', '_', ':' or '-'`);
    }
    if (payload.parentContext === undefined || payload.processor === undefined) {
      return ctx.reject('parent_unknown', `a parent market needs parentContext and processor besides parentChain`);
    }
    ctx.db.put('energy_market_parents', { context, parent_chain: chain, parent_context: payload.parentContext, parent_processor: payload.processor, height: BigInt(ctx.block.height) });
    return 'OK';
  },
});
