// Trader (thesis 6.2.3): the context owner adds or removes a trader. A trader is removed only when
// no producer or consumer links to it, and its balances go with it (recorded in the history as
// `removal`, so the history still adds up to the balances). A trader with more than 1000
// balances takes several calls to remove: each removes 1000, the last one the trader.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult, SandboxRow } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface TraderPayload {
  readonly context: string;
  readonly address: string;
  readonly allowed: boolean;
}

/** The codes Trader rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'trader_not_found',
  'trader_has_producers',
  'trader_has_consumers',
] as const satisfies readonly EnergyRejectCodeName[];
type TraderRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Trader',
  version: '1.0',
  description: 'Adds (allowed true) or removes (allowed false) a trader of a context. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    address: { type: 'addr', name: 'address', desc: 'The trader address to add or remove' },
    allowed: { type: 'bool', name: 'allowed', desc: 'true adds the trader, false removes it and its balances' },
  },
  // Trader also defines the producer and consumer tables (it only reads them) so that no contract
  // reads a table that a contract installed after it defines.
  manifest: energyManifest(
    ['energy_traders', 'energy_producers', 'energy_consumers', 'energy_balances', 'energy_history'],
    [],
  ),
  rejects: REJECTS,
  execute: function execute(payload: TraderPayload, ctx: ContractContext<TraderRejectCode>): ContractResult {
    const BALANCES_PER_CALL = 1000;
    const context = payload.context;
    const address = payload.address;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may add or remove traders; the sender is ${ctx.sender}`);
    }
    const key = { context, address };
    const existing = ctx.db.get('energy_traders', key);
    if (payload.allowed) {
      if (existing === null) ctx.db.put('energy_traders', { context, address, added_height: BigInt(ctx.block.height) });
      return 'OK';
    }
    if (existing === null) {
      return ctx.reject('trader_not_found', `${address} is not a trader in context ${context}, so it cannot be removed`);
    }
    const producers = ctx.db.find('energy_producers', { context, trader: address }, 10);
    if (producers.length > 0) {
      return ctx.reject(
        'trader_has_producers',
        `trader ${address} in context ${context} still has producers linked to it (${producers.map((r) => r['address']).join(', ')}); remove or relink them first`,
      );
    }
    const consumers = ctx.db.find('energy_consumers', { context, trader: address }, 10);
    if (consumers.length > 0) {
      return ctx.reject(
        'trader_has_consumers',
        `trader ${address} in context ${context} still has consumers linked to it (${consumers.map((r) => r['address']).join(', ')}); remove or relink them first`,
      );
    }
    // The balances go in pages of BALANCES_PER_CALL (oldest periods first), so one call stays
    // far below the per-transaction limits on database calls. When more remain, the call is
    // accepted with the trader still in place, and the owner repeats it until the trader is gone.
    const height = BigInt(ctx.block.height);
    const processedMs = BigInt(ctx.block.processedMs);
    const rows: SandboxRow[] = ctx.db.find('energy_balances', { context, trader: address }, BALANCES_PER_CALL);
    let seq = 0n;
    for (const row of rows) {
      const block = row['block'] as bigint;
      ctx.db.delete('energy_balances', { context, trader: address, block, labels_key: row['labels_key'] as string });
      ctx.db.put('energy_history', {
        tx_id: ctx.txId,
        seq,
        context,
        trader: address,
        block,
        period_start_ms: row['period_start_ms'] as bigint,
        labels: row['labels'] as string[],
        delta_wh: -(row['amount_wh'] as bigint),
        kind: 'removal',
        counterparty: '',
        description: 'trader removed from the context',
        height,
        processed_ms: processedMs,
      });
      seq += 1n;
    }
    if (rows.length === BALANCES_PER_CALL && ctx.db.find('energy_balances', { context, trader: address }, 1).length > 0) return 'OK';
    ctx.db.delete('energy_traders', key);
    return 'OK';
  },
});
