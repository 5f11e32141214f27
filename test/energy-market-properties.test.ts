// The local market's properties on the real engine (EnergyChain: the QuickJS executor, the state
// tables on PGlite): random communities, readings, orders and prices (test/support/
// market-scenario.ts), every period settled in order, then checked on the state tables:
//
//   - every statement balances, and says what the flows say;
//   - energy: per period and trader, what its meters booked into the period = what the flows
//     took from it (own use, sold, exported) and gave it (own use, bought, supplied); every Wh a
//     meter sent is settled exactly once, on time or late as imbalance, and every correction of
//     the owner (MarketCorrection) once, in its trader's statement; nothing stays behind;
//   - money: per period, buyers pay what sellers receive; external flows and late ones are priced
//     by the price table of their period; what the traders owe in sum is what the owner supplied
//     minus what it took;
//   - limits: an auction flow's price is at most a limit of an order of the buyer and at least one
//     of the seller (orders that applied to the period), never above what they asked for, never
//     with itself;
//   - labels are only ever removed: a flow carries labels of one of the seller's producers, and a
//     local flow to a buyer carries every label one of its consumers requires (a correction
//     carries the labels the owner gave it);
//   - tie-break: the same scenario in a second context, with other trader keys (so another
//     address order) and its orders submitted in another order that keeps only the order of
//     equal orders (same side and price), clears the auction the same way (the same auction flows
//     and class prices, traders mapped); with the allocation off, everything is the same.
//
// Then the edge cases other clearing engines got wrong, as named examples on the real engine.
// Replay a failure with SEED=<n>; NUM_RUNS=<n> runs more.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { EnergyChain, closeEnergyChains, testAddress } from './support/energy-chain.js';
import type { Row } from './support/energy-chain.js';
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
  assertBalanced,
} from './support/market-community.js';
import { arbPlan, buildScenario, ueurOf } from './support/market-scenario.js';
import type { Scenario, ScenarioContext, ScenarioOrder } from './support/market-scenario.js';
import { nextBaseMs, runOnChain } from './support/market-run.js';

const SEED = Number(process.env['SEED'] ?? 20261207);
const NUM_RUNS = Number(process.env['NUM_RUNS'] ?? 16);
const QUARTER_MS = 900_000;

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);
const n = (row: Row, column: string): bigint => row[column] as bigint;
const subset = (a: readonly string[], b: readonly string[]): boolean =>
  a.every((x) => b.includes(x));

interface Tables {
  readonly statements: Row[];
  readonly flows: Row[];
  readonly clearings: Row[];
  readonly positions: Row[];
  readonly bookings: Row[];
}

async function tablesOf(chain: EnergyChain, context: string): Promise<Tables> {
  const rows = async (table: string): Promise<Row[]> =>
    (await chain.rows(table)).filter((r) => r['context'] === context);
  const periods = await rows('energy_market_periods');
  assert.ok(
    periods.every((p) => p['settled'] === true),
    'every period that received energy is settled',
  );
  assert.deepEqual(await rows('energy_market_late'), [], 'no late energy is left unsettled');
  assert.ok(
    (await rows('energy_market_corrections')).every((r) => r['settled_period_ms'] !== -1n),
    'every correction is settled',
  );
  assert.deepEqual(
    await rows('energy_market_orders'),
    [],
    'orders leave the book after their last period',
  );
  return {
    statements: await rows('energy_market_statements'),
    flows: await rows('energy_market_flows'),
    clearings: await rows('energy_market_clearings'),
    positions: await rows('energy_market_positions'),
    bookings: await rows('energy_market_bookings'),
  };
}

const LOCAL = new Set(['own', 'auction', 'allocation']);
const TRADED = new Set(['auction', 'allocation']);

/** What a trader's statement must say, summed from the period's flows and positions. */
function expectedStatement(
  trader: string,
  positions: readonly Row[],
  flows: readonly Row[],
): Record<string, bigint> {
  const of = (rows: readonly Row[], pick: (r: Row) => boolean, column = 'wh'): bigint =>
    sum(rows.filter(pick).map((r) => n(r, column)));
  const mine = positions.filter((p) => p['trader'] === trader);
  const sells = (r: Row): boolean => r['seller'] === trader;
  const buys = (r: Row): boolean => r['buyer'] === trader;
  const kind = (k: string) => (r: Row) => r['kind'] === k;
  const traded = (r: Row): boolean => TRADED.has(r['kind'] as string);
  return {
    produced_wh: of(mine, (p) => p['direction'] === 'produced'),
    consumed_wh: of(mine, (p) => p['direction'] === 'consumed'),
    own_use_wh: of(flows, (f) => kind('own')(f) && buys(f)),
    bought_wh: of(flows, (f) => traded(f) && buys(f)),
    bought_neur: of(flows, (f) => traded(f) && buys(f), 'neur'),
    sold_wh: of(flows, (f) => traded(f) && sells(f)),
    sold_neur: of(flows, (f) => traded(f) && sells(f), 'neur'),
    supplied_wh: of(flows, (f) => kind('supply')(f) && buys(f)),
    supplied_neur: of(flows, (f) => kind('supply')(f) && buys(f), 'neur'),
    exported_wh: of(flows, (f) => kind('export')(f) && sells(f)),
    exported_neur: of(flows, (f) => kind('export')(f) && sells(f), 'neur'),
    late_wh:
      of(flows, (f) => kind('late_export')(f) && sells(f)) -
      of(flows, (f) => kind('late_supply')(f) && buys(f)),
    imbalance_neur:
      of(flows, (f) => kind('late_supply')(f) && buys(f), 'neur') -
      of(flows, (f) => kind('late_export')(f) && sells(f), 'neur'),
    corrected_wh:
      of(flows, (f) => kind('correction_export')(f) && sells(f)) -
      of(flows, (f) => kind('correction_supply')(f) && buys(f)),
    correction_neur:
      of(flows, (f) => kind('correction_supply')(f) && buys(f), 'neur') -
      of(flows, (f) => kind('correction_export')(f) && sells(f), 'neur'),
  };
}

/** Energy and money of each settled period, from the tables. */
function checkPeriods(s: Scenario, c: ScenarioContext, t: Tables): void {
  const context = c.owner.address;
  for (const [i, startMs] of s.periodStartsMs.entries()) {
    const at = BigInt(startMs);
    const flows = t.flows.filter((f) => f['period_start_ms'] === at);
    const positions = t.positions.filter((p) => p['period_start_ms'] === at);
    const statements = new Map(
      t.statements
        .filter((r) => r['period_start_ms'] === at)
        .map((r) => [r['trader'] as string, r]),
    );
    assertBalanced(statements);
    const traders = new Set([
      ...positions.map((p) => p['trader'] as string),
      ...flows.flatMap((f) => [f['seller'], f['buyer']] as string[]),
    ]);
    traders.delete(context);
    assert.deepEqual(
      [...statements.keys()].sort(),
      [...traders].sort(),
      `period ${i}: a statement for each trader with energy`,
    );
    for (const trader of traders) {
      const got = statements.get(trader) as Row;
      const want = expectedStatement(trader, positions, flows);
      for (const [column, value] of Object.entries(want))
        assert.equal(got[column], value, `period ${i}, ${trader}: ${column}`);
      // What its meters booked into the period is what the flows took from it and gave it.
      const out = sum(
        flows
          .filter(
            (f) =>
              f['seller'] === trader && (LOCAL.has(f['kind'] as string) || f['kind'] === 'export'),
          )
          .map((f) => n(f, 'wh')),
      );
      const into = sum(
        flows
          .filter(
            (f) =>
              f['buyer'] === trader && (LOCAL.has(f['kind'] as string) || f['kind'] === 'supply'),
          )
          .map((f) => n(f, 'wh')),
      );
      assert.equal(out, want['produced_wh'], `period ${i}, ${trader}: production flows out`);
      assert.equal(into, want['consumed_wh'], `period ${i}, ${trader}: consumption is covered`);
    }
    const all = [...statements.values()];
    const total = (column: string): bigint => sum(all.map((r) => n(r, column)));
    assert.equal(
      total('produced_wh') + total('supplied_wh'),
      total('consumed_wh') + total('exported_wh'),
      `period ${i}: energy in = energy out`,
    );
    assert.equal(total('bought_wh'), total('sold_wh'), `period ${i}: bought = sold`);
    assert.equal(
      total('bought_neur'),
      total('sold_neur'),
      `period ${i}: buyers pay what sellers receive`,
    );
    assert.equal(
      total('due_neur'),
      total('supplied_neur') -
        total('exported_neur') +
        total('imbalance_neur') +
        total('correction_neur'),
      `period ${i}: the traders owe the owner's net supply`,
    );
    checkPrices(s, flows, i);
  }
}

/** Each flow's price is the one its kind takes from the price table of its period, money exact. */
function checkPrices(s: Scenario, flows: readonly Row[], i: number): void {
  for (const f of flows) {
    assert.ok(n(f, 'wh') > 0n, 'no empty flow');
    assert.equal(n(f, 'neur'), n(f, 'wh') * n(f, 'price_ueur_per_kwh'), 'money is exact');
    const of = s.periodStartsMs.indexOf(Number(f['of_period_ms']));
    const prices = s.plan.prices[of];
    assert.ok(prices !== undefined, `flow of an unknown period ${f['of_period_ms']}`);
    const kind = f['kind'] as string;
    if (!kind.startsWith('late') && !kind.startsWith('correction'))
      assert.equal(of, i, 'an on-time flow is of its own period');
    const [local, supply, feedIn] = [prices.local, prices.supply, prices.feedIn].map(ueurOf);
    // The prices a flow of each kind may have (a correction: supply or feed-in, by its direction).
    const allowed: Record<string, (bigint | undefined)[] | null> = {
      own: [0n],
      allocation: [local],
      supply: [supply],
      late_supply: [supply],
      export: [feedIn],
      late_export: [feedIn],
      correction_supply: [supply, feedIn],
      correction_export: [supply, feedIn],
      auction: null,
    };
    assert.ok(kind in allowed, `unknown flow kind ${kind}`);
    const want = allowed[kind];
    if (want !== null && want !== undefined)
      assert.ok(want.includes(n(f, 'price_ueur_per_kwh')), `${kind} price of period ${of}`);
  }
}

/** Every Wh a meter sent is settled exactly once: on time in its period, or late as imbalance. */
function checkConservation(c: ScenarioContext, t: Tables): void {
  const settled = new Map<string, bigint>();
  const add = (key: string, wh: bigint): void => {
    settled.set(key, (settled.get(key) ?? 0n) + wh);
  };
  for (const r of t.statements) {
    add(`${r['trader']}|produced`, n(r, 'produced_wh'));
    add(`${r['trader']}|consumed`, n(r, 'consumed_wh'));
  }
  for (const f of t.flows) {
    if (f['kind'] === 'late_export') add(`${f['seller']}|produced`, n(f, 'wh'));
    if (f['kind'] === 'late_supply') add(`${f['buyer']}|consumed`, n(f, 'wh'));
  }
  for (const [key, wh] of settled) if (wh === 0n) settled.delete(key);
  assert.deepEqual(
    new Map([...settled].sort()),
    new Map([...c.sentWh].sort()),
    'every Wh sent is settled once',
  );
  // Every correction is settled once, in the statement of its trader.
  const corrected = new Map<string, bigint>();
  for (const r of t.statements) {
    const trader = r['trader'] as string;
    corrected.set(trader, (corrected.get(trader) ?? 0n) + n(r, 'corrected_wh'));
  }
  for (const [trader, wh] of corrected) if (wh === 0n) corrected.delete(trader);
  const wanted = new Map([...c.correctedWh].filter(([, wh]) => wh !== 0n).sort());
  assert.deepEqual(new Map([...corrected].sort()), wanted, 'every correction is settled once');
  // The positions are the sum of the bookings that were not late.
  const booked = new Map<string, bigint>();
  for (const b of t.bookings)
    if (b['late'] === false) {
      const key = `${b['period_start_ms']}|${b['trader']}|${(b['labels'] as string[]).join(',')}|${b['direction']}`;
      booked.set(key, (booked.get(key) ?? 0n) + n(b, 'wh'));
    }
  const positions = new Map(
    t.positions.map((p) => [
      `${p['period_start_ms']}|${p['trader']}|${p['labels_key']}|${p['direction']}`,
      n(p, 'wh'),
    ]),
  );
  assert.deepEqual(
    new Map([...positions].sort()),
    new Map([...booked].sort()),
    'positions = bookings on time',
  );
}

/** The orders that took part in the settlement of period `i` (placed, not cancelled, in range). */
function activeOrders(c: ScenarioContext, i: number, startMs: number): ScenarioOrder[] {
  const at = BigInt(startMs);
  return c.orders.filter(
    (o) =>
      o.round <= i &&
      (o.cancelRound === null || o.cancelRound > i) &&
      o.fromMs <= at &&
      at <= o.toMs,
  );
}

/** Auction flows respect the limits, amounts and label requirements of the orders. */
function checkAuction(s: Scenario, c: ScenarioContext, t: Tables): void {
  for (const [i, startMs] of s.periodStartsMs.entries()) {
    const at = BigInt(startMs);
    const flows = t.flows.filter((f) => f['period_start_ms'] === at && f['kind'] === 'auction');
    const clearings = t.clearings.filter((r) => r['period_start_ms'] === at);
    if (!s.plan.auction)
      assert.deepEqual([flows.length, clearings.length], [0, 0], 'no auction when it is off');
    assert.equal(
      sum(clearings.map((r) => n(r, 'wh'))),
      sum(flows.map((f) => n(f, 'wh'))),
      `period ${i}: classes hold the auction's volume`,
    );
    const orders = activeOrders(c, i, startMs);
    for (const f of flows) {
      const price = n(f, 'price_ueur_per_kwh');
      const labels = f['labels'] as string[];
      const what = `period ${i}: auction ${f['seller']}>${f['buyer']} ${f['wh']}@${price}`;
      assert.notEqual(f['seller'], f['buyer'], `${what}: nobody trades with itself`);
      assert.ok(
        clearings.some(
          (r) => n(r, 'price_ueur_per_kwh') === price && subset(r['labels'] as string[], labels),
        ),
        `${what}: at its class's uniform price`,
      );
      assert.ok(
        orders.some(
          (o) =>
            o.side === 'buy' &&
            o.trader === f['buyer'] &&
            o.priceUeur >= price &&
            subset(o.labels, labels),
        ),
        `${what}: the buyer pays at most its limit`,
      );
      assert.ok(
        orders.some((o) => o.side === 'sell' && o.trader === f['seller'] && o.priceUeur <= price),
        `${what}: the seller gets at least its limit`,
      );
    }
    // Nobody trades more than its orders ask for (when all of them name an amount).
    for (const side of ['buy', 'sell'] as const) {
      const party = side === 'buy' ? 'buyer' : 'seller';
      for (const trader of new Set(flows.map((f) => f[party] as string))) {
        const mine = orders.filter((o) => o.side === side && o.trader === trader);
        if (mine.some((o) => o.amountWh === null)) continue;
        const traded = sum(flows.filter((f) => f[party] === trader).map((f) => n(f, 'wh')));
        assert.ok(
          traded <= sum(mine.map((o) => o.amountWh as bigint)),
          `period ${i}: ${trader} ${side}s ${traded} Wh, more than its orders`,
        );
      }
    }
  }
}

/** Labels are only ever removed: flows carry a producer's labels and meet a consumer's requirement. */
function checkLabels(c: ScenarioContext, t: Tables): void {
  const context = c.owner.address;
  for (const f of t.flows) {
    const labels = f['labels'] as string[];
    const what = `${f['kind']} ${f['seller']}>${f['buyer']} [${labels.join(',')}]`;
    // A correction carries the labels the owner gave it (those of the corrected device).
    if (String(f['kind']).startsWith('correction')) continue;
    if (f['seller'] === context)
      assert.deepEqual(labels, [], `${what}: external energy carries no labels`);
    else
      assert.ok(
        c.devices.some((d) => d.produces && d.trader === f['seller'] && subset(labels, d.labels)),
        `${what}: labels of a producer of the seller`,
      );
    if (LOCAL.has(f['kind'] as string))
      assert.ok(
        c.devices.some((d) => !d.produces && d.trader === f['buyer'] && subset(d.labels, labels)),
        `${what}: labels a consumer of the buyer requires`,
      );
  }
}

/** The auction (and without the allocation, everything) is the same in the renamed, reordered context. */
function checkTieBreak(s: Scenario, a: Tables, b: Tables): void {
  const [ca, cb] = s.contexts as [ScenarioContext, ScenarioContext];
  const rename = new Map<string, string>([
    [ca.owner.address, 'owner'],
    [cb.owner.address, 'owner'],
  ]);
  for (const c of [ca, cb])
    for (const [i, k] of c.traders.entries()) rename.set(k.address, `t${i}`);
  const flowText = (f: Row): string =>
    `${f['period_start_ms']} ${f['kind']} ${rename.get(f['seller'] as string)}>${rename.get(f['buyer'] as string)} [${(f['labels'] as string[]).join(',')}] ${f['wh']}@${f['price_ueur_per_kwh']} of ${f['of_period_ms']}`;
  const flows = (t: Tables, all: boolean): string[] =>
    t.flows
      .filter((f) => all || f['kind'] === 'auction')
      .map(flowText)
      .sort();
  const classes = (t: Tables): string[] =>
    t.clearings.map(
      (r) => `${r['period_start_ms']} [${r['labels_key']}] ${r['wh']}@${r['price_ueur_per_kwh']}`,
    );
  assert.deepEqual(classes(b), classes(a), 'the same class prices and volumes');
  assert.deepEqual(flows(b, false), flows(a, false), 'the same auction flows');
  if (s.plan.allocation) return;
  assert.deepEqual(flows(b, true), flows(a, true), 'without the allocation, the same flows');
  const statements = (t: Tables): string[] =>
    t.statements
      .map((r) =>
        JSON.stringify(
          { ...r, context: 'c', trader: rename.get(r['trader'] as string) },
          (_k, v) => (typeof v === 'bigint' ? `${v}` : v),
        ),
      )
      .sort();
  assert.deepEqual(statements(b), statements(a), 'without the allocation, the same statements');
}

describe('the market on the real engine: properties', () => {
  let chain: EnergyChain;
  let run = 0;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: Date.UTC(2026, 6, 1, 8, 0, 0) });
  });
  after(closeEnergyChains);

  test('random communities settled period by period: energy, money, limits, labels and the tie-break', async () => {
    const seen = { auction: 0, allocation: 0, late: 0, spanning: 0, estimated: 0, correction: 0 };
    await fc.assert(
      fc.asyncProperty(arbPlan(), async (plan) => {
        run += 1;
        const scenario = buildScenario(plan, nextBaseMs(chain), [
          `props ${run} a`,
          `props ${run} b`,
        ]);
        await runOnChain(chain, scenario);
        const tables: Tables[] = [];
        for (const c of scenario.contexts) {
          const t = await tablesOf(chain, c.owner.address);
          checkPeriods(scenario, c, t);
          checkConservation(c, t);
          checkAuction(scenario, c, t);
          checkLabels(c, t);
          tables.push(t);
        }
        checkTieBreak(scenario, tables[0] as Tables, tables[1] as Tables);
        const first = tables[0] as Tables;
        seen.auction += first.flows.filter((f) => f['kind'] === 'auction').length;
        seen.allocation += first.flows.filter((f) => f['kind'] === 'allocation').length;
        seen.late += first.flows.filter((f) => String(f['kind']).startsWith('late')).length;
        seen.correction += first.flows.filter((f) =>
          String(f['kind']).startsWith('correction'),
        ).length;
        seen.estimated += first.positions.filter((p) => n(p, 'estimated_wh') > 0n).length;
        seen.spanning += first.bookings.filter((b) => b['estimated'] === true).length;
      }),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    // The generators reach the interesting paths.
    for (const [what, count] of Object.entries(seen))
      assert.ok(count > 0, `no run had ${what} (${JSON.stringify(seen)})`);
  });
});

describe('the market on the real engine: edge cases other clearing engines got wrong', () => {
  // Each example on a chain of its own, whose first block is at 12:00:05.
  let chain: EnergyChain;
  beforeEach(async () => {
    chain = await EnergyChain.open({ processedMs: P0 + 5000 });
  });
  afterEach(() => chain.close());
  after(closeEnergyChains);

  /** Moves the chain to the settlement time of the period starting at `startMs` (gate 60 s). */
  const afterGate = (startMs: number): Promise<void> =>
    chain.gotoBlock(chain.height + 1, startMs + QUARTER_MS + 60_000);
  const sell = { side: 'sell', labels: [], fromMs: P0 };
  const buy = { side: 'buy', labels: [], fromMs: P0 };

  test('a period with only late readings: settled as imbalance at the prices of the period they belong to', async () => {
    const c = await Community.open(chain, 'edge only late');
    await c.prices(P0, 1);
    await c.accept('MarketPrices', c.owner, {
      fromMs: P1,
      localEur: ['0.2'],
      supplyEur: ['0.4'],
      feedInEur: ['0.07'],
    });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 - 60_000 });
    await afterGate(P0);
    await c.accept('SettlePeriod', BERT, { periodStartMs: P0 });
    assert.deepEqual(await c.flows(P0), ['supply owner>bert 1000@300000']);
    // Anna's solar meter and carl's house meter come back after 12:00 was settled; nothing else
    // is metered in 12:15.
    await c.accept('Energy', ANNA_SOLAR, { amount: '0.4', register: '0.4', readingMs: P1 - 1000 });
    await c.accept('Energy', CARL_HOUSE, { amount: '-0.3', register: '0.3', readingMs: P1 - 1000 });
    assert.deepEqual(await c.positions(), ['12:00 bert consumed [] 1000/0']);
    await afterGate(P1);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P1 });
    // Late energy is not traded locally: the owner takes anna's at 12:00's feed-in price (0.05)
    // and supplies carl's at 12:00's supply price (0.30), not at 12:15's.
    assert.deepEqual(await c.flows(P1), [
      'late_export anna>owner 400@50000',
      'late_supply owner>carl 300@300000',
    ]);
    const statements = await c.statements(P1);
    assertBalanced(statements);
    assert.deepEqual(
      ['anna', 'carl'].map((who) => {
        const s = statements.get(who) as Row;
        return [
          who,
          s['produced_wh'],
          s['consumed_wh'],
          s['late_wh'],
          s['imbalance_wh'],
          s['due_neur'],
        ];
      }),
      [
        ['anna', 0n, 0n, 400n, -400n, -20_000_000n],
        ['carl', 0n, 0n, -300n, 300n, 90_000_000n],
      ],
    );
    assert.equal(statements.size, 2, 'bert has nothing in 12:15');
    assert.deepEqual(await c.rows('energy_market_late'), []);
  });

  test('a zero-volume period: crossing orders but no energy trade nothing, and leave the book', async () => {
    const c = await Community.open(chain, 'edge zero volume');
    await c.accept('Market', c.owner, { on: true, auction: true });
    await c.prices(P0, 1);
    await c.accept('Order', ANNA, { ...sell, priceEur: '0.1' });
    await c.accept('Order', BERT, { ...buy, priceEur: '0.3', amount: '1' });
    await afterGate(P0);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    assert.deepEqual(await c.flows(P0), []);
    assert.deepEqual(await c.rows('energy_market_clearings'), [], 'no class cleared');
    assert.deepEqual(await c.rows('energy_market_statements'), []);
    assert.deepEqual(await c.rows('energy_market_orders'), []);
    assert.deepEqual(
      (await c.rows('energy_market_periods')).map((p) => p['settled']),
      [true],
    );
  });

  test('no sellers: buy orders alone trade nothing in the auction; the owner supplies', async () => {
    const c = await Community.open(chain, 'edge no sellers');
    await c.accept('Market', c.owner, { on: true, auction: true, allocation: false });
    await c.prices(P0, 1);
    await c.accept('Order', BERT, { ...buy, priceEur: '0.3' });
    await c.accept('Energy', ANNA_SOLAR, { amount: '1', register: '1', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-0.6', register: '0.6', readingMs: P1 });
    await afterGate(P0);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    // Anna offers nothing in the auction, and the allocation is off.
    assert.deepEqual(await c.flows(P0), [
      'supply owner>bert 600@300000',
      'export anna>owner 1000@50000',
    ]);
    assert.deepEqual(await c.rows('energy_market_clearings'), []);
    assertBalanced(await c.statements(P0));
  });

  test('no buyers: sell orders alone trade nothing in the auction; the allocation shares the surplus', async () => {
    const c = await Community.open(chain, 'edge no buyers');
    await c.accept('Market', c.owner, { on: true, auction: true });
    await c.prices(P0, 1);
    await c.accept('Order', ANNA, { ...sell, priceEur: '0' });
    await c.accept('Energy', ANNA_SOLAR, { amount: '1', register: '1', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-0.6', register: '0.6', readingMs: P1 });
    await c.accept('Energy', CARL_HOUSE, { amount: '-0.2', register: '0.2', readingMs: P1 });
    await afterGate(P0);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    assert.deepEqual(await c.flows(P0), [
      'allocation anna>bert 600@150000',
      'allocation anna>carl 200@150000',
      'export anna>owner 200@50000',
    ]);
    assert.deepEqual(await c.rows('energy_market_clearings'), []);
    assertBalanced(await c.statements(P0));
  });

  test('every ask above every bid: no auction trade; without the allocation all is external', async () => {
    const c = await Community.open(chain, 'edge no cross');
    await c.accept('Market', c.owner, { on: true, auction: true, allocation: false });
    await c.prices(P0, 1);
    await c.accept('Order', ANNA, { ...sell, priceEur: '0.25' });
    await c.accept('Order', BERT, { ...buy, priceEur: '0.2' });
    await c.accept('Order', CARL, { ...buy, priceEur: '0.249999' });
    await c.accept('Energy', ANNA_SOLAR, { amount: '1', register: '1', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await c.accept('Energy', CARL_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await afterGate(P0);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    assert.deepEqual(await c.flows(P0), [
      'supply owner>bert 500@300000',
      'supply owner>carl 500@300000',
      'export anna>owner 1000@50000',
    ]);
    assert.deepEqual(await c.rows('energy_market_clearings'), []);
  });

  test('ties at the marginal price: the earlier order wins, whoever places it', async () => {
    // The same period twice: carl's bid first, then bert's first. Anna offers 1 kWh at 0.10; both
    // bid 0.20 for 1 kWh. The tie is decided by sequence, and the price is the tied bid (the
    // unmatched bid at 0.20 bounds the interval from below).
    const communities: Community[] = [];
    for (const [name, first, second] of [
      ['edge tie carl first', CARL, BERT],
      ['edge tie bert first', BERT, CARL],
    ] as const) {
      const c = await Community.open(chain, name);
      await c.accept('Market', c.owner, { on: true, auction: true, allocation: false });
      await c.prices(P0, 1);
      await c.accept('Order', ANNA, { ...sell, priceEur: '0.1' });
      await c.accept('Order', first, { ...buy, priceEur: '0.2' });
      await c.accept('Order', second, { ...buy, priceEur: '0.2' });
      await c.accept('Energy', ANNA_SOLAR, { amount: '1', register: '1', readingMs: P1 });
      await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
      await c.accept('Energy', CARL_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
      communities.push(c);
    }
    await afterGate(P0);
    const results: string[][] = [];
    for (const c of communities) {
      await c.accept('SettlePeriod', ANNA, { periodStartMs: P0 });
      results.push(await c.flows(P0));
      assertBalanced(await c.statements(P0));
    }
    assert.deepEqual(results, [
      ['auction anna>carl 1000@200000', 'supply owner>bert 1000@300000'],
      ['auction anna>bert 1000@200000', 'supply owner>carl 1000@300000'],
    ]);
  });

  test('a trader who both buys and sells: sells its surplus in one period, buys in the next, never from itself', async () => {
    const c = await Community.open(chain, 'edge buys and sells');
    const bertWind = testAddress('edge bert wind meter');
    await c.accept('Producer', c.owner, {
      address: bertWind,
      allowed: true,
      trader: BERT,
      labels: ['wind'],
    });
    await c.accept('Market', c.owner, { on: true, auction: true });
    await c.prices(P0, 2);
    // Standing orders on both sides for both periods.
    for (const [trader, buyEur, sellEur] of [
      [ANNA, '0.3', '0.1'],
      [BERT, '0.25', '0.15'],
    ] as const) {
      await c.accept('Order', trader, { ...buy, priceEur: buyEur, toMs: P1 });
      await c.accept('Order', trader, { ...sell, priceEur: sellEur, toMs: P1 });
    }
    await c.accept('Energy', ANNA_SOLAR, { amount: '2', register: '2', readingMs: P1 });
    await c.accept('Energy', ANNA_HOUSE, { amount: '-0.5', register: '0.5', readingMs: P1 });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1', register: '1', readingMs: P1 });
    await afterGate(P0);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P0 });
    // Anna's own use comes first, so her bid has nothing to buy; her ask is left over at the
    // margin, so the price is her limit, 0.10.
    assert.deepEqual(await c.flows(P0), [
      'own anna>anna 500@0',
      'auction anna>bert 1000@100000',
      'export anna>owner 500@50000',
    ]);
    await c.accept('Energy', ANNA_HOUSE, {
      amount: '-1',
      register: '1.5',
      readingMs: P1 + QUARTER_MS,
    });
    await c.accept('Energy', bertWind, { amount: '2', register: '2', readingMs: P1 + QUARTER_MS });
    await afterGate(P1);
    await c.accept('SettlePeriod', CARL, { periodStartMs: P1 });
    assert.deepEqual(await c.flows(P1), [
      'auction bert>anna 1000@150000',
      'export bert>owner 1000@50000',
    ]);
    for (const at of [P0, P1]) assertBalanced(await c.statements(at));
    assert.deepEqual(await c.rows('energy_market_orders'), []);
  });
});
