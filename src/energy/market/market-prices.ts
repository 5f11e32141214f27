// MarketPrices (ours; docs/energy.md, "Prices"): the context owner sets the prices of consecutive
// market periods from `fromMs` on: the local price of the community allocation, and the external
// supplier's supply and feed-in prices (for example from a day-ahead price list). A period's
// prices can be replaced until it is settled.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';
import { priceUeur } from './price.js';

export interface MarketPricesPayload {
  readonly context: string;
  readonly fromMs: number;
  readonly localEur: readonly string[];
  readonly supplyEur: readonly string[];
  readonly feedInEur: readonly string[];
}

/** The codes MarketPrices rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'market_not_on',
  'period_start_invalid',
  'price_table_invalid',
  'price_invalid',
  'period_already_settled',
] as const satisfies readonly EnergyRejectCodeName[];
type MarketPricesRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'MarketPrices',
  version: '1.0',
  description: 'Sets the local, supply and feed-in prices (EUR per kWh) of consecutive market periods. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    fromMs: { type: 'uint', name: 'fromMs', desc: 'Start of the first period, ms since the Unix epoch (a multiple of the period length)' },
    localEur: { type: 'strArray', name: 'localEur', desc: 'Local price per period, EUR per kWh (at most 6 decimals, 0 to 10)' },
    supplyEur: { type: 'strArray', name: 'supplyEur', desc: "The external supplier's supply price per period, EUR per kWh" },
    feedInEur: { type: 'strArray', name: 'feedInEur', desc: "The external supplier's feed-in price per period, EUR per kWh" },
  },
  manifest: energyManifest(['energy_market_prices'], ['energy_market_settings', 'energy_market_periods']),
  rejects: REJECTS,
  helpers: { priceUeur },
  execute: function execute(payload: MarketPricesPayload, ctx: ContractContext<MarketPricesRejectCode>): ContractResult {
    const PERIODS_MAX = 2976;
    const context = payload.context;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may set its market prices; the sender is ${ctx.sender}`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null) return ctx.reject('market_not_on', `context ${context} has never turned its market on (Market)`);
    const periodMs = settings['period_ms'] as bigint;
    const fromMs = BigInt(payload.fromMs);
    if (fromMs % periodMs !== 0n) {
      return ctx.reject('period_start_invalid', `fromMs ${fromMs} is not the start of a period of context ${context}: periods start at multiples of ${periodMs} ms`);
    }
    const count = payload.localEur.length;
    if (count === 0 || count > PERIODS_MAX || payload.supplyEur.length !== count || payload.feedInEur.length !== count) {
      return ctx.reject(
        'price_table_invalid',
        `the price table of context ${context} needs 1 to ${PERIODS_MAX} periods with a local, supply and feed-in price each; got ${count} local, ${payload.supplyEur.length} supply and ${payload.feedInEur.length} feed-in prices`,
      );
    }
    const columns = [
      { name: 'localEur', texts: payload.localEur },
      { name: 'supplyEur', texts: payload.supplyEur },
      { name: 'feedInEur', texts: payload.feedInEur },
    ];
    const rows: { [column: string]: bigint }[] = [];
    for (let i = 0; i < count; i++) rows.push({});
    for (const column of columns) {
      for (let i = 0; i < count; i++) {
        const text = column.texts[i] as string;
        const ueur = priceUeur(text);
        if (ueur === null) {
          return ctx.reject('price_invalid', `${column.name}[${i}] is ${JSON.stringify(text)}: a price is EUR per kWh from 0 to 10 with at most 6 decimals, such as "0.23"`);
        }
        (rows[i] as { [column: string]: bigint })[column.name] = ueur;
      }
    }
    const height = BigInt(ctx.block.height);
    for (let i = 0; i < count; i++) {
      const startMs = fromMs + BigInt(i) * periodMs;
      const period = ctx.db.get('energy_market_periods', { context, period_start_ms: startMs });
      if (period !== null && period['settled'] === true) {
        return ctx.reject('period_already_settled', `the period starting at ${startMs} of context ${context} is settled; its prices can no longer change`);
      }
      const row = rows[i] as { [column: string]: bigint };
      ctx.db.put('energy_market_prices', {
        context,
        period_start_ms: startMs,
        local_ueur_per_kwh: row['localEur'] as bigint,
        supply_ueur_per_kwh: row['supplyEur'] as bigint,
        feed_in_ueur_per_kwh: row['feedInEur'] as bigint,
        height,
      });
    }
    return 'OK';
  },
});
