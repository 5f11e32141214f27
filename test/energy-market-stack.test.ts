// Stacked marketplaces on the real engine (decision 0012): two neighbourhoods and their city as
// three contexts of one chain (the contracts do not care whether the parent is on another chain;
// the signers stand for the processors). A neighbourhood's residual goes up as its member's
// position (MemberPosition, signed by the child's processor), the city settles among its members,
// and what the member bought and sold comes back down (UpstreamSettlement, signed by the city's
// processor) to the households, with the city's labels and prices. Every rejection changes nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EnergyChain, closeEnergyChains, testAddress, testKey } from './support/energy-chain.js';
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

const CITY_CHAIN = 'city-chain';
const HASH = 'ab'.repeat(32);

/** A city with two neighbourhoods, each a Community of its own on the test chain. */
interface Stack {
  readonly north: Community;
  readonly south: Community;
  readonly city: Community;
  readonly cityProcessor: string;
  readonly processorOf: Map<string, string>;
  readonly names: Map<string, string>;
}

async function openStack(chain: EnergyChain, tag: string): Promise<Stack> {
  const north = await Community.open(chain, `${tag} north owner`);
  const south = await Community.open(chain, `${tag} south owner`);
  const city = new Community(chain, testAddress(`${tag} city owner`));
  const cityProcessor = testAddress(`${tag} city processor`);
  testKey(`${tag} city processor`);
  const processorOf = new Map<string, string>();
  const names = new Map([
    [ANNA, 'anna'],
    [BERT, 'bert'],
    [CARL, 'carl'],
    [north.owner, 'north'],
    [south.owner, 'south'],
    [city.owner, 'city'],
  ]);
  await city.accept('Market', city.owner, { on: true, gateClosureSeconds: 180 });
  await city.accept('MarketPrices', city.owner, {
    fromMs: P0,
    localEur: ['0.12', '0.12'],
    supplyEur: ['0.3', '0.3'],
    feedInEur: ['0.04', '0.04'],
  });
  for (const [name, n] of [
    ['north', north],
    ['south', south],
  ] as const) {
    const producer = testAddress(`${tag} ${name} in city producer`);
    const consumer = testAddress(`${tag} ${name} in city consumer`);
    const processor = testAddress(`${tag} ${name} processor`);
    testKey(`${tag} ${name} processor`);
    processorOf.set(n.owner, processor);
    await city.accept('Trader', city.owner, { address: n.owner, allowed: true });
    await city.accept('Producer', city.owner, {
      address: producer,
      allowed: true,
      trader: n.owner,
      labels: ['solar'],
    });
    await city.accept('Consumer', city.owner, {
      address: consumer,
      allowed: true,
      trader: n.owner,
      labels: [],
    });
    await city.accept('MarketMember', city.owner, {
      member: n.owner,
      chain: `${name}-chain`,
      childContext: n.owner,
      processor,
      producer,
      consumer,
    });
    await n.accept('MarketParent', n.owner, {
      on: true,
      parentChain: CITY_CHAIN,
      parentContext: city.owner,
      processor: cityProcessor,
    });
    await n.prices(P0, 2);
  }
  return { north, south, city, cityProcessor, processorOf, names };
}

/** A period's flows of a context as "kind seller>buyer [labels] wh@price". */
async function flowsOf(s: Stack, c: Community, periodStartMs: number): Promise<string[]> {
  return (await c.rows('energy_market_flows'))
    .filter((f) => f['period_start_ms'] === BigInt(periodStartMs))
    .sort((a, b) => Number((a['seq'] as bigint) - (b['seq'] as bigint)))
    .map(
      (f) =>
        `${f['kind']} ${s.names.get(f['seller'] as string)}>${s.names.get(f['buyer'] as string)} [${(f['labels'] as string[]).join(',')}] ${f['wh']}@${f['price_ueur_per_kwh']}`,
    );
}

function position(
  s: Stack,
  child: Community,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  const name = s.names.get(child.owner) as string;
  return {
    member: child.owner,
    chain: `${name}-chain`,
    childContext: child.owner,
    periodStartMs: P0,
    periodSeconds: 900,
    height: 10,
    blockHash: HASH,
    directions: [],
    labels: [],
    amounts: [],
    ...fields,
  };
}

function settlement(
  s: Stack,
  fields: Record<string, unknown> = {},
  flows: [string, string, string[], string, string, boolean][] = [],
): Record<string, unknown> {
  return {
    periodStartMs: P0,
    chain: CITY_CHAIN,
    parentContext: s.city.owner,
    height: 50,
    blockHash: HASH,
    missed: false,
    supplyEur: '0.3',
    feedInEur: '0.04',
    sides: flows.map((f) => f[0]),
    counterparties: flows.map((f) => f[1]),
    labels: flows.map((f) => f[2]),
    amounts: flows.map((f) => f[3]),
    pricesEur: flows.map((f) => f[4]),
    external: flows.map((f) => f[5]),
    ...fields,
  };
}

describe('stacked marketplaces', () => {
  let chain: EnergyChain;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: P0 + 5000 });
  });
  after(closeEnergyChains);

  test('a neighbourhood in surplus covers one in deficit through their city, labels and prices intact', async () => {
    const s = await openStack(chain, 'up and down');
    const { north, south, city } = s;
    // North: anna's solar 3 kWh, anna uses 0.5, bert 1: 1.5 kWh of solar is left.
    await north.accept('Energy', ANNA_SOLAR, { amount: '3', register: '3', readingMs: P1 });
    await north.accept('Energy', ANNA_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await north.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    // South: no production; bert uses 2, carl 1.
    await south.accept('Energy', BERT_HOUSE, { amount: '-2', register: '2', readingMs: P1 });
    await south.accept('Energy', CARL_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    await chain.gotoBlock(chain.height + 1, P1 + 60_000);
    await north.accept('SettlePeriod', BERT, { periodStartMs: P0 });
    await south.accept('SettlePeriod', BERT, { periodStartMs: P0 });
    // Locally first; what is left waits for the city instead of going to the owner.
    assert.deepEqual(await flowsOf(s, north, P0), [
      'own anna>anna [solar] 500@0',
      'allocation anna>bert [solar] 1000@150000',
    ]);
    assert.deepEqual(await flowsOf(s, south, P0), []);
    assert.deepEqual(
      (await north.rows('energy_market_residuals')).map((r) => [
        s.names.get(r['trader'] as string),
        r['direction'],
        r['labels'],
        r['wh'],
      ]),
      [['anna', 'produced', ['solar'], 1500n]],
    );
    const [southUp] = await south.rows('energy_market_upstream');
    assert.equal(southUp?.['state'], 'open');
    assert.equal(southUp?.['consumed_wh'], 3000n);
    // The parent cannot change while a residual waits.
    await north.reject(
      'MarketParent',
      north.owner,
      { on: true, parentChain: 'elsewhere', parentContext: city.owner, processor: ANNA },
      'upstream_open',
    );

    // Up: each child processor signs its member's position.
    const northProcessor = s.processorOf.get(north.owner) as string;
    const southProcessor = s.processorOf.get(south.owner) as string;
    const northUp = position(s, north, {
      directions: ['produced'],
      labels: [['solar']],
      amounts: ['1.5'],
    });
    await city.reject('MemberPosition', southProcessor, northUp, 'checkpoint_signer_unknown');
    await city.reject(
      'MemberPosition',
      northProcessor,
      { ...northUp, chain: 'south-chain' },
      'checkpoint_mismatch',
    );
    await city.reject(
      'MemberPosition',
      northProcessor,
      { ...northUp, member: ANNA },
      'member_unknown',
    );
    await city.reject(
      'MemberPosition',
      northProcessor,
      { ...northUp, periodSeconds: 60 },
      'period_length_mismatch',
    );
    await city.reject(
      'MemberPosition',
      northProcessor,
      { ...northUp, periodStartMs: P0 + 1 },
      'period_start_invalid',
    );
    for (const bad of [
      { directions: ['sideways'], labels: [[]], amounts: ['1'] },
      { directions: ['produced'], labels: [[]], amounts: ['0'] },
      { directions: ['produced'], labels: [[], []], amounts: ['1'] },
      { directions: ['produced', 'produced'], labels: [['solar'], ['solar']], amounts: ['1', '2'] },
    ])
      await city.reject(
        'MemberPosition',
        northProcessor,
        { ...northUp, ...bad },
        'checkpoint_invalid',
      );
    await city.accept('MemberPosition', northProcessor, northUp);
    await city.reject('MemberPosition', northProcessor, northUp, 'position_exists');
    await city.accept(
      'MemberPosition',
      southProcessor,
      position(s, south, { directions: ['consumed'], labels: [[]], amounts: ['3'] }),
    );

    // The city settles among its members: north's solar covers half of south's deficit.
    await chain.gotoBlock(chain.height + 1, P1 + 180_000);
    await city.accept('SettlePeriod', BERT, { periodStartMs: P0 });
    assert.deepEqual(await flowsOf(s, city, P0), [
      'allocation north>south [solar] 1500@120000',
      'supply city>south [] 1500@300000',
    ]);

    // Down: the city's processor signs what each member did; the households get it.
    const northDown = settlement(s, { member: north.owner }, [
      ['out', south.owner, ['solar'], '1.5', '0.12', false],
    ]);
    await north.reject('UpstreamSettlement', ANNA, northDown, 'upstream_signer_unknown');
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      { ...northDown, amounts: ['1.4'] },
      'upstream_mismatch',
    );
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      { ...northDown, member: south.owner },
      'upstream_mismatch',
    );
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      { ...northDown, periodStartMs: P1 },
      'upstream_not_open',
    );
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      { ...northDown, sides: ['sideways'] },
      'checkpoint_invalid',
    );
    await north.accept('UpstreamSettlement', s.cityProcessor, northDown);
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      northDown,
      'upstream_already_settled',
    );
    assert.deepEqual((await flowsOf(s, north, P0)).slice(2), [
      'upstream anna>south [solar] 1500@120000',
    ]);
    await south.accept(
      'UpstreamSettlement',
      s.cityProcessor,
      settlement(s, { member: south.owner }, [
        ['in', north.owner, ['solar'], '1.5', '0.12', false],
        ['in', city.owner, [], '1.5', '0.3', true],
      ]),
    );
    // Bert and carl share both in proportion to their deficits (2:1).
    assert.deepEqual(await flowsOf(s, south, P0), [
      'upstream north>bert [solar] 1000@120000',
      'upstream north>carl [solar] 500@120000',
      'supply city>bert [] 1000@300000',
      'supply city>carl [] 500@300000',
    ]);
    for (const c of [north, south]) {
      const statements = await c.statements(P0);
      assertBalanced(statements);
      const [up] = await c.rows('energy_market_upstream');
      assert.equal(up?.['state'], 'settled');
    }
    const southBert = (await south.statements(P0)).get('bert') as Record<string, unknown>;
    assert.equal(southBert['bought_wh'], 1000n);
    assert.equal(southBert['bought_neur'], 120_000_000n);
    assert.equal(southBert['supplied_wh'], 1000n);
    assert.equal(southBert['due_neur'], 420_000_000n);
    const northAnna = (await north.statements(P0)).get('anna') as Record<string, unknown>;
    assert.equal(northAnna['sold_wh'], 2500n);
    assert.equal(northAnna['sold_neur'], 150_000_000n + 180_000_000n);
  });

  test('a position that misses the city gate is refused; the child is settled externally at the city prices', async () => {
    const s = await openStack(chain, 'missed');
    const { north, city } = s;
    const start = chain.processedMs;
    const period = start - (start % QUARTER_MS) + QUARTER_MS;
    await city.accept('MarketPrices', city.owner, {
      fromMs: period,
      localEur: ['0.12'],
      supplyEur: ['0.31'],
      feedInEur: ['0.04'],
    });
    await north.prices(period, 1);
    await chain.gotoBlock(chain.height + 1, period + 1000);
    await north.accept('Energy', ANNA_SOLAR, {
      amount: '2',
      register: '2',
      readingMs: period + 1000,
    });
    await north.accept('Energy', BERT_HOUSE, {
      amount: '-0.4',
      register: '0.4',
      readingMs: period + 1000,
    });
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 60_000);
    await north.accept('SettlePeriod', CARL, { periodStartMs: period });
    // The trip up took too long: the city's gate has closed.
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 180_000);
    const up = position(s, north, {
      periodStartMs: period,
      height: 20,
      directions: ['produced'],
      labels: [['solar']],
      amounts: ['1.6'],
    });
    await city.reject(
      'MemberPosition',
      s.processorOf.get(north.owner) as string,
      up,
      'position_after_gate',
    );
    const missed = settlement(s, {
      member: north.owner,
      periodStartMs: period,
      missed: true,
      supplyEur: '0.31',
      feedInEur: '0.04',
    });
    await north.reject(
      'UpstreamSettlement',
      s.cityProcessor,
      {
        ...missed,
        sides: ['out'],
        counterparties: [city.owner],
        labels: [['solar']],
        amounts: ['1.6'],
        pricesEur: ['0.04'],
        external: [true],
      },
      'checkpoint_invalid',
    );
    await north.accept('UpstreamSettlement', s.cityProcessor, missed);
    assert.deepEqual(await flowsOf(s, north, period), [
      'allocation anna>bert [solar] 400@150000',
      'export anna>city [solar] 1600@40000',
    ]);
    assertBalanced(await north.statements(period));
    const [row] = (await north.rows('energy_market_upstream')).filter(
      (r) => r['period_start_ms'] === BigInt(period),
    );
    assert.equal(row?.['missed'], true);
  });

  test('own energy in the city comes back as a trade between households at the local price', async () => {
    const s = await openStack(chain, 'own');
    const { north, city } = s;
    // North clears by auction only, with no orders: anna's surplus and carl's deficit both go up.
    await north.accept('Market', north.owner, { on: true, auction: true, allocation: false });
    const start = chain.processedMs;
    const period = start - (start % QUARTER_MS) + QUARTER_MS;
    await north.prices(period, 1);
    await city.accept('MarketPrices', city.owner, {
      fromMs: period,
      localEur: ['0.12'],
      supplyEur: ['0.3'],
      feedInEur: ['0.04'],
    });
    await chain.gotoBlock(chain.height + 1, period + 1000);
    await north.accept('Energy', ANNA_SOLAR, {
      amount: '1',
      register: '1',
      readingMs: period + 1000,
    });
    await north.accept('Energy', CARL_HOUSE, {
      amount: '-0.6',
      register: '0.6',
      readingMs: period + 1000,
    });
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 60_000);
    await north.accept('SettlePeriod', CARL, { periodStartMs: period });
    const northProcessor = s.processorOf.get(north.owner) as string;
    await city.accept(
      'MemberPosition',
      northProcessor,
      position(s, north, {
        periodStartMs: period,
        height: 30,
        directions: ['consumed', 'produced'],
        labels: [[], ['solar']],
        amounts: ['0.6', '1'],
      }),
    );
    await city.reject(
      'MemberPosition',
      northProcessor,
      position(s, north, { periodStartMs: period + QUARTER_MS, height: 29 }),
      'checkpoint_out_of_order',
    );
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 180_000);
    await city.accept('SettlePeriod', CARL, { periodStartMs: period });
    assert.deepEqual(await flowsOf(s, city, period), [
      'own north>north [solar] 600@0',
      'export north>city [solar] 400@40000',
    ]);
    await north.accept(
      'UpstreamSettlement',
      s.cityProcessor,
      settlement(s, { member: north.owner, periodStartMs: period }, [
        ['own', north.owner, ['solar'], '0.6', '0', false],
        ['out', city.owner, ['solar'], '0.4', '0.04', true],
      ]),
    );
    assert.deepEqual(await flowsOf(s, north, period), [
      'export anna>city [solar] 400@40000',
      'upstream_own anna>carl [solar] 600@150000',
    ]);
    assertBalanced(await north.statements(period));
  });
  test('three layers: the deficit of a neighbourhood is covered by its city and by another member of the region', async () => {
    const s = await openStack(chain, 'three');
    const { north, south, city } = s;
    const region = new Community(chain, testAddress('three region owner'));
    const regionProcessor = testAddress('three region processor');
    testKey('three region processor');
    const cityProcessor = s.cityProcessor;
    const west = await Community.open(chain, 'three west owner');
    const westProcessor = testAddress('three west processor');
    testKey('three west processor');
    s.names.set(region.owner, 'region');
    s.names.set(west.owner, 'west');
    const start = chain.processedMs;
    const period = start - (start % QUARTER_MS) + QUARTER_MS;
    await region.accept('Market', region.owner, { on: true, gateClosureSeconds: 300 });
    await region.accept('MarketPrices', region.owner, {
      fromMs: period,
      localEur: ['0.1'],
      supplyEur: ['0.35'],
      feedInEur: ['0.03'],
    });
    for (const [name, member, processor] of [
      ['city', city.owner, cityProcessor],
      ['west', west.owner, westProcessor],
    ] as const) {
      const producer = testAddress(`three ${name} in region producer`);
      const consumer = testAddress(`three ${name} in region consumer`);
      await region.accept('Trader', region.owner, { address: member, allowed: true });
      await region.accept('Producer', region.owner, {
        address: producer,
        allowed: true,
        trader: member,
        labels: ['solar'],
      });
      await region.accept('Consumer', region.owner, {
        address: consumer,
        allowed: true,
        trader: member,
        labels: [],
      });
      await region.accept('MarketMember', region.owner, {
        member,
        chain: `${name}-chain`,
        childContext: member,
        processor,
        producer,
        consumer,
      });
    }
    for (const child of [city, west])
      await child.accept('MarketParent', child.owner, {
        on: true,
        parentChain: 'region-chain',
        parentContext: region.owner,
        processor: regionProcessor,
      });
    await city.accept('MarketPrices', city.owner, {
      fromMs: period,
      localEur: ['0.12'],
      supplyEur: ['0.3'],
      feedInEur: ['0.04'],
    });
    for (const n of [north, south, west]) await n.prices(period, 1);

    // North has 1 kWh of solar left, south needs 3 kWh, west has 1.5 kWh of solar left.
    await chain.gotoBlock(chain.height + 1, period + 1000);
    await north.accept('Energy', ANNA_SOLAR, {
      amount: '1',
      register: '1',
      readingMs: period + 1000,
    });
    await south.accept('Energy', BERT_HOUSE, {
      amount: '-2',
      register: '2',
      readingMs: period + 1000,
    });
    await south.accept('Energy', CARL_HOUSE, {
      amount: '-1',
      register: '1',
      readingMs: period + 1000,
    });
    await west.accept('Energy', ANNA_SOLAR, {
      amount: '1.5',
      register: '1.5',
      readingMs: period + 1000,
    });
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 60_000);
    for (const n of [north, south, west])
      await n.accept('SettlePeriod', CARL, { periodStartMs: period });
    const up = (child: Community, directions: string[], labels: string[][], amounts: string[]) => ({
      ...position(s, child, { periodStartMs: period, height: 40 }),
      chain: `${s.names.get(child.owner)}-chain`,
      directions,
      labels,
      amounts,
    });
    await city.accept(
      'MemberPosition',
      s.processorOf.get(north.owner) as string,
      up(north, ['produced'], [['solar']], ['1']),
    );
    await city.accept(
      'MemberPosition',
      s.processorOf.get(south.owner) as string,
      up(south, ['consumed'], [[]], ['3']),
    );
    await region.accept(
      'MemberPosition',
      westProcessor,
      up(west, ['produced'], [['solar']], ['1.5']),
    );

    // The city settles first and sends its own residual (south's remaining 2 kWh) up.
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 180_000);
    await city.accept('SettlePeriod', CARL, { periodStartMs: period });
    assert.deepEqual(await flowsOf(s, city, period), [
      'allocation north>south [solar] 1000@120000',
    ]);
    await region.accept('MemberPosition', cityProcessor, up(city, ['consumed'], [[]], ['2']));
    await chain.gotoBlock(chain.height + 1, period + QUARTER_MS + 300_000);
    await region.accept('SettlePeriod', CARL, { periodStartMs: period });
    assert.deepEqual(await flowsOf(s, region, period), [
      'allocation west>city [solar] 1500@100000',
      'supply region>city [] 500@350000',
    ]);

    // Down, region to city and west; then city to north and south, with the region's flows.
    await city.accept(
      'UpstreamSettlement',
      regionProcessor,
      settlement(
        s,
        {
          member: city.owner,
          periodStartMs: period,
          chain: 'region-chain',
          parentContext: region.owner,
        },
        [
          ['in', west.owner, ['solar'], '1.5', '0.1', false],
          ['in', region.owner, [], '0.5', '0.35', true],
        ],
      ),
    );
    await west.accept(
      'UpstreamSettlement',
      regionProcessor,
      settlement(
        s,
        {
          member: west.owner,
          periodStartMs: period,
          chain: 'region-chain',
          parentContext: region.owner,
        },
        [['out', city.owner, ['solar'], '1.5', '0.1', false]],
      ),
    );
    assert.deepEqual(await flowsOf(s, city, period), [
      'allocation north>south [solar] 1000@120000',
      'upstream west>south [solar] 1500@100000',
      'supply region>south [] 500@350000',
    ]);
    await north.accept(
      'UpstreamSettlement',
      cityProcessor,
      settlement(s, { member: north.owner, periodStartMs: period }, [
        ['out', south.owner, ['solar'], '1', '0.12', false],
      ]),
    );
    await south.accept(
      'UpstreamSettlement',
      cityProcessor,
      settlement(s, { member: south.owner, periodStartMs: period }, [
        ['in', north.owner, ['solar'], '1', '0.12', false],
        ['in', west.owner, ['solar'], '1.5', '0.1', false],
        ['in', region.owner, [], '0.5', '0.35', true],
      ]),
    );
    // South's households: solar from north (city price) and from west (region price), the rest
    // external through the region, shared 2:1.
    assert.deepEqual(await flowsOf(s, south, period), [
      'upstream north>bert [solar] 667@120000',
      'upstream north>carl [solar] 333@120000',
      'upstream west>bert [solar] 1000@100000',
      'upstream west>carl [solar] 500@100000',
      'supply region>bert [] 333@350000',
      'supply region>carl [] 167@350000',
    ]);
    for (const c of [north, south, west, city]) assertBalanced(await c.statements(period));
  });
});
