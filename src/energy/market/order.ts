// Order (ours; docs/energy.md, "Orders"): a trader places a buy or sell order for the double
// auction of its context's market, for one period or standing over a range of periods: a limit
// price (EUR per kWh), an amount per period or "my whole position" (no amount), and for a buy
// the labels the energy must carry. The order's id is its transaction's id; its sequence number
// in the context decides between equal prices. CancelOrder takes it back.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';
import { kwh } from '../helpers.js';
import { priceUeur } from './price.js';

export interface OrderPayload {
  readonly context: string;
  readonly side: string;
  readonly priceEur: string;
  readonly amount?: bigint;
  readonly labels: readonly string[];
  readonly fromMs: number;
  readonly toMs?: number;
}

/** The codes Order rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'sender_not_trader',
  'market_not_on',
  'order_invalid',
  'price_invalid',
  'period_start_invalid',
  'period_closed',
  'period_too_far',
] as const satisfies readonly EnergyRejectCodeName[];
type OrderRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Order',
  version: '1.0',
  description: "Places a buy or sell order in the double auction of a context's market, for one period or a range. Only a trader.",
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    side: { type: 'str', name: 'side', desc: 'buy or sell' },
    priceEur: { type: 'str', name: 'priceEur', desc: 'Limit price, EUR per kWh (at most 6 decimals, 0 to 10): the most a buy pays, the least a sell takes' },
    amount: { type: 'kwh?', name: 'amount', desc: 'Optional: most kWh to trade per period (leave out: the whole position)' },
    labels: { type: 'labels', name: 'labels', desc: 'For a buy: labels the energy must carry (e.g. ["solar"]); a sell gives []' },
    fromMs: { type: 'uint', name: 'fromMs', desc: 'Start of the first period, ms since the Unix epoch' },
    toMs: { type: 'uint?', name: 'toMs', desc: 'Optional: start of the last period (default: fromMs, one period)' },
  },
  manifest: energyManifest(['energy_market_orders', 'energy_market_counters'], ['energy_traders', 'energy_market_settings']),
  rejects: REJECTS,
  helpers: { kwh, priceUeur },
  execute: function execute(payload: OrderPayload, ctx: ContractContext<OrderRejectCode>): ContractResult {
    const PRICE_KEY_BASE = 10000000n;
    const AHEAD_MS_MAX = 604800000n;
    const context = payload.context;
    const nowMs = BigInt(ctx.block.processedMs);
    if (ctx.db.get('energy_traders', { context, address: ctx.sender }) === null) {
      return ctx.reject('sender_not_trader', `${ctx.sender} is not a trader in context ${context}, so it cannot place orders`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null || settings['market_on'] !== true) return ctx.reject('market_not_on', `the market of context ${context} is not on, so it takes no orders`);
    const side = payload.side;
    if (side !== 'buy' && side !== 'sell') return ctx.reject('order_invalid', `side must be "buy" or "sell", got ${JSON.stringify(side)}`);
    if (side === 'sell' && payload.labels.length > 0) {
      return ctx.reject('order_invalid', `a sell order offers the seller's energy with the labels it has; give labels [] (got [${payload.labels.join(', ')}])`);
    }
    if (payload.amount !== undefined && payload.amount <= 0n) {
      return ctx.reject('order_invalid', `the amount of an order must be more than 0 kWh (leave it out for the whole position), got ${kwh(payload.amount)}`);
    }
    const price = priceUeur(payload.priceEur);
    if (price === null) {
      return ctx.reject('price_invalid', `priceEur is ${JSON.stringify(payload.priceEur)}: a price is EUR per kWh from 0 to 10 with at most 6 decimals, such as "0.23"`);
    }
    const periodMs = settings['period_ms'] as bigint;
    const fromMs = BigInt(payload.fromMs);
    const toMs = payload.toMs === undefined ? fromMs : BigInt(payload.toMs);
    if (fromMs % periodMs !== 0n || toMs % periodMs !== 0n) {
      return ctx.reject('period_start_invalid', `fromMs ${fromMs} and toMs ${toMs} must be period starts of context ${context}: multiples of ${periodMs} ms`);
    }
    if (toMs < fromMs) return ctx.reject('order_invalid', `toMs ${toMs} is before fromMs ${fromMs}`);
    if (fromMs + periodMs <= nowMs) {
      return ctx.reject('period_closed', `the period starting at ${fromMs} of context ${context} has ended (block time ${nowMs}); orders are for periods that have not ended`);
    }
    if (toMs > nowMs + AHEAD_MS_MAX) {
      return ctx.reject('period_too_far', `the order reaches the period starting at ${toMs}, more than ${AHEAD_MS_MAX} ms (7 days) after the block time ${nowMs}`);
    }
    const counterKey = { context, name: 'order_seq' };
    const counter = ctx.db.get('energy_market_counters', counterKey);
    const seq = counter === null ? 1n : (counter['value'] as bigint) + 1n;
    ctx.db.put('energy_market_counters', { ...counterKey, value: seq });
    ctx.db.put('energy_market_orders', {
      context,
      side,
      price_key: side === 'sell' ? price : PRICE_KEY_BASE - price,
      seq,
      order_id: ctx.txId,
      trader: ctx.sender,
      price_ueur_per_kwh: price,
      amount_wh: payload.amount === undefined ? -1n : payload.amount,
      labels: [...payload.labels],
      from_ms: fromMs,
      to_ms: toMs,
      height: BigInt(ctx.block.height),
    });
    return 'OK';
  },
});
