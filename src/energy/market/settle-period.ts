// SettlePeriod (ours; docs/decisions/0011-local-market.md, docs/energy.md "Settling a period"):
// anyone may settle a market period once its gate has closed (the block time is at least the
// period's end plus the owner's gate closure). Locally first (own use, the double auction, the
// community allocation), then externally at the owner's supply and feed-in prices; energy that
// arrived late for periods settled before is settled here too, as imbalance, at the prices of its
// own period, and so are the owner's corrections (MarketCorrection) not settled yet. In a context
// with a parent market (MarketParent), what is left after the local steps is not supplied and
// exported but kept as residual for the parent (decision 0012). Writes every
// flow, the auction's class prices and each trader's statement, and marks the period settled:
// after it every trader's position in the period is zero.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult, SandboxRow } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';
import { carriesLabels, clearMarketPeriod, compareFewestFirst, compareSpecificFirst } from './clearing.js';
import { shareByWeight } from './share.js';
import type { ClearingFlow, ClearingOrder, ClearingPosition } from './clearing.js';

export interface SettlePeriodPayload {
  readonly context: string;
  readonly periodStartMs: number;
}

/** The codes SettlePeriod rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'market_not_on',
  'period_start_invalid',
  'gate_not_closed',
  'period_already_settled',
  'earlier_period_unsettled',
  'prices_missing',
  'period_too_large',
] as const satisfies readonly EnergyRejectCodeName[];
type SettlePeriodRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'SettlePeriod',
  version: '1.0',
  description: 'Settles a market period after its gate closure: locally first, then externally. Anyone may call it.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    periodStartMs: { type: 'uint', name: 'periodStartMs', desc: 'Start of the period, ms since the Unix epoch' },
  },
  // A period of 10,000 orders and their traders needs more than one transaction's usual budget
  // (decision 0011, "How big a period may be"; bench/clearing.ts measures it).
  manifest: {
    ...energyManifest(
      ['energy_market_periods', 'energy_market_positions', 'energy_market_late', 'energy_market_orders', 'energy_market_flows', 'energy_market_statements', 'energy_market_clearings', 'energy_market_corrections', 'energy_market_residuals', 'energy_market_upstream'],
      ['energy_market_settings', 'energy_market_prices', 'energy_market_parents'],
    ),
    budget: 'settlement',
  },
  rejects: REJECTS,
  helpers: { carriesLabels, compareSpecificFirst, compareFewestFirst, shareByWeight, clearMarketPeriod },
  execute: function execute(payload: SettlePeriodPayload, ctx: ContractContext<SettlePeriodRejectCode>): ContractResult {
    const ROWS_MAX = 10000;
    const LATE_ROWS_PER_SETTLEMENT = 1000;
    const CORRECTIONS_PER_SETTLEMENT = 500;
    const context = payload.context;
    const startMs = BigInt(payload.periodStartMs);
    const nowMs = BigInt(ctx.block.processedMs);
    const height = BigInt(ctx.block.height);
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null) return ctx.reject('market_not_on', `context ${context} has never turned its market on (Market)`);
    const periodMs = settings['period_ms'] as bigint;
    if (startMs % periodMs !== 0n) {
      return ctx.reject('period_start_invalid', `${startMs} is not the start of a period of context ${context}: periods start at multiples of ${periodMs} ms`);
    }
    const gateMs = startMs + periodMs + (settings['gate_closure_ms'] as bigint);
    if (nowMs < gateMs) {
      return ctx.reject('gate_not_closed', `the period starting at ${startMs} of context ${context} may be settled from ${gateMs} on (its end plus the gate closure); the block time is ${nowMs}`);
    }
    const period = ctx.db.get('energy_market_periods', { context, period_start_ms: startMs });
    if (period !== null && period['settled'] === true) {
      return ctx.reject('period_already_settled', `the period starting at ${startMs} of context ${context} is settled already`);
    }
    // Periods settle in order, so that an order whose last period is settled can be removed.
    const unsettled = ctx.db.find('energy_market_periods', { context, settled: false }, 1)[0];
    if (unsettled !== undefined && (unsettled['period_start_ms'] as bigint) < startMs) {
      return ctx.reject('earlier_period_unsettled', `the period starting at ${unsettled['period_start_ms']} of context ${context} is not settled yet; periods are settled in order`);
    }
    const prices = ctx.db.get('energy_market_prices', { context, period_start_ms: startMs });
    if (prices === null) {
      return ctx.reject('prices_missing', `context ${context} has no prices for the period starting at ${startMs}; its owner sets them with MarketPrices`);
    }
    const positionRows: SandboxRow[] = [];
    for (const direction of ['produced', 'consumed']) {
      const rows = ctx.db.find('energy_market_positions', { context, period_start_ms: startMs, direction }, ROWS_MAX);
      if (rows.length === ROWS_MAX) return ctx.reject('period_too_large', `the period starting at ${startMs} of context ${context} has ${ROWS_MAX} or more ${direction} positions; at most ${ROWS_MAX - 1} can be settled`);
      for (const row of rows) positionRows.push(row);
    }
    const auction = settings['auction'] === true;
    const orderRows: SandboxRow[] = [];
    const expiredOrders: SandboxRow[] = [];
    for (const side of ['buy', 'sell']) {
      const rows = ctx.db.find('energy_market_orders', { context, side }, ROWS_MAX);
      if (rows.length === ROWS_MAX) return ctx.reject('period_too_large', `context ${context} has ${ROWS_MAX} or more ${side} orders; at most ${ROWS_MAX - 1} per side can be settled`);
      for (const row of rows) {
        if (auction && (row['from_ms'] as bigint) <= startMs && startMs <= (row['to_ms'] as bigint)) orderRows.push(row);
        if ((row['to_ms'] as bigint) <= startMs) expiredOrders.push(row);
      }
    }
    const positions: ClearingPosition[] = positionRows.map((r) => ({ trader: r['trader'] as string, labels: r['labels'] as string[], direction: r['direction'] as string, wh: r['wh'] as bigint }));
    const orders: ClearingOrder[] = orderRows.map((r) => {
      const amountWh = r['amount_wh'] as bigint;
      return { seq: r['seq'] as bigint, trader: r['trader'] as string, side: r['side'] as string, priceUeur: r['price_ueur_per_kwh'] as bigint, amountWh: amountWh < 0n ? null : amountWh, labels: r['labels'] as string[] };
    });
    const result = clearMarketPeriod({
      owner: context,
      positions,
      orders,
      auction,
      allocation: settings['allocation'] === true,
      localUeur: prices['local_ueur_per_kwh'] as bigint,
      supplyUeur: prices['supply_ueur_per_kwh'] as bigint,
      feedInUeur: prices['feed_in_ueur_per_kwh'] as bigint,
    });

    // Late energy of periods settled before: imbalance at the prices of its own period.
    const lateFlows: { flow: ClearingFlow; ofMs: bigint }[] = [];
    for (const late of ctx.db.find('energy_market_late', { context }, LATE_ROWS_PER_SETTLEMENT)) {
      const ofMs = late['period_start_ms'] as bigint;
      const own = ctx.db.get('energy_market_prices', { context, period_start_ms: ofMs });
      const ofPrices = own === null ? prices : own;
      const trader = late['trader'] as string;
      const wh = late['wh'] as bigint;
      const produced = late['direction'] === 'produced';
      const priceUeur = (produced ? ofPrices['feed_in_ueur_per_kwh'] : ofPrices['supply_ueur_per_kwh']) as bigint;
      const flow = produced
        ? { kind: 'late_export', seller: trader, buyer: context, labels: late['labels'] as string[], wh, priceUeur, neur: wh * priceUeur }
        : { kind: 'late_supply', seller: context, buyer: trader, labels: [], wh, priceUeur, neur: wh * priceUeur };
      lateFlows.push({ flow, ofMs });
      ctx.db.delete('energy_market_late', { context, period_start_ms: ofMs, trader, labels_key: late['labels_key'] as string, direction: late['direction'] as string });
    }

    // Corrections (MarketCorrection) not settled yet, oldest first: imbalance at the prices of
    // their own period, like late energy; each row is marked with this period, so once only.
    const correctionFlows: { flow: ClearingFlow; ofMs: bigint }[] = [];
    const pricesOf = new Map<bigint, SandboxRow>();
    for (const correction of ctx.db.find('energy_market_corrections', { context, settled_period_ms: -1n }, CORRECTIONS_PER_SETTLEMENT)) {
      const ofMs = correction['period_start_ms'] as bigint;
      let ofPrices = pricesOf.get(ofMs);
      if (ofPrices === undefined) {
        const own = ctx.db.get('energy_market_prices', { context, period_start_ms: ofMs });
        ofPrices = own === null ? prices : own;
        pricesOf.set(ofMs, ofPrices);
      }
      const trader = correction['trader'] as string;
      const produced = correction['direction'] === 'produced';
      const signedWh = correction['wh'] as bigint;
      // Production positive: more production or less consumption than was booked.
      const productionWh = produced ? signedWh : -signedWh;
      const wh = productionWh < 0n ? -productionWh : productionWh;
      const priceUeur = (produced ? ofPrices['feed_in_ueur_per_kwh'] : ofPrices['supply_ueur_per_kwh']) as bigint;
      const flow = productionWh > 0n
        ? { kind: 'correction_export', seller: trader, buyer: context, labels: correction['labels'] as string[], wh, priceUeur, neur: wh * priceUeur }
        : { kind: 'correction_supply', seller: context, buyer: trader, labels: [], wh, priceUeur, neur: wh * priceUeur };
      correctionFlows.push({ flow, ofMs });
      ctx.db.put('energy_market_corrections', { ...correction, settled_period_ms: startMs });
    }

    // Statements, flows and the auction's classes.
    const statements = new Map<string, { [field: string]: bigint }>();
    const statementOf = (trader: string): { [field: string]: bigint } => {
      let s = statements.get(trader);
      if (s === undefined) {
        s = { produced_wh: 0n, consumed_wh: 0n, own_use_wh: 0n, bought_wh: 0n, bought_neur: 0n, sold_wh: 0n, sold_neur: 0n, supplied_wh: 0n, supplied_neur: 0n, exported_wh: 0n, exported_neur: 0n, late_wh: 0n, imbalance_wh: 0n, imbalance_neur: 0n, corrected_wh: 0n, correction_wh: 0n, correction_neur: 0n };
        statements.set(trader, s);
      }
      return s;
    };
    const add = (trader: string, field: string, amount: bigint): void => {
      const s = statementOf(trader);
      s[field] = (s[field] as bigint) + amount;
    };
    for (const p of positions) add(p.trader, p.direction === 'produced' ? 'produced_wh' : 'consumed_wh', p.wh);
    let seq = 0n;
    const write = (f: ClearingFlow, ofMs: bigint): void => {
      ctx.db.put('energy_market_flows', { context, period_start_ms: startMs, seq, kind: f.kind, seller: f.seller, buyer: f.buyer, labels: [...f.labels], wh: f.wh, price_ueur_per_kwh: f.priceUeur, neur: f.neur, of_period_ms: ofMs, height });
      seq += 1n;
      if (f.kind === 'own') add(f.buyer, 'own_use_wh', f.wh);
      else if (f.kind === 'supply') {
        add(f.buyer, 'supplied_wh', f.wh);
        add(f.buyer, 'supplied_neur', f.neur);
      } else if (f.kind === 'export') {
        add(f.seller, 'exported_wh', f.wh);
        add(f.seller, 'exported_neur', f.neur);
      } else if (f.kind === 'late_supply') {
        add(f.buyer, 'late_wh', -f.wh);
        add(f.buyer, 'imbalance_wh', f.wh);
        add(f.buyer, 'imbalance_neur', f.neur);
      } else if (f.kind === 'late_export') {
        add(f.seller, 'late_wh', f.wh);
        add(f.seller, 'imbalance_wh', -f.wh);
        add(f.seller, 'imbalance_neur', -f.neur);
      } else if (f.kind === 'correction_supply') {
        add(f.buyer, 'corrected_wh', -f.wh);
        add(f.buyer, 'correction_wh', f.wh);
        add(f.buyer, 'correction_neur', f.neur);
      } else if (f.kind === 'correction_export') {
        add(f.seller, 'corrected_wh', f.wh);
        add(f.seller, 'correction_wh', -f.wh);
        add(f.seller, 'correction_neur', -f.neur);
      } else {
        add(f.buyer, 'bought_wh', f.wh);
        add(f.buyer, 'bought_neur', f.neur);
        add(f.seller, 'sold_wh', f.wh);
        add(f.seller, 'sold_neur', f.neur);
      }
    };
    // With a parent market, what is left after the local steps goes up as residual instead of
    // being supplied and exported here (decision 0012): UpstreamSettlement settles it later.
    const stacked = ctx.db.get('energy_market_parents', { context }) !== null;
    const residuals = new Map<string, SandboxRow>();
    let residualProducedWh = 0n;
    let residualConsumedWh = 0n;
    for (const f of result.flows) {
      if (!stacked || (f.kind !== 'supply' && f.kind !== 'export')) {
        write(f, startMs);
        continue;
      }
      const produced = f.kind === 'export';
      const trader = produced ? f.seller : f.buyer;
      const labels = produced ? [...f.labels] : [];
      const key = trader + ':' + labels.join(',') + ':' + f.kind;
      const row = residuals.get(key);
      if (row === undefined) residuals.set(key, { context, period_start_ms: startMs, trader, labels_key: labels.join(','), direction: produced ? 'produced' : 'consumed', labels, wh: f.wh });
      else row['wh'] = (row['wh'] as bigint) + f.wh;
      if (produced) residualProducedWh += f.wh;
      else residualConsumedWh += f.wh;
    }
    for (const l of lateFlows) write(l.flow, l.ofMs);
    for (const c of correctionFlows) write(c.flow, c.ofMs);
    for (const c of result.classes) {
      ctx.db.put('energy_market_clearings', { context, period_start_ms: startMs, labels_key: c.labels.join(','), labels: [...c.labels], price_ueur_per_kwh: c.priceUeur, wh: c.wh });
    }
    for (const [trader, s] of statements) {
      const due = (s['bought_neur'] as bigint) + (s['supplied_neur'] as bigint) - (s['sold_neur'] as bigint) - (s['exported_neur'] as bigint) + (s['imbalance_neur'] as bigint) + (s['correction_neur'] as bigint);
      ctx.db.put('energy_market_statements', { context, period_start_ms: startMs, trader, ...s, due_neur: due });
    }
    for (const [, r] of residuals) ctx.db.put('energy_market_residuals', r);
    if (residuals.size > 0) {
      ctx.db.put('energy_market_upstream', { context, period_start_ms: startMs, state: 'open', local_height: height, produced_wh: residualProducedWh, consumed_wh: residualConsumedWh, flow_seq: seq, missed: false, parent_height: -1n, parent_block_hash: '', settled_height: -1n });
    }
    // Orders whose last period this was have nothing left to trade (earlier periods are settled).
    for (const o of expiredOrders) ctx.db.delete('energy_market_orders', { context, side: o['side'] as string, price_key: o['price_key'] as bigint, seq: o['seq'] as bigint });
    ctx.db.put('energy_market_periods', { context, period_start_ms: startMs, end_ms: startMs + periodMs, settled: true, opened_height: period === null ? height : (period['opened_height'] as bigint) });
    return 'OK';
  },
});
