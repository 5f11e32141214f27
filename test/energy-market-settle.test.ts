// MarketPrices and SettlePeriod on the real engine: the owner's price table, settling a period
// after its gate closure (locally first, then externally), statements that bring every trader's
// position to zero, idempotence, and late energy settled as imbalance by the next settlement.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EnergyChain, closeEnergyChains, mustAccept, testAddress } from './support/energy-chain.js';
import type { Outcome } from './support/energy-chain.js';

const ANNA = testAddress('anna');
const BERT = testAddress('bert');
const CARL = testAddress('carl');
const ANNA_SOLAR = testAddress('anna solar meter');
const ANNA_HOUSE = testAddress('anna house meter');
const BERT_HOUSE = testAddress('bert house meter');
const CARL_HOUSE = testAddress('carl house meter');
const NAMES = new Map([
  [ANNA, 'anna'],
  [BERT, 'bert'],
  [CARL, 'carl'],
]);
const QUARTER_MS = 900_000;
const P0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const P1 = P0 + QUARTER_MS;

/** One context on the shared chain: three households, anna with solar panels. */
class Community {
  constructor(
    readonly chain: EnergyChain,
    readonly owner: string,
  ) {
    NAMES.set(owner, 'owner');
  }

  static async open(chain: EnergyChain, ownerName: string): Promise<Community> {
    const c = new Community(chain, testAddress(ownerName));
    for (const trader of [ANNA, BERT, CARL])
      await c.accept('Trader', c.owner, { address: trader, allowed: true });
    await c.accept('Producer', c.owner, {
      address: ANNA_SOLAR,
      allowed: true,
      trader: ANNA,
      labels: ['solar'],
    });
    for (const [meter, trader] of [
      [ANNA_HOUSE, ANNA],
      [BERT_HOUSE, BERT],
      [CARL_HOUSE, CARL],
    ] as const)
      await c.accept('Consumer', c.owner, { address: meter, allowed: true, trader, labels: [] });
    await c.accept('Market', c.owner, { on: true, gateClosureSeconds: 60 });
    return c;
  }

  call(type: string, sender: string, fields: Record<string, unknown>): Promise<Outcome> {
    return this.chain.execute(type, sender, { context: this.owner, ...fields });
  }

  async accept(type: string, sender: string, fields: Record<string, unknown>): Promise<void> {
    mustAccept(await this.call(type, sender, fields), `${type} ${JSON.stringify(fields)}`);
  }

  async reject(
    type: string,
    sender: string,
    fields: Record<string, unknown>,
    code: string,
  ): Promise<void> {
    const before = await this.chain.snapshot();
    const outcome = await this.call(type, sender, fields);
    assert.equal(outcome.status, 'rejected', JSON.stringify(outcome));
    if (outcome.status === 'rejected') assert.equal(outcome.code, code, outcome.message);
    assert.equal(
      await this.chain.snapshot(),
      before,
      `rejected with ${code} but changed the state`,
    );
  }

  async rows(table: string): Promise<Record<string, unknown>[]> {
    return (await this.chain.rows(table)).filter((r) => r['context'] === this.owner);
  }

  /** Prices for periods from `fromMs`: local 0.15, supply 0.30, feed-in 0.05 EUR/kWh. */
  async prices(fromMs: number, count: number): Promise<void> {
    await this.accept('MarketPrices', this.owner, {
      fromMs,
      localEur: Array(count).fill('0.15'),
      supplyEur: Array(count).fill('0.3'),
      feedInEur: Array(count).fill('0.05'),
    });
  }

  /** The flows of a period as "kind seller>buyer wh@price". */
  async flows(periodStartMs: number): Promise<string[]> {
    return (await this.rows('energy_market_flows'))
      .filter((f) => f['period_start_ms'] === BigInt(periodStartMs))
      .sort((a, b) => Number((a['seq'] as bigint) - (b['seq'] as bigint)))
      .map(
        (f) =>
          `${f['kind']} ${NAMES.get(f['seller'] as string)}>${NAMES.get(f['buyer'] as string)} ${f['wh']}@${f['price_ueur_per_kwh']}`,
      );
  }

  /** Statements of a period: trader -> row. */
  async statements(periodStartMs: number): Promise<Map<string, Record<string, unknown>>> {
    return new Map(
      (await this.rows('energy_market_statements'))
        .filter((s) => s['period_start_ms'] === BigInt(periodStartMs))
        .map((s) => [NAMES.get(s['trader'] as string) as string, s]),
    );
  }
}

/** Every statement balances: produced - consumed + late + bought - sold + supplied - exported + imbalance = 0. */
function assertBalanced(statements: Map<string, Record<string, unknown>>): void {
  for (const [who, s] of statements) {
    const n = (k: string): bigint => s[k] as bigint;
    assert.equal(
      n('produced_wh') -
        n('consumed_wh') +
        n('bought_wh') -
        n('sold_wh') +
        n('supplied_wh') -
        n('exported_wh') +
        n('late_wh') +
        n('imbalance_wh'),
      0n,
      `${who}'s position is not zero`,
    );
    assert.equal(
      n('due_neur'),
      n('bought_neur') +
        n('supplied_neur') -
        n('sold_neur') -
        n('exported_neur') +
        n('imbalance_neur'),
    );
  }
}

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
});
