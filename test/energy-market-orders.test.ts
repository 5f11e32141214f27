// Order and CancelOrder on the real engine, and a period settled by the double auction with the
// community allocation after it: bad orders are refused and change nothing, the book is kept in
// clearing order, standing orders apply to every period of their range.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EnergyChain, closeEnergyChains } from './support/energy-chain.js';
import {
  ANNA,
  ANNA_HOUSE,
  ANNA_SOLAR,
  BERT,
  BERT_HOUSE,
  CARL,
  CARL_HOUSE,
  Community,
  NAMES,
  P0,
  P1,
  QUARTER_MS,
  assertBalanced,
} from './support/market-community.js';

const WEEK_MS = 7 * 86_400_000;

describe('Order, CancelOrder and the double auction', () => {
  let chain: EnergyChain;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: P0 + 5000 });
  });
  after(closeEnergyChains);

  test('bad orders are refused with a code and change nothing', async () => {
    const c = await Community.open(chain, 'owner bad orders');
    await c.accept('Market', c.owner, { on: true, auction: true });
    const good = { side: 'buy', priceEur: '0.2', labels: [], fromMs: P0 };
    await c.reject('Order', c.owner, good, 'sender_not_trader');
    await c.reject('Order', ANNA, { ...good, side: 'hold' }, 'order_invalid');
    await c.reject('Order', ANNA, { ...good, side: 'sell', labels: ['solar'] }, 'order_invalid');
    await c.reject('Order', ANNA, { ...good, amount: '0' }, 'order_invalid');
    await c.reject('Order', ANNA, { ...good, toMs: P0 - QUARTER_MS }, 'order_invalid');
    for (const priceEur of ['-0.2', '0.0000001', '10.01', 'x'])
      await c.reject('Order', ANNA, { ...good, priceEur }, 'price_invalid');
    await c.reject('Order', ANNA, { ...good, fromMs: P0 + 1 }, 'period_start_invalid');
    await c.reject('Order', ANNA, { ...good, fromMs: P0 - QUARTER_MS }, 'period_closed');
    await c.reject('Order', ANNA, { ...good, toMs: P0 + WEEK_MS + QUARTER_MS }, 'period_too_far');
    await c.accept('Market', c.owner, { on: false });
    await c.reject('Order', ANNA, good, 'market_not_on');
  });

  test('the book is kept in clearing order; only the trader who placed an order cancels it', async () => {
    const c = await Community.open(chain, 'owner book');
    await c.accept('Market', c.owner, { on: true, auction: true });
    const ids: string[] = [];
    for (const [trader, side, priceEur] of [
      [ANNA, 'sell', '0.12'],
      [BERT, 'buy', '0.2'],
      [CARL, 'buy', '0.25'],
      [ANNA, 'sell', '0.1'],
      [CARL, 'buy', '0.2'],
    ] as const) {
      await c.accept('Order', trader, { side, priceEur, labels: [], fromMs: P0 });
      ids.push(chain.lastTxId);
    }
    const book = async (): Promise<string[]> =>
      (await c.rows('energy_market_orders')).map(
        (o) =>
          `${o['side']} ${NAMES.get(o['trader'] as string)} ${o['price_ueur_per_kwh']} #${o['seq']}`,
      );
    assert.deepEqual(await book(), [
      'buy carl 250000 #3',
      'buy bert 200000 #2',
      'buy carl 200000 #5',
      'sell anna 100000 #4',
      'sell anna 120000 #1',
    ]);
    await c.reject('CancelOrder', BERT, { order: ids[0] as string }, 'order_not_owned');
    await c.reject('CancelOrder', ANNA, { order: 'f'.repeat(32) }, 'order_not_found');
    await c.accept('CancelOrder', ANNA, { order: ids[0] as string });
    await c.reject('CancelOrder', ANNA, { order: ids[0] as string }, 'order_not_found');
    assert.equal((await book()).length, 4);
  });

  test('a period settled by the auction, then the allocation, then externally; a standing order serves every period of its range', async () => {
    const c = await Community.open(chain, 'owner auction');
    await c.accept('Market', c.owner, { on: true, auction: true });
    await c.prices(P0, 2);
    await c.accept('Order', ANNA, {
      side: 'sell',
      priceEur: '0.1',
      labels: [],
      fromMs: P0,
      toMs: P1,
    });
    await c.accept('Order', BERT, { side: 'buy', priceEur: '0.25', labels: [], fromMs: P0 });
    await c.accept('Order', CARL, {
      side: 'buy',
      priceEur: '0.2',
      amount: '0.5',
      labels: [],
      fromMs: P0,
      toMs: P1,
    });
    await c.accept('Energy', ANNA_SOLAR, { amount: '3', register: '3', readingMs: P1 });
    await c.accept('Energy', ANNA_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    await c.accept('Energy', CARL_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    await chain.gotoBlock(chain.height + 1, P1 + 60_000);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    // anna's ask is left over at the margin (excess supply): the class price is her ask, 0.10.
    // carl's buy is capped at 0.5 kWh; the rest of his deficit is allocated at the local 0.15.
    assert.deepEqual(await c.flows(P0), [
      'own anna>anna 500@0',
      'auction anna>bert 1000@100000',
      'auction anna>carl 500@100000',
      'allocation anna>carl 500@150000',
      'export anna>owner 500@50000',
    ]);
    assert.deepEqual(
      (await c.rows('energy_market_clearings')).map((r) => [
        r['labels_key'],
        r['price_ueur_per_kwh'],
        r['wh'],
      ]),
      [['', 100_000n, 1500n]],
    );
    assertBalanced(await c.statements(P0));

    // 12:15-12:30: the standing orders of anna and carl apply again; bert's single one does not.
    await c.accept('Energy', ANNA_SOLAR, {
      amount: '1',
      register: '4',
      readingMs: P1 + QUARTER_MS,
    });
    await c.accept('Energy', CARL_HOUSE, {
      amount: '-2',
      register: '3',
      readingMs: P1 + QUARTER_MS,
    });
    await chain.gotoBlock(chain.height + 1, P1 + QUARTER_MS + 60_000);
    await c.accept('SettlePeriod', BERT, { periodStartMs: P1 });
    assert.deepEqual(await c.flows(P1), [
      'auction anna>carl 500@100000',
      'allocation anna>carl 500@150000',
      'supply owner>carl 1000@300000',
    ]);
    assertBalanced(await c.statements(P1));
  });
});
