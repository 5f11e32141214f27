// settleResiduals (src/energy/market/upstream.ts), the sharing of a parent market's flows over a
// child context's residuals (decision 0012, "Down"), as a property over random residuals and
// flows that add up: every residual ends at exactly zero, every parent flow is shared out whole
// with its labels and price, money is Wh times price, and own energy becomes a trade between the
// child's households at the local price.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { settleResiduals } from '../src/energy/market/upstream.js';
import type { ParentFlow, Residual } from '../src/energy/market/upstream.js';

const LABEL_SETS = [[], ['solar'], ['local', 'wind']] as const;
const LOCAL_UEUR = 150_000n;

/** Splits `total` into `parts` positive pieces (total >= parts) with the random cut points. */
function pieces(total: bigint, cuts: readonly number[]): bigint[] {
  const points = [...new Set(cuts.map((c) => BigInt(c) % total))].filter((p) => p > 0n);
  points.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: bigint[] = [];
  let last = 0n;
  for (const p of points) {
    out.push(p - last);
    last = p;
  }
  out.push(total - last);
  return out;
}

/** Residuals of a few households, and parent flows that settle them exactly. */
const arbCase = fc
  .record({
    deficits: fc.array(fc.integer({ min: 1, max: 50_000 }), { maxLength: 6 }),
    surpluses: fc.array(
      fc.record({ set: fc.integer({ min: 0, max: 2 }), wh: fc.integer({ min: 1, max: 50_000 }) }),
      { maxLength: 6 },
    ),
    ownPart: fc.integer({ min: 0, max: 100 }),
    inCuts: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 4 }),
    outCuts: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 3 }),
    prices: fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 16, maxLength: 16 }),
  })
  .map((r) => {
    const residuals: Residual[] = [];
    r.deficits.forEach((wh, i) => {
      residuals.push({ trader: `h${i}`, labels: [], direction: 'consumed', wh: BigInt(wh) });
    });
    const seen = new Set<string>();
    r.surpluses.forEach((s, i) => {
      const key = `s${i % 4}:${s.set}`;
      if (seen.has(key)) return;
      seen.add(key);
      residuals.push({
        trader: `s${i % 4}`,
        labels: LABEL_SETS[s.set] as readonly string[],
        direction: 'produced',
        wh: BigInt(s.wh),
      });
    });
    let deficitWh = 0n;
    for (const x of residuals) if (x.direction === 'consumed') deficitWh += x.wh;
    const flows: ParentFlow[] = [];
    let price = 0;
    const nextPrice = (): bigint => BigInt(r.prices[price++ % r.prices.length] as number);
    // Part of each label set's surplus covered the member's own deficit in the parent.
    let ownLeft = (deficitWh * BigInt(r.ownPart)) / 100n;
    for (let set = 0; set < LABEL_SETS.length; set++) {
      const labels = LABEL_SETS[set] as readonly string[];
      let wh = 0n;
      for (const x of residuals)
        if (x.direction === 'produced' && x.labels.join(',') === labels.join(',')) wh += x.wh;
      if (wh === 0n) continue;
      const own = ownLeft < wh ? ownLeft : wh;
      ownLeft -= own;
      if (own > 0n)
        flows.push({
          side: 'own',
          counterparty: 'N',
          labels,
          wh: own,
          priceUeur: 0n,
          external: false,
        });
      if (wh - own > 0n)
        pieces(wh - own, r.outCuts).forEach((piece, i) => {
          flows.push({
            side: 'out',
            counterparty: i === 0 ? 'P' : `M${i}`,
            labels,
            wh: piece,
            priceUeur: nextPrice(),
            external: i === 0,
          });
        });
    }
    let ownWh = 0n;
    for (const f of flows) if (f.side === 'own') ownWh += f.wh;
    if (deficitWh - ownWh > 0n)
      pieces(deficitWh - ownWh, r.inCuts).forEach((piece, i) => {
        flows.push({
          side: 'in',
          counterparty: i === 0 ? 'P' : `M${i}`,
          labels: LABEL_SETS[i % 3] as readonly string[],
          wh: piece,
          priceUeur: nextPrice(),
          external: i === 0,
        });
      });
    return { residuals, flows };
  });

describe('settleResiduals', () => {
  test('every residual ends at zero; every parent flow is shared out whole, labels and price intact', () => {
    fc.assert(
      fc.property(arbCase, ({ residuals, flows }) => {
        const out = settleResiduals(residuals, flows, LOCAL_UEUR);
        // Each household's residual is settled exactly, in its direction.
        const settled = new Map<string, bigint>();
        const bump = (key: string, wh: bigint): void => {
          settled.set(key, (settled.get(key) ?? 0n) + wh);
        };
        for (const f of out) {
          assert.ok(f.wh > 0n);
          assert.equal(f.neur, f.wh * f.priceUeur);
          if (f.side !== 'out') bump(`${f.buyer}:consumed:`, f.wh);
          if (f.side !== 'in') bump(`${f.seller}:produced:${f.labels.join(',')}`, f.wh);
          if (f.kind === 'upstream_own') assert.equal(f.priceUeur, LOCAL_UEUR);
        }
        const expected = new Map<string, bigint>();
        for (const r of residuals) {
          const key = `${r.trader}:${r.direction}:${r.direction === 'produced' ? r.labels.join(',') : ''}`;
          expected.set(key, (expected.get(key) ?? 0n) + r.wh);
        }
        assert.deepEqual(settled, expected);
        // Each parent flow that is not own reaches the households whole, with its price.
        for (const f of flows) {
          if (f.side === 'own') continue;
          let wh = 0n;
          for (const o of out) {
            const other = f.side === 'in' ? o.seller : o.buyer;
            const matches =
              o.kind !== 'upstream_own' &&
              o.side === f.side &&
              other === f.counterparty &&
              o.labels.join(',') === f.labels.join(',') &&
              o.priceUeur === f.priceUeur;
            if (matches) wh += o.wh;
          }
          const same = flows.filter(
            (g) =>
              g.side === f.side &&
              g.counterparty === f.counterparty &&
              g.labels.join(',') === f.labels.join(',') &&
              g.priceUeur === f.priceUeur,
          );
          let total = 0n;
          for (const g of same) total += g.wh;
          assert.equal(wh, total);
        }
        // External flows stay external; the others are upstream trades.
        for (const o of out) {
          if (o.kind === 'supply') assert.equal(o.side, 'in');
          if (o.kind === 'export') assert.equal(o.side, 'out');
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a flow is shared in proportion to what each household has left', () => {
    const residuals: Residual[] = [
      { trader: 'bert', labels: [], direction: 'consumed', wh: 2000n },
      { trader: 'carl', labels: [], direction: 'consumed', wh: 1000n },
    ];
    const out = settleResiduals(
      residuals,
      [
        {
          side: 'in',
          counterparty: 'M',
          labels: ['solar'],
          wh: 1000n,
          priceUeur: 120_000n,
          external: false,
        },
        {
          side: 'in',
          counterparty: 'C',
          labels: [],
          wh: 2000n,
          priceUeur: 300_000n,
          external: true,
        },
      ],
      LOCAL_UEUR,
    );
    assert.deepEqual(
      out.map((f) => `${f.kind} ${f.seller}>${f.buyer} ${f.wh}`),
      ['upstream M>bert 667', 'upstream M>carl 333', 'supply C>bert 1333', 'supply C>carl 667'],
    );
  });
});
