// Reconciliation's attribution (src/meter/reconcile/attribution.ts): a difference goes to the
// trader the device was registered to when the energy was metered, split over the market periods
// with the market's splitByPeriods. Examples, a property (every Wh of a difference is attributed
// exactly once, to the trader of its time; replay with SEED=<n>), and the settlement transactions
// that `hanzenet reconcile --settle` plans from it, with and without the market.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  attributeInterval,
  registrationSpans,
  spanAt,
  type RegistrationSpan,
} from '../src/meter/reconcile/attribution.js';
import type { DeviceRegistrationView } from '../src/energy/views.js';
import type { ChainReading } from '../src/meter/gateway/chain-readings.js';
import { compare, type ReconcileMeter } from '../src/meter/reconcile/compare.js';
import type { GridRow } from '../src/meter/reconcile/grid-csv.js';
import { plan, spansKey } from '../src/meter/reconcile/plan.js';

const Q = 900_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function registration(
  processedMs: number,
  trader: string | null,
  role: 'producer' | 'consumer' = 'consumer',
): DeviceRegistrationView {
  return {
    txId: `tx${processedMs}`,
    role,
    allowed: trader !== null,
    trader,
    labels: trader === 'solar trader' ? ['solar'] : [],
    height: 1,
    processedMs,
  };
}

test('a device that moved between two intervals: each difference goes to the trader of its time', () => {
  const spans = registrationSpans(
    [registration(T0 - 3 * Q, 'anna'), registration(T0 + Q, 'bert')],
    'consumer',
  );
  assert.deepEqual(attributeInterval(T0, T0 + Q, 120n, spans, Q), [
    { periodStartMs: T0, trader: 'anna', labels: [], wh: 120n },
  ]);
  assert.deepEqual(attributeInterval(T0 + Q, T0 + 2 * Q, -80n, spans, Q), [
    { periodStartMs: T0 + Q, trader: 'bert', labels: [], wh: -80n },
  ]);
});

test('a move inside an interval splits it by time; a removal leaves the rest to nobody', () => {
  const spans = registrationSpans(
    [
      registration(T0 - Q, 'anna'),
      registration(T0 + Q / 3, 'bert'),
      registration(T0 + (2 * Q) / 3, null),
      registration(T0, 'carl', 'producer'),
    ],
    'consumer',
  );
  assert.deepEqual(attributeInterval(T0, T0 + Q, 100n, spans, Q), [
    { periodStartMs: T0, trader: 'anna', labels: [], wh: 34n },
    { periodStartMs: T0, trader: 'bert', labels: [], wh: 33n },
    { periodStartMs: T0, trader: null, labels: [], wh: 33n },
  ]);
});

test('a market with five-minute periods splits a 15-minute interval over three periods', () => {
  const spans = registrationSpans([registration(T0 - Q, 'solar trader', 'producer')], 'producer');
  assert.deepEqual(attributeInterval(T0, T0 + Q, 10n, spans, Q / 3), [
    { periodStartMs: T0, trader: 'solar trader', labels: ['solar'], wh: 4n },
    { periodStartMs: T0 + Q / 3, trader: 'solar trader', labels: ['solar'], wh: 3n },
    { periodStartMs: T0 + (2 * Q) / 3, trader: 'solar trader', labels: ['solar'], wh: 3n },
  ]);
});

test('property: every Wh of a difference is attributed exactly once, to the trader of its time', () => {
  const traders = ['anna', 'bert', 'carl', null] as const;
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          atMs: fc.integer({ min: -1800, max: 1800 }).map((s) => s * 1000),
          who: fc.constantFrom(...traders),
        }),
        { maxLength: 6 },
      ),
      fc.integer({ min: -900, max: 900 }).map((s) => s * 1000),
      fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
      fc.constantFrom(60_000, 300_000, Q, 3_600_000),
      (moves, offsetMs, wh, periodMs) => {
        const spans: RegistrationSpan[] = registrationSpans(
          [...moves].sort((a, b) => a.atMs - b.atMs).map((m) => registration(T0 + m.atMs, m.who)),
          'consumer',
        );
        const startMs = T0 + offsetMs;
        const endMs = startMs + Q;
        const shares = attributeInterval(startMs, endMs, wh, spans, periodMs);
        assert.equal(
          shares.reduce((sum, s) => sum + s.wh, 0n),
          wh,
          'the shares add up to the difference',
        );
        // The exact time each trader held the device inside the interval, and inside each period.
        const heldMs = new Map<string, number>();
        for (let t = startMs + 1; t <= endMs; t += 1000) {
          const who = spanAt(spans, t)?.trader ?? null;
          const period = t - 1 - ((((t - 1) % periodMs) + periodMs) % periodMs);
          const key = `${period}|${who}`;
          heldMs.set(key, (heldMs.get(key) ?? 0) + 1000);
          heldMs.set(`${who}`, (heldMs.get(`${who}`) ?? 0) + 1000);
        }
        const perTrader = new Map<string, bigint>();
        for (const s of shares) {
          assert.notEqual(s.wh, 0n);
          assert.ok(
            heldMs.has(`${s.periodStartMs}|${s.trader}`),
            `${s.trader} did not hold the device in the period starting at ${s.periodStartMs}`,
          );
          perTrader.set(`${s.trader}`, (perTrader.get(`${s.trader}`) ?? 0n) + s.wh);
        }
        // Each trader's part is its share of the time, to within the rounding of each piece.
        for (const who of traders) {
          const got = perTrader.get(`${who}`) ?? 0n;
          const exact = (Number(wh) * (heldMs.get(`${who}`) ?? 0)) / Q;
          assert.ok(
            Math.abs(Number(got) - exact) <= 2 + moves.length * 2,
            `${who}: ${got} vs ${exact}`,
          );
        }
      },
    ),
    { seed: Number(process.env['SEED'] ?? 1), numRuns: Number(process.env['NUM_RUNS'] ?? 300) },
  );
});

test('settling: a device that moved between two intervals books each difference to the trader of its time', () => {
  const meter: ReconcileMeter = {
    meterId: 'M1',
    equipmentId: 'E1',
    producer: 'PV',
    consumer: 'HOUSE',
    producerDevice: null,
    consumerDevice: { address: 'HOUSE', direction: 'delivered', trader: 'bert', labels: [] },
  };
  const row = (k: number, deliveredWh: bigint): GridRow => ({
    meterId: 'M1',
    intervalStartUtc: new Date(T0 + k * Q).toISOString(),
    intervalStartMs: T0 + k * Q,
    deliveredWh,
    returnedWh: 0n,
    line: k + 1,
  });
  const reading = (k: number, wh: bigint): ChainReading => ({
    txId: `r${k}`,
    device: 'HOUSE',
    direction: 'delivered',
    amountWh: wh,
    registerWh: null,
    readingMs: T0 + (k + 1) * Q,
    sinceMs: T0 + k * Q,
    height: 10 + k,
    processedMs: T0 + 5 * Q,
    block: 10,
    trader: '',
    labels: [],
  });
  // The chain booked 500 and 400 Wh; the grid measured 623 and 380: the house moved from anna to
  // bert between the two quarter hours.
  const comparison = compare(
    [meter],
    [row(0, 623n), row(1, 380n)],
    [reading(0, 500n), reading(1, 400n)],
    300_000n,
  );
  const spans = new Map([
    [
      spansKey('HOUSE', 'delivered'),
      registrationSpans([registration(T0 - Q, 'anna'), registration(T0 + Q, 'bert')], 'consumer'),
    ],
  ]);
  const later = T0 + 3 * Q;
  const market = plan('CTX', [meter], comparison, { marketPeriodMs: Q, spans, nowMs: later });
  assert.deepEqual(
    market.map((p) => [
      p.s.trader,
      p.s.periodStartMs,
      p.payload?.['amount'],
      p.payload?.['direction'],
    ]),
    [
      ['anna', T0, '0.123', 'consumed'],
      ['bert', T0 + Q, '-0.02', 'consumed'],
    ],
  );
  const thesis = plan('CTX', [meter], comparison, { marketPeriodMs: null, spans, nowMs: later });
  // An hour-long market period that has not ended is left for a later run, not sent.
  const early = plan('CTX', [meter], comparison, { marketPeriodMs: 4 * Q, spans, nowMs: later });
  assert.deepEqual(
    early.map((p) => [p.s.trader, p.s.status, p.payload]),
    [
      ['anna', 'not_settleable', null],
      ['bert', 'not_settleable', null],
    ],
  );
  assert.deepEqual(
    thesis.map((p) => [
      p.s.trader,
      p.payload?.['trader'],
      p.payload?.['amount'],
      p.payload?.['block'],
    ]),
    [
      ['anna', 'anna', '-0.123', 10],
      ['bert', 'bert', '0.02', 10],
    ],
  );
});
