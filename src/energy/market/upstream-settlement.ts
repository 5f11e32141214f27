// UpstreamSettlement (ours; decision 0012, "Down"): what a context's member trader bought and sold
// in the parent market in a period, as the parent's processor signed it: this transaction is the
// parent's checkpoint, and its signer must be the processor key the owner registered with
// MarketParent. The flows must add up to the period's residual exactly; each is then shared over
// the households that still had a deficit or surplus (settleResiduals), with the parent's labels
// and prices, and their statements are completed. A member that missed the parent's gate closure
// gets `missed`: its residual is supplied and exported by the parent context at the parent's
// supply and feed-in prices.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult, SandboxRow } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { kwh, labelText } from '../helpers.js';
import { energyManifest } from '../tables.js';
import { priceUeur } from './price.js';
import { shareByWeight } from './share.js';
import { settleResiduals } from './upstream.js';
import type { ParentFlow, Residual } from './upstream.js';

export interface UpstreamSettlementPayload {
  readonly context: string;
  readonly periodStartMs: number;
  readonly chain: string;
  readonly parentContext: string;
  readonly member: string;
  readonly height: number;
  readonly blockHash: string;
  readonly missed: boolean;
  readonly supplyEur: string;
  readonly feedInEur: string;
  readonly sides: readonly string[];
  readonly counterparties: readonly string[];
  readonly labels: readonly (readonly string[])[];
  /** Wh (the template's kwh type turns kWh into Wh). */
  readonly amounts: readonly bigint[];
  readonly pricesEur: readonly string[];
  readonly external: readonly boolean[];
}

/** The codes UpstreamSettlement rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'parent_unknown',
  'upstream_signer_unknown',
  'upstream_mismatch',
  'upstream_not_open',
  'upstream_already_settled',
  'checkpoint_invalid',
] as const satisfies readonly EnergyRejectCodeName[];
type UpstreamSettlementRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'UpstreamSettlement',
  version: '1.0',
  description: "Settles a period's residual with what the context's member bought and sold in the parent market, signed by the parent's processor.",
  template: {
    context: { type: 'addr', name: 'context', desc: 'The child context' },
    periodStartMs: { type: 'uint', name: 'periodStartMs', desc: 'Start of the period, ms since the Unix epoch' },
    chain: { type: 'str', name: 'chain', desc: "The parent's chain id" },
    parentContext: { type: 'addr', name: 'parentContext', desc: 'The parent context' },
    member: { type: 'addr', name: 'member', desc: 'The member trader in the parent (the child context)' },
    height: { type: 'uint', name: 'height', desc: 'The parent block the settlement was read at' },
    blockHash: { type: 'hash', name: 'blockHash', desc: 'The hash of that parent block' },
    missed: { type: 'bool', name: 'missed', desc: "true when the member's position missed the parent's gate closure" },
    supplyEur: { type: 'str', name: 'supplyEur', desc: "The parent's supply price of the period, EUR per kWh" },
    feedInEur: { type: 'str', name: 'feedInEur', desc: "The parent's feed-in price of the period, EUR per kWh" },
    sides: { type: 'strArray', name: 'sides', desc: 'in, out or own, per flow of the member in the parent' },
    counterparties: { type: 'addrArray', name: 'counterparties', desc: 'The other side of each flow in the parent' },
    labels: { type: 'labelsArray', name: 'labels', desc: 'The labels of the energy of each flow' },
    amounts: { type: 'kwhArray', name: 'amounts', desc: 'kWh of each flow, above 0, at most 3 decimals' },
    pricesEur: { type: 'strArray', name: 'pricesEur', desc: 'The price of each flow in the parent, EUR per kWh' },
    external: { type: 'boolArray', name: 'external', desc: "true for the parent's supply and export" },
  },
  // Like SettlePeriod, it may write a flow per household and parent flow (decision 0011, "How big
  // a period may be").
  manifest: {
    ...energyManifest(
      ['energy_market_upstream', 'energy_market_residuals', 'energy_market_flows', 'energy_market_statements'],
      ['energy_market_parents', 'energy_market_prices'],
    ),
    budget: 'settlement',
  },
  rejects: REJECTS,
  helpers: { kwh, labelText, priceUeur, shareByWeight, settleResiduals },
  execute: function execute(payload: UpstreamSettlementPayload, ctx: ContractContext<UpstreamSettlementRejectCode>): ContractResult {
    const FLOWS_MAX = 10000;
    const ROWS_MAX = 10000;
    const context = payload.context;
    const startMs = BigInt(payload.periodStartMs);
    const parent = ctx.db.get('energy_market_parents', { context });
    if (parent === null) return ctx.reject('parent_unknown', `context ${context} has no parent market (MarketParent)`);
    if (ctx.sender !== parent['parent_processor']) {
      return ctx.reject('upstream_signer_unknown', `a settlement from the parent market of context ${context} must be signed by its processor ${parent['parent_processor']}; it was signed by ${ctx.sender}`);
    }
    if (payload.chain !== parent['parent_chain'] || payload.parentContext !== parent['parent_context'] || payload.member !== context) {
      return ctx.reject('upstream_mismatch', `context ${context} trades as itself in context ${parent['parent_context']} on chain ${parent['parent_chain']}; the settlement is for member ${payload.member} in context ${payload.parentContext} on chain ${payload.chain}`);
    }
    const upstream = ctx.db.get('energy_market_upstream', { context, period_start_ms: startMs });
    if (upstream === null) return ctx.reject('upstream_not_open', `the period starting at ${startMs} of context ${context} left no residual for the parent market (or is not settled locally yet)`);
    if (upstream['state'] !== 'open') return ctx.reject('upstream_already_settled', `the residual of the period starting at ${startMs} of context ${context} was settled with the parent market already`);
    const supplyUeur = priceUeur(payload.supplyEur);
    const feedInUeur = priceUeur(payload.feedInEur);
    if (supplyUeur === null || feedInUeur === null) {
      return ctx.reject('checkpoint_invalid', `supplyEur ${JSON.stringify(payload.supplyEur)} and feedInEur ${JSON.stringify(payload.feedInEur)} must be prices: EUR per kWh from 0 to 10 with at most 6 decimals`);
    }
    const count = payload.sides.length;
    const n = [payload.counterparties.length, payload.labels.length, payload.amounts.length, payload.pricesEur.length, payload.external.length];
    if (count > FLOWS_MAX || n.some((m) => m !== count) || (payload.missed && count !== 0)) {
      return ctx.reject('checkpoint_invalid', `a settlement needs sides, counterparties, labels, amounts, pricesEur and external of equal length (at most ${FLOWS_MAX}, none when missed); got ${count} and ${n.join(', ')}`);
    }
    const residualRows = ctx.db.find('energy_market_residuals', { context, period_start_ms: startMs, direction: 'consumed' }, ROWS_MAX).concat(ctx.db.find('energy_market_residuals', { context, period_start_ms: startMs, direction: 'produced' }, ROWS_MAX));
    const residuals: Residual[] = residualRows.map((r: SandboxRow) => ({ trader: r['trader'] as string, labels: r['labels'] as string[], direction: r['direction'] as string, wh: r['wh'] as bigint }));
    const flows: ParentFlow[] = [];
    if (payload.missed) {
      // The parent context supplies and takes everything, at its own prices.
      const parentContext = payload.parentContext;
      const consumed = upstream['consumed_wh'] as bigint;
      if (consumed > 0n) flows.push({ side: 'in', counterparty: parentContext, labels: [], wh: consumed, priceUeur: supplyUeur, external: true });
      const producedByKey = new Map<string, { labels: string[]; wh: bigint }>();
      for (const r of residuals) {
        if (r.direction !== 'produced') continue;
        const key = r.labels.join(',');
        const entry = producedByKey.get(key);
        if (entry === undefined) producedByKey.set(key, { labels: [...r.labels], wh: r.wh });
        else entry.wh += r.wh;
      }
      for (const [, e] of producedByKey) flows.push({ side: 'out', counterparty: parentContext, labels: e.labels, wh: e.wh, priceUeur: feedInUeur, external: true });
    } else {
      for (let i = 0; i < count; i++) {
        const side = payload.sides[i] as string;
        const wh = payload.amounts[i] as bigint;
        const price = priceUeur(payload.pricesEur[i] as string);
        const labels = payload.labels[i] as string[];
        if ((side !== 'in' && side !== 'out' && side !== 'own') || wh <= 0n || price === null) {
          return ctx.reject('checkpoint_invalid', `flow ${i} (${JSON.stringify(side)}, ${labelText(labels)}, ${kwh(wh)} at ${JSON.stringify(payload.pricesEur[i])}) needs side in, out or own, an amount above 0 and a price`);
        }
        flows.push({ side, counterparty: payload.counterparties[i] as string, labels, wh, priceUeur: price, external: payload.external[i] === true });
      }
    }
    // The flows must add up to the residual: in + own to the deficits, out + own per label set to the surpluses.
    const want = new Map<string, bigint>();
    const got = new Map<string, bigint>();
    const bump = (m: Map<string, bigint>, key: string, wh: bigint): void => { m.set(key, (m.get(key) ?? 0n) + wh); };
    for (const r of residuals) bump(want, r.direction === 'consumed' ? 'consumed' : 'produced:' + r.labels.join(','), r.wh);
    for (const f of flows) {
      if (f.side !== 'out') bump(got, 'consumed', f.wh);
      if (f.side !== 'in') bump(got, 'produced:' + f.labels.join(','), f.wh);
    }
    for (const [key, wh] of want) {
      if (got.get(key) !== wh) return ctx.reject('upstream_mismatch', `the residual of the period starting at ${startMs} of context ${context} holds ${kwh(wh)} ${key.replace(':', ' with labels ')}; the parent's flows settle ${kwh(got.get(key) ?? 0n)} of it`);
    }
    for (const [key, wh] of got) {
      if (!want.has(key)) return ctx.reject('upstream_mismatch', `the parent's flows settle ${kwh(wh)} ${key.replace(':', ' with labels ')} that the period starting at ${startMs} of context ${context} did not leave`);
    }
    const prices = ctx.db.get('energy_market_prices', { context, period_start_ms: startMs });
    const localUeur = prices === null ? 0n : (prices['local_ueur_per_kwh'] as bigint);
    const height = BigInt(ctx.block.height);
    let seq = upstream['flow_seq'] as bigint;
    const statements = new Map<string, SandboxRow>();
    const add = (trader: string, wh: string, money: string, whDelta: bigint, neur: bigint): void => {
      let s = statements.get(trader);
      if (s === undefined) {
        const row = ctx.db.get('energy_market_statements', { context, period_start_ms: startMs, trader });
        s = row === null ? { context, period_start_ms: startMs, trader, produced_wh: 0n, consumed_wh: 0n, own_use_wh: 0n, bought_wh: 0n, bought_neur: 0n, sold_wh: 0n, sold_neur: 0n, supplied_wh: 0n, supplied_neur: 0n, exported_wh: 0n, exported_neur: 0n, late_wh: 0n, imbalance_wh: 0n, imbalance_neur: 0n, corrected_wh: 0n, correction_wh: 0n, correction_neur: 0n, due_neur: 0n } : { ...row };
        statements.set(trader, s);
      }
      s[wh] = (s[wh] as bigint) + whDelta;
      s[money] = (s[money] as bigint) + neur;
    };
    for (const f of settleResiduals(residuals, flows, localUeur)) {
      ctx.db.put('energy_market_flows', { context, period_start_ms: startMs, seq, kind: f.kind, seller: f.seller, buyer: f.buyer, labels: [...f.labels], wh: f.wh, price_ueur_per_kwh: f.priceUeur, neur: f.neur, of_period_ms: startMs, height });
      seq += 1n;
      if (f.kind === 'supply') add(f.buyer, 'supplied_wh', 'supplied_neur', f.wh, f.neur);
      else if (f.kind === 'export') add(f.seller, 'exported_wh', 'exported_neur', f.wh, f.neur);
      else {
        if (f.side !== 'out') add(f.buyer, 'bought_wh', 'bought_neur', f.wh, f.neur);
        if (f.side !== 'in') add(f.seller, 'sold_wh', 'sold_neur', f.wh, f.neur);
      }
    }
    for (const [, s] of statements) {
      const due = (s['bought_neur'] as bigint) + (s['supplied_neur'] as bigint) - (s['sold_neur'] as bigint) - (s['exported_neur'] as bigint) + (s['imbalance_neur'] as bigint) + (s['correction_neur'] as bigint);
      ctx.db.put('energy_market_statements', { ...s, due_neur: due });
    }
    ctx.db.put('energy_market_upstream', { ...upstream, state: 'settled', flow_seq: seq, missed: payload.missed, parent_height: BigInt(payload.height), parent_block_hash: payload.blockHash, settled_height: height });
    return 'OK';
  },
});
