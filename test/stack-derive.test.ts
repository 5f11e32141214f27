// What a processor derives from its own chain for the other chain (src/stack/derive.ts), on the
// real engine with the real contracts: three layers (a neighbourhood, its city, the city's region)
// as contexts of one test chain, each derived payload executed as the processor would sign it, and
// accepted. The city's settlement for the neighbourhood is refused (stack_period_incomplete) until
// the region's settlement has come down to the city. The uplink carrying them between two real
// chains is test/e2e-stack.test.ts.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ChainError } from '../src/core/errors.js';
import { deriveDown, deriveUp } from '../src/stack/derive.js';
import { stackTxIdHex } from '../src/stack/ids.js';
import {
  EnergyChain,
  closeEnergyChains,
  mustAccept,
  testAddress,
  testKey,
} from './support/energy-chain.js';
import {
  ANNA,
  ANNA_SOLAR,
  BERT,
  BERT_HOUSE,
  Community,
  QUARTER_MS,
} from './support/market-community.js';

after(closeEnergyChains);

const PROCESSOR = 'derive processor';

async function link(
  parent: Community,
  child: Community,
  name: string,
  chainId: string,
): Promise<void> {
  const producer = testAddress(`derive ${name} producer`);
  const consumer = testAddress(`derive ${name} consumer`);
  await parent.accept('Trader', parent.owner, { address: child.owner, allowed: true });
  await parent.accept('Producer', parent.owner, {
    address: producer,
    allowed: true,
    trader: child.owner,
    labels: [],
  });
  await parent.accept('Consumer', parent.owner, {
    address: consumer,
    allowed: true,
    trader: child.owner,
    labels: [],
  });
  await parent.accept('MarketMember', parent.owner, {
    member: child.owner,
    chain: chainId,
    childContext: child.owner,
    processor: testAddress(PROCESSOR),
    producer,
    consumer,
  });
  await child.accept('MarketParent', child.owner, {
    on: true,
    parentChain: chainId,
    parentContext: parent.owner,
    processor: testAddress(PROCESSOR),
  });
}

test('three layers: each derived position and settlement is accepted by the real contracts', async () => {
  const chain = await EnergyChain.open();
  const chainId = chain.chain.chainId;
  testKey(PROCESSOR);
  const north = await Community.open(chain, 'derive north owner');
  const city = await Community.open(chain, 'derive city owner');
  const region = await Community.open(chain, 'derive region owner');
  // Gate closures grow up the layers: each parent waits for its children and the trip.
  await city.accept('Market', city.owner, { on: true, gateClosureSeconds: 180 });
  await region.accept('Market', region.owner, { on: true, gateClosureSeconds: 300 });
  await link(city, north, 'north', chainId);
  await link(region, city, 'city', chainId);
  // West is a member of the city too, but its position never goes up: it misses the gate.
  const west = await Community.open(chain, 'derive west owner');
  await link(city, west, 'west', chainId);
  // A meter of its own (the shared test meters keep one reading history across contexts).
  const westHouse = testAddress('derive west house');
  await west.accept('Consumer', west.owner, {
    address: westHouse,
    allowed: true,
    trader: BERT,
    labels: [],
  });
  const period = chain.processedMs - (chain.processedMs % QUARTER_MS) + QUARTER_MS;
  for (const c of [north, city, region, west]) await c.prices(period, 1);

  // North: bert uses 2 kWh. The city: anna's solar gives 0.5. The region: anna's solar gives 1.
  // West: bert uses 1 kWh.
  await chain.gotoBlock(chain.height + 1, period + 1000);
  await west.accept('Energy', westHouse, { amount: '-1', register: '1', readingMs: period + 1000 });
  await north.accept('Energy', BERT_HOUSE, {
    amount: '-2',
    register: '2',
    readingMs: period + 1000,
  });
  await city.accept('Energy', ANNA_SOLAR, {
    amount: '0.5',
    register: '0.5',
    readingMs: period + 1000,
  });
  await region.accept('Energy', ANNA_SOLAR, {
    amount: '1',
    register: '1',
    readingMs: period + 1000,
  });

  const run = async (derived: { payload: object }, type: string): Promise<void> => {
    mustAccept(
      await chain.execute(type, testAddress(PROCESSOR), derived.payload as Record<string, unknown>),
      type,
    );
  };
  const commit = async (atMs: number): Promise<void> => chain.gotoBlock(chain.height + 1, atMs);

  await commit(period + QUARTER_MS + 60_000);
  await north.accept('SettlePeriod', BERT, { periodStartMs: period });
  await west.accept('SettlePeriod', BERT, { periodStartMs: period });
  const settledAt = chain.height;
  await commit(period + QUARTER_MS + 61_000);
  const northUp = await deriveUp(chain.chain.db, chainId, north.owner, period, chainId);
  assert.equal(
    northUp.idHex,
    stackTxIdHex({
      childChain: chainId,
      parentChain: chainId,
      childContext: north.owner,
      periodStartMs: period,
      direction: 'up',
    }),
  );
  assert.deepEqual(
    [
      northUp.payload.context,
      northUp.payload.height,
      northUp.payload.directions,
      northUp.payload.labels,
      northUp.payload.amounts,
      northUp.payload.periodSeconds,
    ],
    [city.owner, settledAt, ['consumed'], [[]], ['2'], 900],
  );
  await run(northUp, 'MemberPosition');
  // Before the city's gate closes, west may still send its position: nothing to sign yet.
  await assert.rejects(
    deriveDown(chain.chain.db, chainId, city.owner, period, west.owner, chainId),
    (err: ChainError) => err.code === 'stack_period_incomplete',
  );
  await commit(period + QUARTER_MS + 180_000);
  const gateBlock = chain.height;
  await city.accept('SettlePeriod', BERT, { periodStartMs: period });
  await commit(period + QUARTER_MS + 181_000);
  // The city has a residual of its own (north's remaining 1.5 kWh): it is not complete yet.
  await assert.rejects(
    deriveDown(chain.chain.db, chainId, city.owner, period, north.owner, chainId),
    (err: ChainError) =>
      err.code === 'stack_period_incomplete' && /waits for its own parent/.test(err.message),
  );
  // West missed the gate: the city signs the missed settlement at the first block of its gate.
  const westDown = await deriveDown(
    chain.chain.db,
    chainId,
    city.owner,
    period,
    west.owner,
    chainId,
  );
  assert.deepEqual(
    [
      westDown.payload.missed,
      westDown.payload.height,
      westDown.payload.sides,
      westDown.payload.supplyEur,
      westDown.payload.feedInEur,
    ],
    [true, gateBlock, [], '0.3', '0.05'],
  );
  await run(westDown, 'UpstreamSettlement');
  const cityUp = await deriveUp(chain.chain.db, chainId, city.owner, period, chainId);
  assert.deepEqual([cityUp.payload.amounts, cityUp.payload.context], [['1.5'], region.owner]);
  await run(cityUp, 'MemberPosition');
  await commit(period + QUARTER_MS + 300_000);
  await region.accept('SettlePeriod', BERT, { periodStartMs: period });
  await commit(period + QUARTER_MS + 301_000);

  const regionDown = await deriveDown(
    chain.chain.db,
    chainId,
    region.owner,
    period,
    city.owner,
    chainId,
  );
  assert.deepEqual(
    [
      regionDown.payload.sides,
      regionDown.payload.counterparties,
      regionDown.payload.amounts,
      regionDown.payload.external,
      regionDown.payload.missed,
    ],
    [['in', 'in'], [ANNA, region.owner], ['1', '0.5'], [false, true], false],
  );
  await run(regionDown, 'UpstreamSettlement');
  await commit(period + QUARTER_MS + 302_000);
  const cityDown = await deriveDown(
    chain.chain.db,
    chainId,
    city.owner,
    period,
    north.owner,
    chainId,
  );
  assert.deepEqual(
    [
      cityDown.payload.sides,
      cityDown.payload.counterparties,
      cityDown.payload.amounts,
      cityDown.payload.labels,
      cityDown.payload.external,
    ],
    [
      ['in', 'in', 'in'],
      [ANNA, ANNA, region.owner],
      ['0.5', '1', '0.5'],
      [['solar'], ['solar'], []],
      [false, false, true],
    ],
  );
  await run(cityDown, 'UpstreamSettlement');
  await commit(period + QUARTER_MS + 303_000);
  // Bert's 2 kWh: 0.5 of the city's solar, 1 of the region's, 0.5 supplied through the region.
  const kinds = (await north.rows('energy_market_flows'))
    .filter((f) => f['period_start_ms'] === BigInt(period))
    .sort((a, b) => Number((a['seq'] as bigint) - (b['seq'] as bigint)))
    .map((f) => [f['kind'], f['seller'], f['buyer'], f['wh']]);
  assert.deepEqual(kinds, [
    ['upstream', ANNA, BERT, 500n],
    ['upstream', ANNA, BERT, 1000n],
    ['supply', region.owner, BERT, 500n],
  ]);
  const westFlows = (await west.rows('energy_market_flows')).map((f) => [
    f['kind'],
    f['seller'],
    f['buyer'],
    f['wh'],
    f['price_ueur_per_kwh'],
  ]);
  assert.deepEqual(westFlows, [['supply', city.owner, BERT, 1000n, 300000n]]);
  // Settled: the child's processor signs no position for it any more.
  await assert.rejects(
    deriveUp(chain.chain.db, chainId, north.owner, period, chainId),
    (err: ChainError) => err.code === 'stack_upstream_not_open',
  );
  await assert.rejects(
    deriveUp(chain.chain.db, chainId, north.owner, period, 'another-chain'),
    (err: ChainError) => err.code === 'stack_not_linked',
  );
});
