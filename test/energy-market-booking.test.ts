// The market's first step (docs/decisions/0011-local-market.md): the owner turns the market on
// with Market, and Energy then books metered energy into the market period(s) in which it was
// metered, splitting a reading that spans several periods by time. The split function is tested
// directly (it is a plain function that also runs inside the sandbox), the contracts on the real
// engine.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MARKET_POSITION_WH_MAX, MARKET_SPLIT_PERIODS_MAX } from '../src/energy/codes.js';
import { splitByPeriods } from '../src/energy/market/booking.js';
import { EnergyChain, closeEnergyChains } from './support/energy-chain.js';
import { ANNA, ANNA_SOLAR, BERT_HOUSE, Community } from './support/market-community.js';

const QUARTER_MS = 900_000n;
const MAX = BigInt(MARKET_SPLIT_PERIODS_MAX);
const at = (h: number, m: number, s = 0, ms = 0): bigint =>
  BigInt(Date.UTC(2026, 5, 1, h, m, s, ms));
const minOf = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);
/** The same instant as a payload's ms field. */
const atMs = (h: number, m: number): number => Number(at(h, m));

describe('splitByPeriods', () => {
  test('a reading inside one period goes to that period, not estimated', () => {
    assert.deepEqual(splitByPeriods(at(10, 1), at(10, 14), QUARTER_MS, 700n, MAX), [
      { startMs: at(10, 0), wh: 700n, estimated: false },
    ]);
  });

  test('the interval is (since, reading]: a reading at a boundary belongs to the period before it', () => {
    assert.deepEqual(splitByPeriods(at(10, 0), at(10, 15), QUARTER_MS, 250n, MAX), [
      { startMs: at(10, 0), wh: 250n, estimated: false },
    ]);
    assert.deepEqual(splitByPeriods(null, at(10, 15), QUARTER_MS, 250n, MAX), [
      { startMs: at(10, 0), wh: 250n, estimated: false },
    ]);
    assert.deepEqual(splitByPeriods(null, at(10, 15, 0, 1), QUARTER_MS, 250n, MAX), [
      { startMs: at(10, 15), wh: 250n, estimated: false },
    ]);
  });

  test('a three-hour backlog is spread evenly over its twelve periods', () => {
    const shares = splitByPeriods(at(9, 0), at(12, 0), QUARTER_MS, 3000n, MAX);
    assert.equal(shares.length, 12);
    shares.forEach((s, i) => {
      assert.equal(s.startMs, at(9, 0) + BigInt(i) * QUARTER_MS);
      assert.equal(s.wh, 250n);
      assert.equal(s.estimated, true);
    });
  });

  test('rounding: the Wh left go to the largest remainders, the earlier period first on a tie', () => {
    // 10:10 to 10:40: 5, 15 and 10 minutes of 30, so 166.67, 500 and 333.33 Wh.
    assert.deepEqual(
      splitByPeriods(at(10, 10), at(10, 40), QUARTER_MS, 1000n, MAX).map((s) => s.wh),
      [167n, 500n, 333n],
    );
    // Two equal halves of 1 Wh: the earlier period takes it, the later share is 0 and left out.
    assert.deepEqual(splitByPeriods(at(10, 10), at(10, 20), QUARTER_MS, 1n, MAX), [
      { startMs: at(10, 0), wh: 1n, estimated: true },
    ]);
  });

  test('a start older than the window is moved to the start of the window', () => {
    const shares = splitByPeriods(
      at(10, 0) - 100n * 86_400_000n,
      at(10, 0),
      QUARTER_MS,
      1344n,
      MAX,
    );
    assert.equal(shares.length, MARKET_SPLIT_PERIODS_MAX);
    assert.equal(shares[0]?.startMs, at(10, 0) - MAX * QUARTER_MS);
    assert.ok(shares.every((s) => s.wh === 1n && s.estimated));
  });

  test('property: shares add up exactly, follow time, and each is within 1 Wh of its exact share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 10n ** 12n, max: 10n ** 13n }),
        fc.bigInt({ min: 1n, max: 40n * 86_400_000n }),
        fc.boolean(),
        fc.constantFrom(60_000n, 300_000n, 900_000n, 3_600_000n),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        (endMs, lengthMs, withSince, periodMs, wh) => {
          const sinceMs = withSince ? endMs - lengthMs : null;
          const shares = splitByPeriods(sinceMs, endMs, periodMs, wh, MAX);
          assert.equal(
            shares.reduce((sum, s) => sum + s.wh, 0n),
            wh,
          );
          assert.ok(shares.length >= 1 && shares.length <= MARKET_SPLIT_PERIODS_MAX);
          for (let i = 0; i < shares.length; i++) {
            const s = shares[i] as (typeof shares)[number];
            assert.ok(s.wh > 0n);
            assert.equal(((s.startMs % periodMs) + periodMs) % periodMs, 0n);
            if (i > 0) assert.ok(s.startMs > (shares[i - 1] as typeof s).startMs);
          }
          const lastInstant = endMs - 1n;
          const lastStart = lastInstant - (lastInstant % periodMs);
          assert.ok((shares[shares.length - 1] as (typeof shares)[number]).startMs <= lastStart);
          if (sinceMs === null || sinceMs >= lastStart) {
            assert.deepEqual(shares, [{ startMs: lastStart, wh, estimated: false }]);
            return;
          }
          const windowStart = lastStart - (MAX - 1n) * periodMs;
          const fromMs = maxOf(sinceMs, windowStart);
          assert.ok((shares[0] as (typeof shares)[number]).startMs >= fromMs - (fromMs % periodMs));
          const totalMs = endMs - fromMs;
          for (const s of shares) {
            assert.equal(s.estimated, true);
            const overlapMs = minOf(endMs, s.startMs + periodMs) - maxOf(fromMs, s.startMs);
            const diff = s.wh * totalMs - wh * overlapMs;
            assert.ok(diff > -totalMs && diff < totalMs, 'a share is within 1 Wh of exact');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

const T0 = Date.UTC(2026, 5, 1, 12, 0, 5);

describe('Market and booking by the period of metering', () => {
  let chain: EnergyChain;
  before(async () => {
    chain = await EnergyChain.open({ processedMs: T0 });
  });
  after(closeEnergyChains);

  test('Market: only the owner, and only valid settings; a setting left out keeps its value', async () => {
    const c = await Community.open(chain, 'owner settings', { market: false });
    await c.reject('Market', ANNA, { on: true }, 'not_context_owner');
    for (const periodSeconds of [0, 59, 7, 86_401, 1000]) {
      await c.reject(
        'Market',
        c.owner,
        { on: true, periodSeconds },
        'market_period_length_invalid',
      );
    }
    await c.reject(
      'Market',
      c.owner,
      { on: true, gateClosureSeconds: 86_401 },
      'gate_closure_invalid',
    );
    await c.reject('Market', c.owner, { on: true, allocation: false }, 'market_mode_invalid');
    await c.accept('Market', c.owner, { on: true, gateClosureSeconds: 600, auction: true });
    await c.accept('Market', c.owner, { on: true, periodSeconds: 300 });
    const [row] = await c.rows('energy_market_settings');
    assert.deepEqual(
      { ...row, changed_height: undefined },
      {
        context: c.owner,
        market_on: true,
        period_ms: 300_000n,
        gate_closure_ms: 600_000n,
        auction: true,
        allocation: true,
        changed_height: undefined,
      },
    );
  });

  test('a backlog is booked into the periods it was metered in, split by time and marked estimated', async () => {
    const c = await Community.open(chain, 'owner backlog', { market: false });
    await c.accept('Market', c.owner, { on: true });
    // The solar meter's baseline at 08:58, then a backlog of three hours in one reading at 12:00.
    await c.accept('Energy', ANNA_SOLAR, {
      amount: '0.001',
      register: '100.001',
      readingMs: atMs(8, 58),
    });
    await c.accept('Energy', ANNA_SOLAR, {
      amount: '3.001',
      register: '103.002',
      readingMs: atMs(12, 0),
      sinceMs: atMs(9, 0),
    });
    // The house meter's first reading lies inside one period.
    await c.accept('Energy', BERT_HOUSE, {
      amount: '-0.4',
      register: '50.4',
      readingMs: atMs(11, 59),
    });
    assert.equal((await c.rows('energy_balances')).length, 0, 'the thesis balances stay empty');
    const got = await c.positions();
    assert.equal(got.length, 14);
    assert.deepEqual(got.slice(0, 2), [
      '08:45 anna produced [solar] 1/0',
      '09:00 anna produced [solar] 251/251',
    ]);
    assert.ok(got.includes('11:45 anna produced [solar] 250/250'));
    assert.ok(got.includes('11:45 bert consumed [] 400/0'));
    const bookings = await c.rows('energy_market_bookings');
    assert.equal(bookings.length, 14);
    assert.equal(
      bookings.reduce((sum, r) => sum + (r['wh'] as bigint), 0n),
      1n + 3001n + 400n,
    );
    const periods = await c.rows('energy_market_periods');
    assert.equal(periods.length, 13);
    for (const p of periods) {
      assert.equal(p['settled'], false);
      assert.equal(p['end_ms'], (p['period_start_ms'] as bigint) + 900_000n);
    }
  });

  test('the period length cannot change while a booked period is not settled; turning off sends energy back to the thesis balances', async () => {
    const c = await Community.open(chain, 'owner off', { market: false });
    await c.accept('Market', c.owner, { on: true });
    await c.accept('Energy', BERT_HOUSE, { amount: '-1' });
    assert.deepEqual(
      await c.positions(),
      ['12:00 bert consumed [] 1000/0'],
      'no reading: the block time',
    );
    await c.reject('Market', c.owner, { on: true, periodSeconds: 300 }, 'market_periods_open');
    await c.accept('Market', c.owner, { on: false });
    await c.accept('Energy', BERT_HOUSE, { amount: '-2' });
    assert.deepEqual(
      (await c.rows('energy_balances')).map((b) => b['amount_wh']),
      [-2000n],
    );
    assert.deepEqual(await c.positions(), ['12:00 bert consumed [] 1000/0']);
  });

  test('a position past the limit is refused and changes nothing', async () => {
    const c = await Community.open(chain, 'owner limit', { market: false });
    await c.accept('Market', c.owner, { on: true });
    await c.accept('Energy', ANNA_SOLAR, { amount: (MARKET_POSITION_WH_MAX / 1000n).toString() });
    await c.reject('Energy', ANNA_SOLAR, { amount: '0.001' }, 'position_limit_exceeded');
  });
});
