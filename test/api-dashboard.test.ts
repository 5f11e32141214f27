// The read routes of the live dashboard (docs/api.md "Energy": places, market flows, market
// orders) through app.inject, over what the contracts wrote on the real engine (a community whose
// first period was settled by the double auction, test/support/market-community.ts), copied into
// the embedded database and into a PostgreSQL server when DATABASE_URL is set: the exact JSON
// shapes, limits and cursors, every bad parameter as a bad_request naming it, and every statement
// the routes ran served by a key or an index (planned with sequential scans switched off).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  fetchMarketFlows,
  fetchMarketOrders,
  fetchPlaces,
} from '../src/energy/dashboard-client.js';
import type { JsonGetter } from '../src/energy/client.js';
import { DashboardDb } from './support/dashboard-db.js';
import { EnergyChain, closeEnergyChains, testAddress } from './support/energy-chain.js';
import {
  ANNA,
  ANNA_HOUSE,
  ANNA_SOLAR,
  BERT,
  BERT_HOUSE,
  CARL,
  CARL_HOUSE,
  Community,
  P0,
  P1,
} from './support/market-community.js';
import { testBackends } from './support/test-db.js';

const GONE = testAddress('dashboard removed trader');
const [FIRST, SECOND, THIRD] = [ANNA, BERT, CARL].sort() as [string, string, string];

interface Scenario {
  readonly chain: EnergyChain;
  readonly c: Community;
  readonly orderIds: Map<string, string>;
}

/** anna sells standing over P0-P1, bert buys P0 only, carl buys standing; P0 settled, P1 open. */
async function scenario(): Promise<Scenario> {
  const chain = await EnergyChain.open({ processedMs: P0 + 5000 });
  const c = await Community.open(chain, 'dashboard owner');
  await c.accept('Market', c.owner, { on: true, auction: true });
  await c.prices(P0, 2);
  await c.accept('Place', c.owner, { member: ANNA, x: 0, y: 10000, label: 'Solar row 3' });
  await c.accept('Place', c.owner, { member: BERT, x: 5000, y: 250 });
  await c.accept('Place', c.owner, { member: CARL, x: 10000, y: 0, label: 'Flat 2' });
  const orderIds = new Map<string, string>();
  for (const [who, order] of [
    ['anna', { side: 'sell', priceEur: '0.1', labels: [], fromMs: P0, toMs: P1 }],
    ['bert', { side: 'buy', priceEur: '0.25', labels: [], fromMs: P0 }],
    ['carl', { side: 'buy', priceEur: '0.2', amount: '0.5', labels: [], fromMs: P0, toMs: P1 }],
  ] as const) {
    await c.accept('Order', who === 'anna' ? ANNA : who === 'bert' ? BERT : CARL, order);
    orderIds.set(who, chain.lastTxId);
  }
  await c.accept('Energy', ANNA_SOLAR, { amount: '3', register: '3', readingMs: P1 });
  await c.accept('Energy', ANNA_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
  await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
  await c.accept('Energy', CARL_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
  await chain.gotoBlock(chain.height + 1, P1 + 60_000);
  await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
  await chain.nextBlock();
  return { chain, c, orderIds };
}

const flow = (
  seq: number,
  kind: string,
  scope: string,
  seller: string | null,
  buyer: string | null,
  outside: string | null,
  labels: string[],
  kwh: string,
  eurPerKwh: string,
  eur: string,
  height: number,
) => ({
  periodStartMs: P0,
  periodStart: new Date(P0).toISOString(),
  seq,
  kind,
  scope,
  seller,
  buyer,
  outside,
  labels,
  kwh,
  eurPerKwh,
  eur,
  ofPeriodMs: P0,
  height,
});

let s: Scenario;
before(async () => {
  s = await scenario();
});
after(closeEnergyChains);

for (const backend of testBackends()) {
  describe(`dashboard routes (${backend.name})`, () => {
    let d: DashboardDb;
    let ctx: string;
    let settleHeight: number;
    before(async () => {
      d = await DashboardDb.open(backend);
      await d.copyFrom(s.chain.chain.db);
      // A place whose trader is gone (or never was) is not listed.
      ctx = s.c.owner;
      await d.insert('energy_places', [
        { context: ctx, member: GONE, x: 1, y: 1, label: '', height: 3 },
      ]);
      settleHeight = Number((await s.c.rows('energy_market_flows'))[0]?.['height']);
    });
    after(async () => {
      await d.close();
    });
    const getter = (): JsonGetter => ({
      getJson: async (path, query) => (await d.get(withQuery(path, query))).body,
    });

    test('GET .../places lists current traders by address, paged by after and limit', async () => {
      d.takeStatements();
      const all = await d.get(`/api/energy/contexts/${ctx}/places`);
      assert.equal(all.status, 200);
      const placeOf = new Map([
        [ANNA, { x: 0, y: 10000, label: 'Solar row 3' }],
        [BERT, { x: 5000, y: 250, label: null }],
        [CARL, { x: 10000, y: 0, label: 'Flat 2' }],
      ]);
      assert.deepEqual(
        all.body.places.map((p: { member: string; height: number }) => ({ ...p, height: 0 })),
        [FIRST, SECOND, THIRD].map((member) => ({ member, ...placeOf.get(member), height: 0 })),
      );
      assert.equal(all.body.next, null);
      await d.assertIndexed(d.takeStatements(), ['energy_places', 'energy_traders']);
      const first = await fetchPlaces(getter(), ctx, { limit: 2 });
      assert.deepEqual(
        first.places.map((p) => p.member),
        [FIRST, SECOND],
      );
      assert.equal(first.next, SECOND);
      const second = await fetchPlaces(getter(), ctx, { limit: 2, after: SECOND });
      assert.deepEqual(
        second.places.map((p) => p.member),
        [THIRD],
      );
      assert.equal(second.next, null);
    });

    test('GET .../market/flows lists every flow of the window with its sides, kWh and EUR', async () => {
      d.takeStatements();
      const res = await d.get(`/api/energy/contexts/${ctx}/market/flows?from=${P0}&to=${P1}`);
      assert.equal(res.status, 200);
      const h = settleHeight;
      assert.deepEqual(res.body, {
        context: ctx,
        flows: [
          flow(0, 'own', 'local', ANNA, ANNA, null, ['solar'], '0.5', '0', '0', h),
          flow(1, 'auction', 'local', ANNA, BERT, null, ['solar'], '1', '0.1', '0.1', h),
          flow(2, 'auction', 'local', ANNA, CARL, null, ['solar'], '0.5', '0.1', '0.05', h),
          flow(3, 'allocation', 'local', ANNA, CARL, null, ['solar'], '0.5', '0.15', '0.075', h),
          flow(4, 'export', 'external', ANNA, null, ctx, ['solar'], '0.5', '0.05', '0.025', h),
        ],
        truncated: false,
        next: null,
      });
      await d.assertIndexed(d.takeStatements(), [
        'energy_market_flows',
        'energy_market_statements',
      ]);
      const page = await fetchMarketFlows(getter(), ctx, { fromMs: P0, limit: 2 });
      assert.deepEqual(
        page.flows.map((f) => f.seq),
        [0, 1],
      );
      assert.equal(page.next, `${P0}:1`);
      const rest = await fetchMarketFlows(getter(), ctx, { after: page.next ?? '', limit: 10 });
      assert.deepEqual(
        rest.flows.map((f) => f.seq),
        [2, 3, 4],
      );
      assert.equal(rest.truncated, false);
      const none = await fetchMarketFlows(getter(), ctx, { fromMs: P1 });
      assert.deepEqual(none.flows, []);
    });

    test('GET .../market/flows: an upstream flow names the household and the parent market side', async () => {
      const P9 = P0 + 9 * 900_000;
      const PARENT_SIDE = testAddress('dashboard parent counterparty');
      await d.insert('energy_market_statements', [
        { ...zeroStatement(ctx, P9, ANNA) },
        { ...zeroStatement(ctx, P9, BERT) },
      ]);
      const row = (seq: number, kind: string, seller: string, buyer: string) => ({
        context: ctx,
        period_start_ms: P9,
        seq,
        kind,
        seller,
        buyer,
        labels: seller === ANNA ? ['solar'] : [],
        wh: 250,
        price_ueur_per_kwh: 120_000,
        neur: 30_000_000,
        of_period_ms: P9,
        height: 500,
      });
      await d.insert('energy_market_flows', [
        row(0, 'upstream', ANNA, PARENT_SIDE),
        row(1, 'upstream', PARENT_SIDE, BERT),
        row(2, 'upstream_own', ANNA, BERT),
        row(3, 'supply', ctx, BERT),
      ]);
      const res = await fetchMarketFlows(getter(), ctx, { fromMs: P9, toMs: P9 + 900_000 });
      assert.deepEqual(
        res.flows.map((f) => [f.kind, f.scope, f.seller, f.buyer, f.outside, f.eur]),
        [
          ['upstream', 'upstream', ANNA, null, PARENT_SIDE, '0.03'],
          ['upstream', 'upstream', null, BERT, PARENT_SIDE, '0.03'],
          ['upstream_own', 'upstream', ANNA, BERT, null, '0.03'],
          ['supply', 'external', null, BERT, ctx, '0.03'],
        ],
      );
    });

    test('GET .../market/orders: the settled period with its clearing, the open one, and "last"', async () => {
      d.takeStatements();
      const settled = await d.get(`/api/energy/contexts/${ctx}/market/orders?period=${P0}`);
      assert.equal(settled.status, 200);
      const order = (who: 'anna' | 'carl', state: string) =>
        who === 'anna'
          ? {
              id: s.orderIds.get('anna'),
              seq: 1,
              trader: ANNA,
              side: 'sell',
              priceEurPerKwh: '0.1',
              kwh: null,
              labels: [],
              standing: true,
              fromMs: P0,
              toMs: P1,
              state,
              height: settled.body.orders[1].height,
            }
          : {
              id: s.orderIds.get('carl'),
              seq: 3,
              trader: CARL,
              side: 'buy',
              priceEurPerKwh: '0.2',
              kwh: '0.5',
              labels: [],
              standing: true,
              fromMs: P0,
              toMs: P1,
              state,
              height: settled.body.orders[0].height,
            };
      assert.deepEqual(settled.body, {
        context: ctx,
        periodStartMs: P0,
        periodStart: new Date(P0).toISOString(),
        periodEndMs: P1,
        settled: true,
        market: settled.body.market,
        // bert's one-period order ended with P0: its settlement removed it.
        orders: [order('carl', 'settled'), order('anna', 'settled')],
        complete: false,
        truncated: false,
        clearing: { classes: [{ labels: [], priceEurPerKwh: '0.1', kwh: '1.5' }], kwh: '1.5' },
      });
      assert.equal(settled.body.market.periodSeconds, 900);
      await d.assertIndexed(d.takeStatements(), [
        'energy_market_orders',
        'energy_market_clearings',
        'energy_market_periods',
        'energy_market_settings',
      ]);
      const open = await fetchMarketOrders(getter(), ctx, { period: P1 });
      assert.equal(open.settled, false);
      assert.equal(open.complete, true);
      assert.equal(open.clearing, null);
      assert.deepEqual(
        open.orders.map((o) => [o.trader, o.side, o.state]),
        [
          [CARL, 'buy', 'open'],
          [ANNA, 'sell', 'open'],
        ],
      );
      const last = await fetchMarketOrders(getter(), ctx, { period: 'last', limit: 1 });
      assert.equal(last.periodStartMs, P0);
      assert.equal(last.orders.length, 1);
      assert.equal(last.truncated, true);
      // "current" is the period holding the server's clock: long after P1, an empty book.
      const current = await fetchMarketOrders(getter(), ctx);
      assert.ok(current.periodStartMs > P1);
      assert.deepEqual(current.orders, []);
    });

    test('bad parameters are bad_request naming them; a context without a market is not_found', async () => {
      for (const [route, query, field] of [
        ['places', 'limit=0', 'limit'],
        ['places', 'limit=1001', 'limit'],
        ['places', 'limit=abc', 'limit'],
        ['places', 'limit=1&limit=2', 'limit'],
        ['places', 'after=nope', 'after'],
        ['places', 'after=1111111111111111111111111', 'after'],
        ['places', 'cursor=1', 'cursor'],
        ['market/flows', 'from=-1', 'from'],
        ['market/flows', `from=${P1}&to=${P0}`, 'to'],
        ['market/flows', 'limit=10001', 'limit'],
        ['market/flows', 'after=12', 'after'],
        ['market/flows', 'after=1:2:3', 'after'],
        ['market/flows', 'trader=x', 'trader'],
        ['market/orders', 'period=yesterday', 'period'],
        ['market/orders', `period=${P0 + 1}`, 'period'],
        ['market/orders', 'limit=20001', 'limit'],
        ['market/orders', 'period=1&period=2', 'period'],
      ] as const) {
        const res = await d.get(`/api/energy/contexts/${ctx}/${route}?${query}`);
        assert.equal(res.status, 400, `${route}?${query}`);
        assert.equal(res.body.error.code, 'bad_request', `${route}?${query}`);
        assert.equal(res.body.error.details.field, field, `${route}?${query}`);
      }
      const bad = await d.get('/api/energy/contexts/nope/market/flows');
      assert.equal(bad.body.error.details.field, 'context');
      const noMarket = await d.get(`/api/energy/contexts/${GONE}/market/orders`);
      assert.equal(noMarket.status, 404);
      assert.equal(noMarket.body.error.code, 'not_found');
      const noFlows = await d.get(`/api/energy/contexts/${GONE}/market/flows`);
      assert.deepEqual(noFlows.body, { context: GONE, flows: [], truncated: false, next: null });
    });
  });
}

/** A statement row of zeros (the upstream test needs only that the household has one). */
function zeroStatement(context: string, periodStartMs: number, trader: string) {
  const zero = Object.fromEntries(
    [
      'produced_wh',
      'consumed_wh',
      'own_use_wh',
      'bought_wh',
      'bought_neur',
      'sold_wh',
      'sold_neur',
      'supplied_wh',
      'supplied_neur',
      'exported_wh',
      'exported_neur',
      'late_wh',
      'imbalance_wh',
      'imbalance_neur',
      'corrected_wh',
      'correction_wh',
      'correction_neur',
      'due_neur',
    ].map((c) => [c, 0]),
  );
  return { context, period_start_ms: periodStartMs, trader, ...zero };
}

/** A path with a client's query object, as the client's getJson would send it. */
function withQuery(path: string, query?: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
