// CancelOrder (ours; docs/energy.md, "Orders"): the trader who placed an order takes it back; it
// takes part in no settlement after this.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';

export interface CancelOrderPayload {
  readonly context: string;
  readonly order: string;
}

/** The codes CancelOrder rejects with (src/energy/codes.ts says what each means). */
const REJECTS = ['order_not_found', 'order_not_owned'] as const satisfies readonly EnergyRejectCodeName[];
type CancelOrderRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'CancelOrder',
  version: '1.0',
  description: 'Cancels an order. Only the trader who placed it.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    order: { type: 'str', name: 'order', desc: "The order's id: the id of the transaction that placed it" },
  },
  manifest: energyManifest(['energy_market_orders'], []),
  rejects: REJECTS,
  execute: function execute(payload: CancelOrderPayload, ctx: ContractContext<CancelOrderRejectCode>): ContractResult {
    const context = payload.context;
    const row = ctx.db.find('energy_market_orders', { context, order_id: payload.order.toLowerCase() }, 1)[0];
    if (row === undefined) return ctx.reject('order_not_found', `context ${context} has no order ${payload.order}`);
    if (row['trader'] !== ctx.sender) {
      return ctx.reject('order_not_owned', `order ${payload.order} of context ${context} belongs to ${row['trader']}; only that trader may cancel it, not ${ctx.sender}`);
    }
    ctx.db.delete('energy_market_orders', { context, side: row['side'] as string, price_key: row['price_key'] as bigint, seq: row['seq'] as bigint });
    return 'OK';
  },
});
