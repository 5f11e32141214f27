// MarketMember (ours; decision 0012, "Who is who"): the owner of a parent market links one of its
// traders to a child marketplace: the child's chain id and context, the address of the child
// processor's key (which signs the member's positions, MemberPosition) and the producer and
// consumer devices, registered to the trader, under which its positions are booked. A second call
// replaces the link (a new processor key, say) and keeps the member's last period and height.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';

export interface MarketMemberPayload {
  readonly context: string;
  readonly member: string;
  readonly chain: string;
  readonly childContext: string;
  readonly processor: string;
  readonly producer: string;
  readonly consumer: string;
}

/** The codes MarketMember rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'market_not_on',
  'trader_not_found',
  'member_device_invalid',
  'chain_id_invalid',
] as const satisfies readonly EnergyRejectCodeName[];
type MarketMemberRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'MarketMember',
  version: '1.0',
  description: 'Links a trader of a parent market to the child marketplace it stands for. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    member: { type: 'addr', name: 'member', desc: "The trader that stands for the child marketplace (the child context's address)" },
    chain: { type: 'str', name: 'chain', desc: "The child's chain id" },
    childContext: { type: 'addr', name: 'childContext', desc: 'The child context on that chain' },
    processor: { type: 'addr', name: 'processor', desc: "The address of the child processor's key, which signs the member's positions" },
    producer: { type: 'addr', name: 'producer', desc: "The member's producer device in this context" },
    consumer: { type: 'addr', name: 'consumer', desc: "The member's consumer device in this context" },
  },
  manifest: energyManifest(['energy_market_members'], ['energy_market_settings', 'energy_traders', 'energy_producers', 'energy_consumers']),
  rejects: REJECTS,
  execute: function execute(payload: MarketMemberPayload, ctx: ContractContext<MarketMemberRejectCode>): ContractResult {
    const context = payload.context;
    const member = payload.member;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may link members to child marketplaces; the sender is ${ctx.sender}`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null || settings['market_on'] !== true) {
      return ctx.reject('market_not_on', `context ${context} has no market on (Market), so it cannot have members`);
    }
    if (ctx.db.get('energy_traders', { context, address: member }) === null) {
      return ctx.reject('trader_not_found', `${member} is not a trader in context ${context}; register it with Trader first`);
    }
    const producer = ctx.db.get('energy_producers', { context, address: payload.producer });
    if (producer === null || producer['trader'] !== member) {
      return ctx.reject('member_device_invalid', `${payload.producer} is not a producer of trader ${member} in context ${context}`);
    }
    const consumer = ctx.db.get('energy_consumers', { context, address: payload.consumer });
    if (consumer === null || consumer['trader'] !== member) {
      return ctx.reject('member_device_invalid', `${payload.consumer} is not a consumer of trader ${member} in context ${context}`);
    }
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(payload.chain)) {
      return ctx.reject('chain_id_invalid', `chain ${JSON.stringify(payload.chain)} is not a chain id: 1-64 characters of letters, digits, '.', '_', ':' or '-'`);
    }
    const current = ctx.db.get('energy_market_members', { context, member });
    ctx.db.put('energy_market_members', {
      context,
      member,
      chain: payload.chain,
      child_context: payload.childContext,
      processor: payload.processor,
      producer: payload.producer,
      consumer: payload.consumer,
      last_period_ms: current === null ? -1n : (current['last_period_ms'] as bigint),
      last_height: current === null ? -1n : (current['last_height'] as bigint),
      height: BigInt(ctx.block.height),
    });
    return 'OK';
  },
});
