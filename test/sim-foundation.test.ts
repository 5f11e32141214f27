// The simulator's building blocks: seeded randomness, virtual time, the fault plan and the lossy
// network. Each must be exactly reproducible from its seed, or no failing run could be replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Random } from '../src/sim/random.js';
import { SimScheduler } from '../src/sim/scheduler.js';
import {
  faultPlanFromSeed,
  describeFaultPlan,
  NO_FAULTS,
  type NetworkFaults,
} from '../src/sim/faults.js';
import { SimNetwork } from '../src/sim/network.js';
import { Trace } from '../src/sim/trace.js';

const START_MS = Date.UTC(2026, 0, 1);

function draws(random: Random, n: number): number[] {
  return Array.from({ length: n }, () => random.nextUint32());
}

test('a seed and stream always draw the same sequence; streams and seeds differ', () => {
  assert.deepEqual(draws(Random.stream(7, 'network'), 50), draws(Random.stream(7, 'network'), 50));
  assert.notDeepEqual(draws(Random.stream(7, 'network'), 50), draws(Random.stream(7, 'store'), 50));
  assert.notDeepEqual(draws(new Random(7), 50), draws(new Random(8), 50));
  assert.notDeepEqual(draws(new Random(2 ** 32), 50), draws(new Random(0), 50)); // the high bits count
});

test('random values stay in their ranges', () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.integer({ min: -1000, max: 1000 }),
      fc.nat(1000),
      (seed, min, width) => {
        const random = new Random(seed);
        for (let i = 0; i < 20; i++) {
          const f = random.nextFloat();
          assert.ok(f >= 0 && f < 1, `nextFloat gave ${f}`);
          const k = random.intBetween(min, min + width);
          assert.ok(Number.isInteger(k) && k >= min && k <= min + width, `intBetween gave ${k}`);
          const d = random.delayMs(5, 5 + width, 5 + 10 * width);
          assert.ok(d >= 5 && d <= 5 + 10 * width, `delayMs gave ${d}`);
        }
        assert.equal(random.chance(0), false);
        assert.equal(random.chance(1), true);
      },
    ),
    { seed: 11, numRuns: 200 },
  );
});

test('draws are close to uniform', () => {
  const random = Random.stream(3, 'uniformity');
  const bins = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) bins[Math.floor(random.nextFloat() * 10)]! += 1;
  // Chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
  const expected = n / 10;
  const chiSquare = bins.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 27.9, `chi-square ${chiSquare.toFixed(1)} for bins ${bins.join(',')}`);
});

test('bad seeds and ranges are refused with a clear error', () => {
  assert.throws(() => new Random(-1), /non-negative safe integer/);
  assert.throws(() => new Random(1.5), /non-negative safe integer/);
  assert.throws(() => new Random(0).intBetween(3, 2), /min <= max/);
  assert.throws(() => new Random(0).pick([]), /non-empty/);
  assert.throws(() => new SimScheduler(-1), /non-negative integer/);
});

test('virtual time runs events by instant, then in the order they were scheduled', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ delayMs: fc.nat(50), cancel: fc.boolean(), nested: fc.nat(30) }), {
        maxLength: 60,
      }),
      (specs) => {
        const scheduler = new SimScheduler(START_MS);
        const ran: { atMs: number; order: number }[] = [];
        const expected: { atMs: number; order: number }[] = [];
        let order = 0;
        specs.forEach((spec) => {
          const mine = order++;
          const cancel = scheduler.after(spec.delayMs, () => {
            assert.equal(scheduler.nowMs(), START_MS + spec.delayMs);
            ran.push({ atMs: scheduler.nowMs(), order: mine });
            // An event scheduled from inside a callback runs later than everything already due now.
            const child = order++;
            scheduler.after(spec.nested, () => ran.push({ atMs: scheduler.nowMs(), order: child }));
          });
          if (spec.cancel) cancel();
          else expected.push({ atMs: START_MS + spec.delayMs, order: mine });
        });
        while (scheduler.runNext()) {
          // run to the end
        }
        assert.equal(scheduler.pendingCount, 0);
        const parents = ran.filter((r) => expected.some((e) => e.order === r.order));
        const byTime = [...expected].sort((x, y) => x.atMs - y.atMs || x.order - y.order);
        assert.deepEqual(parents, byTime);
        assert.equal(ran.length, expected.length * 2);
        for (let i = 1; i < ran.length; i++)
          assert.ok(ran[i]!.atMs >= ran[i - 1]!.atMs, 'time went backwards');
      },
    ),
    { seed: 5, numRuns: 200 },
  );
});

test('deferred work runs at the current instant after what is already due; runNext stops at its bound', () => {
  const scheduler = new SimScheduler(START_MS);
  const ran: string[] = [];
  scheduler.after(10, () => {
    ran.push('a');
    scheduler.defer(() => ran.push('a-deferred'));
  });
  scheduler.after(10, () => ran.push('b'));
  scheduler.after(20, () => ran.push('c'));
  assert.equal(scheduler.nextAtMs(), START_MS + 10);
  while (scheduler.runNext(START_MS + 15)) {
    // run what is due by +15 ms
  }
  assert.deepEqual(ran, ['a', 'b', 'a-deferred']);
  assert.equal(scheduler.monotonicMs(), 10);
  assert.throws(() => scheduler.advanceTo(START_MS + 25), /an event is due/);
  scheduler.advanceTo(START_MS + 20);
  assert.equal(scheduler.runNext(), true);
  assert.deepEqual(ran, ['a', 'b', 'a-deferred', 'c']);
  assert.equal(scheduler.runNext(), false);
});

test('a cancel from inside the event itself, or twice, does not miscount what is pending', () => {
  const scheduler = new SimScheduler(START_MS);
  const cancel: (() => void)[] = [];
  cancel.push(scheduler.after(1, () => cancel[0]!()));
  const other = scheduler.after(2, () => undefined);
  other();
  other();
  assert.equal(scheduler.pendingCount, 1);
  assert.equal(scheduler.runNext(), true);
  assert.equal(scheduler.pendingCount, 0);
  assert.equal(scheduler.runNext(), false);
});

test('every seed draws its own fault plan, the same each time, with each kind of fault off for some seeds', () => {
  assert.deepEqual(faultPlanFromSeed(42), faultPlanFromSeed(42));
  assert.equal(describeFaultPlan(faultPlanFromSeed(42)), describeFaultPlan(faultPlanFromSeed(42)));
  const plans = Array.from({ length: 400 }, (_, seed) => faultPlanFromSeed(seed));
  const probabilities = (pick: (p: ReturnType<typeof faultPlanFromSeed>) => number): number[] =>
    plans.map(pick);
  for (const [name, values, max] of [
    ['drop', probabilities((p) => p.network.dropProbability), 0.2],
    ['duplicate', probabilities((p) => p.network.duplicateProbability), 0.1],
    ['store write', probabilities((p) => p.store.writeFailProbability), 0.05],
    ['commit', probabilities((p) => p.store.commitFailProbability), 0.05],
    ['crash', probabilities((p) => p.process.crashProbability), 0.002],
  ] as const) {
    assert.ok(
      values.every((v) => v >= 0 && v <= max),
      `${name} out of range`,
    );
    const off = values.filter((v) => v === 0).length;
    assert.ok(off > 50 && off < 160, `${name} was off for ${off} of 400 seeds`);
  }
  for (const p of plans) {
    assert.ok(
      p.network.delayMinMs <= p.network.delayMeanMs &&
        p.network.delayMeanMs <= p.network.delayMaxMs,
    );
  }
});

function networkRun(seed: number, faults: NetworkFaults, messages: number) {
  const scheduler = new SimScheduler(START_MS);
  const trace = new Trace(scheduler);
  const network = new SimNetwork<number>(
    scheduler,
    Random.stream(seed, 'network'),
    faults,
    trace,
    (m) => `m${m}`,
  );
  const received: number[] = [];
  network.listen('node-1', (m, from) => {
    assert.equal(from, 'processor');
    received.push(m);
  });
  for (let m = 0; m < messages; m++) network.send('processor', 'node-1', m);
  while (scheduler.runNext()) {
    // deliver everything
  }
  return { received, stats: network.stats(), trace: trace.format() };
}

test('without faults every message arrives once, in order when delays are equal', () => {
  const { received, stats } = networkRun(1, NO_FAULTS.network, 100);
  assert.deepEqual(
    received,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(stats, {
    sent: 100,
    delivered: 100,
    dropped: 0,
    duplicated: 0,
    undeliverable: 0,
  });
});

test('lost, duplicated and reordered messages follow the plan, and the same seed gives the same run', () => {
  const lossy: NetworkFaults = {
    dropProbability: 0.3,
    duplicateProbability: 0.2,
    delayMinMs: 1,
    delayMeanMs: 50,
    delayMaxMs: 500,
  };
  const run = networkRun(9, lossy, 2_000);
  assert.deepEqual(networkRun(9, lossy, 2_000), run);
  assert.notDeepEqual(networkRun(10, lossy, 2_000).received, run.received);
  const { stats, received } = run;
  assert.equal(stats.delivered, received.length);
  assert.equal(stats.delivered, stats.sent - stats.dropped + stats.duplicated);
  assert.ok(
    stats.dropped > 450 && stats.dropped < 750,
    `dropped ${stats.dropped} of 2000 at p=0.3`,
  );
  assert.ok(
    stats.duplicated > 180 && stats.duplicated < 380,
    `duplicated ${stats.duplicated} of ~1400 at p=0.2`,
  );
  const outOfOrder = received.filter((m, i) => i > 0 && m < received[i - 1]!).length;
  assert.ok(outOfOrder > 0, 'unequal delays must reorder some messages');
  assert.equal(networkRun(9, { ...lossy, dropProbability: 1 }, 50).stats.delivered, 0);
});

test('a message to a process that is down, or over a cut link, is lost', () => {
  const scheduler = new SimScheduler(START_MS);
  const trace = new Trace(scheduler, 10);
  const network = new SimNetwork<string>(
    scheduler,
    new Random(1),
    NO_FAULTS.network,
    trace,
    (m) => m,
  );
  const received: string[] = [];
  const stop = network.listen('node-1', (m) => received.push(m));
  assert.throws(() => network.listen('node-1', () => undefined), /already listened/);
  network.send('processor', 'node-1', 'before-crash');
  stop();
  while (scheduler.runNext()) {
    // deliver
  }
  network.listen('node-1', (m) => received.push(m));
  network.setLinkDown('node-1', 'processor', true);
  network.send('processor', 'node-1', 'cut');
  network.setLinkDown('processor', 'node-1', false);
  network.send('processor', 'node-1', 'healed');
  while (scheduler.runNext()) {
    // deliver
  }
  assert.deepEqual(received, ['healed']);
  assert.deepEqual(network.stats(), {
    sent: 3,
    delivered: 1,
    dropped: 1,
    duplicated: 0,
    undeliverable: 1,
  });
  assert.match(
    trace.format(),
    /undeliverable processor->node-1 before-crash[\s\S]*link-down[\s\S]*drop processor->node-1 cut/,
  );
});

test('a trace keeps its last entries and counts them all', () => {
  const scheduler = new SimScheduler(START_MS);
  const trace = new Trace(scheduler, 3);
  for (let i = 0; i < 5; i++) trace.record('p', 'tick', String(i));
  assert.equal(trace.count, 5);
  assert.deepEqual(
    trace.tail().map((e) => e.detail),
    ['2', '3', '4'],
  );
  assert.equal(trace.format(1), '#4 +0ms p tick 4');
  assert.throws(() => new Trace(scheduler, 0), /positive integer/);
});
