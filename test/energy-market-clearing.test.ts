// Settling one market period as a pure computation (src/energy/market/clearing.ts): worked
// examples, the edge cases other clearing engines got wrong, and properties over random periods.
// SettlePeriod runs this very code inside the sandbox.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { carriesLabels, clearMarketPeriod } from '../src/energy/market/clearing.js';
import { shareByWeight } from '../src/energy/market/share.js';
import type {
  ClearingFlow,
  ClearingInput,
  ClearingOrder,
  ClearingPosition,
} from '../src/energy/market/clearing.js';

const OWNER = 'owner';
const eur = (text: string): bigint => {
  const [whole = '0', frac = ''] = text.split('.');
  return BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
};

function input(over: Partial<ClearingInput>): ClearingInput {
  return {
    owner: OWNER,
    positions: [],
    orders: [],
    auction: false,
    allocation: true,
    localUeur: eur('0.15'),
    supplyUeur: eur('0.30'),
    feedInUeur: eur('0.05'),
    ...over,
  };
}

const produced = (trader: string, wh: bigint, labels: string[] = []): ClearingPosition => ({
  trader,
  labels,
  direction: 'produced',
  wh,
});
const consumed = (trader: string, wh: bigint, labels: string[] = []): ClearingPosition => ({
  trader,
  labels,
  direction: 'consumed',
  wh,
});
let seq = 0n;
const order = (
  trader: string,
  side: 'buy' | 'sell',
  price: string,
  amountWh: bigint | null,
  labels: string[] = [],
): ClearingOrder => ({ seq: ++seq, trader, side, priceUeur: eur(price), amountWh, labels });

/** Flows as "kind seller>buyer wh@price [labels]". */
function lines(flows: readonly ClearingFlow[]): string[] {
  return flows.map(
    (f) =>
      `${f.kind} ${f.seller}>${f.buyer} ${f.wh}@${f.priceUeur}${f.labels.length ? ` [${f.labels.join(',')}]` : ''}`,
  );
}

/** Per trader: produced - consumed + bought - sold must be 0 after settlement. */
function assertSettled(inp: ClearingInput, flows: readonly ClearingFlow[]): void {
  const net = new Map<string, bigint>();
  const add = (t: string, wh: bigint): void => {
    net.set(t, (net.get(t) ?? 0n) + wh);
  };
  for (const p of inp.positions) add(p.trader, p.direction === 'produced' ? p.wh : -p.wh);
  for (const f of flows) {
    assert.ok(f.wh > 0n, 'no empty flows');
    assert.equal(f.neur, f.wh * f.priceUeur, 'money is exact');
    if (f.seller !== OWNER) add(f.seller, -f.wh);
    if (f.buyer !== OWNER) add(f.buyer, f.wh);
  }
  for (const [trader, wh] of net) assert.equal(wh, 0n, `${trader} ends the period at ${wh} Wh`);
}

describe('community allocation', () => {
  test('a day-time period of three households: the surplus goes to the deficit, the rest is exported', () => {
    const inp = input({
      positions: [
        produced('anna', 3000n, ['solar']),
        consumed('anna', 500n),
        consumed('bert', 1000n),
        consumed('carl', 500n),
      ],
    });
    const { flows } = clearMarketPeriod(inp);
    assert.deepEqual(lines(flows), [
      'own anna>anna 500@0 [solar]',
      'allocation anna>bert 1000@150000 [solar]',
      'allocation anna>carl 500@150000 [solar]',
      'export anna>owner 1000@50000 [solar]',
    ]);
    assertSettled(inp, flows);
  });

  test('short supply is shared in proportion to each deficit, the rest supplied externally', () => {
    const inp = input({
      positions: [produced('anna', 1000n), consumed('bert', 3000n), consumed('carl', 1000n)],
    });
    const { flows } = clearMarketPeriod(inp);
    assert.deepEqual(lines(flows), [
      'allocation anna>bert 750@150000',
      'allocation anna>carl 250@150000',
      'supply owner>bert 2250@300000',
      'supply owner>carl 750@300000',
    ]);
    assertSettled(inp, flows);
  });

  test('a surplus larger than the deficits is taken from each seller in proportion to its surplus', () => {
    const inp = input({
      positions: [produced('anna', 2000n), produced('bert', 1000n), consumed('carl', 1000n)],
    });
    assert.deepEqual(lines(clearMarketPeriod(inp).flows), [
      'allocation anna>carl 667@150000',
      'allocation bert>carl 333@150000',
      'export anna>owner 1333@50000',
      'export bert>owner 667@50000',
    ]);
  });

  test('a consumption with labels is covered only by energy carrying them; labelled supply serves it first', () => {
    const inp = input({
      positions: [
        produced('anna', 1000n, ['solar']),
        produced('bert', 1000n, ['wind']),
        consumed('carl', 500n, ['solar']),
        consumed('dora', 1500n),
      ],
    });
    const { flows } = clearMarketPeriod(inp);
    assert.deepEqual(lines(flows), [
      'allocation anna>carl 500@150000 [solar]',
      'allocation anna>dora 500@150000 [solar]',
      'allocation bert>dora 1000@150000 [wind]',
    ]);
    assertSettled(inp, flows);
  });

  test('no sellers, no buyers, an empty period', () => {
    assert.deepEqual(lines(clearMarketPeriod(input({ positions: [consumed('a', 5n)] })).flows), [
      'supply owner>a 5@300000',
    ]);
    assert.deepEqual(lines(clearMarketPeriod(input({ positions: [produced('a', 5n)] })).flows), [
      'export a>owner 5@50000',
    ]);
    assert.deepEqual(clearMarketPeriod(input({})), { flows: [], classes: [] });
  });
});

describe('double auction', () => {
  const auction = (positions: ClearingPosition[], orders: ClearingOrder[], allocation = false) =>
    input({ positions, orders, auction: true, allocation });

  test('uniform price in the middle of the marginal interval; nobody trades past their limit', () => {
    const inp = auction(
      [
        produced('s1', 1000n),
        produced('s2', 1000n),
        produced('s3', 1000n),
        consumed('b1', 1000n),
        consumed('b2', 1000n),
      ],
      [
        order('s1', 'sell', '0.10', null),
        order('s2', 'sell', '0.12', null),
        order('s3', 'sell', '0.25', null),
        order('b1', 'buy', '0.22', null),
        order('b2', 'buy', '0.20', null),
      ],
    );
    const { flows, classes } = clearMarketPeriod(inp);
    // Matched: s1 and s2 against b1 and b2. Last matched ask 0.12, bid 0.20; first unmatched ask
    // 0.25; nothing left on the buy side: the interval is [0.12, 0.20], its middle 0.16.
    assert.deepEqual(classes, [{ labels: [], priceUeur: eur('0.16'), wh: 2000n }]);
    assert.deepEqual(lines(flows), [
      'auction s1>b1 1000@160000',
      'auction s2>b2 1000@160000',
      'export s3>owner 1000@50000',
    ]);
    assertSettled(inp, flows);
  });

  test('excess demand at the margin sets the price at the marginal bid', () => {
    const inp = auction(
      [produced('s1', 1000n), consumed('b1', 800n), consumed('b2', 800n)],
      [
        order('s1', 'sell', '0.10', null),
        order('b1', 'buy', '0.30', null),
        order('b2', 'buy', '0.20', null),
      ],
    );
    const { flows, classes } = clearMarketPeriod(inp);
    assert.equal(classes[0]?.priceUeur, eur('0.20'));
    assert.deepEqual(lines(flows), [
      'auction s1>b1 800@200000',
      'auction s1>b2 200@200000',
      'supply owner>b2 600@300000',
    ]);
  });

  test('ties at the marginal price are decided by order sequence only', () => {
    const inp = auction(
      [produced('s1', 500n), consumed('b1', 500n), consumed('b2', 500n)],
      [
        order('s1', 'sell', '0.10', null),
        order('b2', 'buy', '0.20', null),
        order('b1', 'buy', '0.20', null),
      ],
    );
    assert.deepEqual(lines(clearMarketPeriod(inp).flows).slice(0, 1), ['auction s1>b2 500@200000']);
  });

  test('every ask above every bid: no trade, all external (or allocated when allocation is on)', () => {
    const positions = [produced('s1', 1000n), consumed('b1', 1000n)];
    const orders = [order('s1', 'sell', '0.40', null), order('b1', 'buy', '0.20', null)];
    assert.deepEqual(lines(clearMarketPeriod(auction(positions, orders)).flows), [
      'supply owner>b1 1000@300000',
      'export s1>owner 1000@50000',
    ]);
    assert.deepEqual(lines(clearMarketPeriod(auction(positions, orders, true)).flows), [
      'allocation s1>b1 1000@150000',
    ]);
  });

  test('a trader who buys and sells never trades with itself; orders are capped by positions', () => {
    const inp = auction(
      [produced('x', 1000n), consumed('x', 400n), consumed('y', 1000n)],
      [
        order('x', 'sell', '0.10', 2000n),
        order('x', 'buy', '0.50', null),
        order('y', 'buy', '0.30', 300n),
      ],
    );
    const { flows } = clearMarketPeriod(inp);
    // x's sell is partly left over at 0.10 (excess supply at the margin): the price is that ask.
    assert.deepEqual(lines(flows), [
      'own x>x 400@0',
      'auction x>y 300@100000',
      'supply owner>y 700@300000',
      'export x>owner 300@50000',
    ]);
    assertSettled(inp, flows);
  });

  test('a buy that requires labels clears in its own class first, at its own price', () => {
    const inp = auction(
      [
        produced('sun', 1000n, ['solar']),
        produced('gas', 1000n),
        consumed('g', 500n),
        consumed('p', 1000n),
      ],
      [
        order('sun', 'sell', '0.12', null),
        order('gas', 'sell', '0.08', null),
        order('g', 'buy', '0.30', null, ['solar']),
        order('p', 'buy', '0.20', null),
      ],
    );
    const { flows, classes } = clearMarketPeriod(inp);
    assert.deepEqual(
      classes.map((c) => `[${c.labels.join(',')}] ${c.wh}@${c.priceUeur}`),
      ['[solar] 500@120000', '[] 1000@100000'],
    );
    assert.deepEqual(lines(flows), [
      'auction sun>g 500@120000 [solar]',
      'auction gas>p 1000@100000',
      'export sun>owner 500@50000 [solar]',
    ]);
    assertSettled(inp, flows);
  });
});

describe('properties', () => {
  const traders = ['a', 'b', 'c', 'd', 'e'];
  const labelSets = [[], ['solar'], ['wind'], ['local', 'solar']];
  const arbPosition = fc.record({
    trader: fc.constantFrom(...traders),
    labels: fc.constantFrom(...labelSets),
    direction: fc.constantFrom('produced', 'consumed'),
    wh: fc.bigInt({ min: 1n, max: 5000n }),
  });
  const arbOrder = fc.record({
    seq: fc.bigInt({ min: 1n, max: 1000n }),
    trader: fc.constantFrom(...traders),
    side: fc.constantFrom('buy', 'sell'),
    priceUeur: fc.bigInt({ min: 0n, max: 500_000n }),
    amountWh: fc.option(fc.bigInt({ min: 1n, max: 5000n }), { nil: null }),
    labels: fc.constantFrom(...labelSets),
  });
  const arbInput = fc.record({
    positions: fc.array(arbPosition, { maxLength: 12 }),
    orders: fc.uniqueArray(arbOrder, { maxLength: 12, selector: (o) => o.seq }),
    auction: fc.boolean(),
    allocation: fc.boolean(),
  });

  /** Positions merged per (trader, labels, direction), as the store keeps them. */
  function merged(positions: readonly ClearingPosition[]): ClearingPosition[] {
    const map = new Map<string, ClearingPosition>();
    for (const p of positions) {
      const key = `${p.trader}|${p.labels.join(',')}|${p.direction}`;
      const had = map.get(key);
      map.set(key, had === undefined ? p : { ...had, wh: had.wh + p.wh });
    }
    return [...map.values()];
  }

  test('energy is conserved per trader, money per flow, limits and labels respected, input order irrelevant', () => {
    fc.assert(
      fc.property(arbInput, fc.integer(), (raw, shuffleSeed) => {
        const inp = input({ ...raw, positions: merged(raw.positions) });
        const result = clearMarketPeriod(inp);
        assertSettled(inp, result.flows);
        const orders = inp.orders;
        for (const f of result.flows) {
          if (f.kind === 'own') assert.equal(f.seller, f.buyer);
          else assert.notEqual(f.seller, f.buyer, 'nobody trades with itself');
          if (f.kind !== 'auction') continue;
          const price = f.priceUeur;
          assert.ok(
            orders.some((o) => o.side === 'buy' && o.trader === f.buyer && o.priceUeur >= price),
            'a buyer never pays above its limit',
          );
          assert.ok(
            orders.some((o) => o.side === 'sell' && o.trader === f.seller && o.priceUeur <= price),
            'a seller never gets below its limit',
          );
        }
        // Energy reaches a consumption only with the labels it requires.
        for (const p of inp.positions) {
          if (p.direction !== 'consumed' || p.labels.length === 0) continue;
          const local = result.flows.filter(
            (f) => f.buyer === p.trader && f.kind !== 'supply' && f.kind !== 'auction',
          );
          // (Flows do not name the consumption they cover: check traders with only this one.)
          const single =
            inp.positions.filter((q) => q.trader === p.trader && q.direction === 'consumed')
              .length === 1;
          for (const f of single ? local : []) {
            assert.ok(carriesLabels(f.labels, p.labels), 'labels are only ever removed');
          }
        }
        // The same period given in another order settles the same.
        const rotate = <T>(xs: readonly T[]): T[] => {
          const k = xs.length === 0 ? 0 : Math.abs(shuffleSeed) % xs.length;
          return [...xs.slice(k), ...xs.slice(0, k)];
        };
        const again = clearMarketPeriod({
          ...inp,
          positions: rotate(inp.positions),
          orders: rotate(inp.orders),
        });
        assert.deepEqual(again, result);
      }),
      { numRuns: 500 },
    );
  });

  test('shareByWeight: exact total, each share within 1 of its exact value', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const shares = shareByWeight(total, weights);
          const sum = weights.reduce((a, b) => a + b, 0n);
          assert.equal(
            shares.reduce((a, b) => a + b, 0n),
            total,
          );
          shares.forEach((s, i) => {
            const diff = s * sum - total * (weights[i] as bigint);
            assert.ok(diff > -sum && diff < sum);
          });
        },
      ),
    );
  });
});
