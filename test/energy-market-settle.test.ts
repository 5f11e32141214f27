// MarketPrices and SettlePeriod on the real engine: the owner's price table, settling a period
// after its gate closure (locally first, then externally), statements that bring every trader's
// position to zero, idempotence, and late energy settled as imbalance by the next settlement.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
  QUARTER_MS,
  assertBalanced,
} from './support/market-community.js';

describe('MarketPrices and SettlePeriod', () => {
  let chain: EnergyChain;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: P0 + 5000 });
  });
  after(closeEnergyChains);

  test('MarketPrices: only the owner, a market that was on, aligned periods and valid prices', async () => {
    const c = await Community.open(chain, 'owner prices');
    const table = { fromMs: P0, localEur: ['0.15'], supplyEur: ['0.3'], feedInEur: ['0.05'] };
    await c.reject('MarketPrices', ANNA, table, 'not_context_owner');
    await c.reject('MarketPrices', c.owner, { ...table, fromMs: P0 + 1 }, 'period_start_invalid');
    await c.reject('MarketPrices', c.owner, { ...table, localEur: [] }, 'price_table_invalid');
    await c.reject(
      'MarketPrices',
      c.owner,
      { ...table, supplyEur: ['0.3', '0.3'] },
      'price_table_invalid',
    );
    for (const bad of ['-0.1', '0.1234567', '10.000001', '11', 'abc', '', '1e-3', ' 0.1'])
      await c.reject('MarketPrices', c.owner, { ...table, feedInEur: [bad] }, 'price_invalid');
    await c.accept('MarketPrices', c.owner, { ...table, localEur: ['10'] });
    await c.accept('MarketPrices', c.owner, table);
    assert.deepEqual(
      (await c.rows('energy_market_prices')).map((r) => [
        r['local_ueur_per_kwh'],
        r['supply_ueur_per_kwh'],
        r['feed_in_ueur_per_kwh'],
      ]),
      [[150_000n, 300_000n, 50_000n]],
    );
    const never = new Community(chain, testAddress('owner without a market'));
    await never.reject('MarketPrices', never.owner, table, 'market_not_on');
  });

  test('a period is settled after its gate closure, locally first, once; late energy is settled as imbalance next time', async () => {
    const c = await Community.open(chain, 'owner settle');
    await c.prices(P0, 4);
    // 12:00-12:15: anna produces 3 kWh and uses 0.5; bert uses 1; carl's meter is offline.
    await c.accept('Energy', ANNA_SOLAR, { amount: '3', register: '3', readingMs: P1 });
    await c.accept('Energy', ANNA_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    await c.reject('SettlePeriod', BERT, { periodStartMs: P0 }, 'gate_not_closed');
    await c.reject('SettlePeriod', BERT, { periodStartMs: P0 + 7 }, 'period_start_invalid');

    await chain.gotoBlock(chain.height + 1, P1 + 60_000);
    await c.accept('SettlePeriod', BERT, { periodStartMs: P0 });
    assert.deepEqual(await c.flows(P0), [
      'own anna>anna 500@0',
      'allocation anna>bert 1000@150000',
      'export anna>owner 1500@50000',
    ]);
    const statements = await c.statements(P0);
    assertBalanced(statements);
    const anna = statements.get('anna') as Record<string, unknown>;
    const bert = statements.get('bert') as Record<string, unknown>;
    // anna sold 1 kWh at 0.15 and exported 1.5 kWh at 0.05: she is owed 0.225 EUR.
    assert.equal(anna['due_neur'], -225_000_000n);
    assert.equal(bert['due_neur'], 150_000_000n);
    await c.reject('SettlePeriod', CARL, { periodStartMs: P0 }, 'period_already_settled');
    await c.reject(
      'MarketPrices',
      c.owner,
      { fromMs: P0, localEur: ['0.1'], supplyEur: ['0.1'], feedInEur: ['0.1'] },
      'period_already_settled',
    );

    // Carl's meter comes back with a reading dated in 12:00-12:15: booked as late, not into the
    // settled period, and settled at 12:15's settlement at 12:00's supply price.
    await c.accept('Energy', CARL_HOUSE, { amount: '-0.2', register: '0.2', readingMs: P1 - 1000 });
    assert.deepEqual(
      (await c.rows('energy_market_late')).map((r) => [r['period_start_ms'], r['wh']]),
      [[BigInt(P0), 200n]],
    );
    await c.accept('Energy', BERT_HOUSE, {
      amount: '-0.1',
      register: '1.1',
      readingMs: P1 + 60_000,
    });
    await c.reject('SettlePeriod', BERT, { periodStartMs: P1 }, 'gate_not_closed');
    await chain.gotoBlock(chain.height + 1, P1 + QUARTER_MS + 60_000);
    await c.accept('SettlePeriod', ANNA, { periodStartMs: P1 });
    assert.deepEqual(await c.flows(P1), [
      'supply owner>bert 100@300000',
      'late_supply owner>carl 200@300000',
    ]);
    assert.deepEqual(await c.rows('energy_market_late'), []);
    const later = await c.statements(P1);
    assertBalanced(later);
    assert.equal((later.get('carl') as Record<string, unknown>)['late_wh'], -200n);
    assert.equal((later.get('carl') as Record<string, unknown>)['imbalance_wh'], 200n);
    assert.equal((later.get('carl') as Record<string, unknown>)['due_neur'], 60_000_000n);
  });

  test('a period without energy can be settled (nothing to do) and one without prices cannot', async () => {
    const c = await Community.open(chain, 'owner empty');
    const early = P0 - 4 * QUARTER_MS;
    await c.reject('SettlePeriod', ANNA, { periodStartMs: early }, 'prices_missing');
    await c.prices(early, 1);
    await c.accept('SettlePeriod', ANNA, { periodStartMs: early });
    assert.deepEqual(await c.flows(early), []);
    assert.deepEqual(
      (await c.rows('energy_market_periods')).map((p) => p['settled']),
      [true],
    );
  });
  test('periods are settled in order; an order is removed once its last period is settled', async () => {
    const c = await Community.open(chain, 'owner in order');
    // The chain is shared: two periods after its block time, A and B.
    const A = Math.ceil((chain.processedMs + 1) / QUARTER_MS) * QUARTER_MS;
    const B = A + QUARTER_MS;
    await c.accept('Market', c.owner, { on: true, auction: true });
    await c.prices(A, 2);
    await c.accept('Energy', ANNA_SOLAR, { amount: '2', register: '2', readingMs: B });
    await c.accept('Energy', ANNA_SOLAR, { amount: '1', register: '3', readingMs: B + 60_000 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: B });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '2', readingMs: B + 60_000 });
    const order = { priceEur: '0.2', labels: [], fromMs: A };
    await c.accept('Order', ANNA, { ...order, side: 'sell', toMs: B });
    await c.accept('Order', BERT, { ...order, side: 'buy' });
    const sides = async (): Promise<string[]> =>
      (await c.rows('energy_market_orders'))
        .map((o) => `${o['side']} ${o['to_ms'] === BigInt(B) ? 'B' : 'A'}`)
        .sort();
    assert.deepEqual(await sides(), ['buy A', 'sell B']);

    await chain.gotoBlock(chain.height + 1, B + QUARTER_MS + 60_000);
    await c.reject('SettlePeriod', BERT, { periodStartMs: B }, 'earlier_period_unsettled');
    await c.accept('SettlePeriod', BERT, { periodStartMs: A });
    assert.deepEqual(await c.flows(A), [
      'auction anna>bert 1000@200000',
      'export anna>owner 1000@50000',
    ]);
    // Bert's order was for A only: it is gone; anna's stands until B is settled.
    assert.deepEqual(await sides(), ['sell B']);
    await c.accept('SettlePeriod', BERT, { periodStartMs: B });
    // No bids in B: what anna offers goes to bert by the community allocation.
    assert.deepEqual(await c.flows(B), ['allocation anna>bert 1000@150000']);
    assert.deepEqual(await sides(), []);
  });
});
