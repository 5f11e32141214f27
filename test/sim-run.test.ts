// The whole system in the deterministic simulator: a processor, two mirror nodes and households
// on a lossy network and faulty stores, driven by a seed (docs/decisions/0004). A fixed set of
// seeds must keep every invariant; a seed must replay exactly; and a deliberately broken store
// must make a seed fail with the invariant it breaks, so the checks are not vacuous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSimulation } from '../src/sim/run.js';
import type { SimOptions, SimResult } from '../src/sim/run.js';
import { NO_FAULTS } from '../src/sim/faults.js';

/**
 * Seeds whose plans between them drop, duplicate and delay messages, fail store writes and
 * commits, lose a commit's answer and crash processes. Few and short: this machine is shared.
 */
const SUITE_SEEDS = [3];
const SUITE_STEPS = 250;

function options(seed: number, extra: Partial<SimOptions> = {}): SimOptions {
  return { seed, steps: SUITE_STEPS, nodes: 2, households: 2, ...extra };
}

test('a fixed set of seeds keeps every invariant, and a seed replays exactly', async () => {
  const runs = new Map<number, SimResult>();
  for (const seed of SUITE_SEEDS) {
    const result = await runSimulation(options(seed));
    runs.set(seed, result);
    assert.equal(
      result.result,
      'ok',
      `seed ${seed} failed: ${JSON.stringify(result.violation)}; replay with npm run sim -- --seed ${seed} --steps ${SUITE_STEPS} --households 2\n${result.trace.format(40)}`,
    );
    assert.ok(result.blocks > 1, `seed ${seed} produced blocks`);
    assert.ok(result.txsConfirmed > 0, `seed ${seed} confirmed transactions`);
    // After the end phase every node holds the processor's head.
    assert.equal(new Set(result.headHashes).size, 1);
  }
  const [seed] = SUITE_SEEDS as [number];
  const first = runs.get(seed) as SimResult;
  const again = await runSimulation(options(seed));
  assert.equal(again.traceDigest, first.traceDigest);
  assert.deepEqual(again.headHashes, first.headHashes);
  assert.deepEqual(again.faults, first.faults);
  assert.equal(again.steps, first.steps);
});

test('the seeds of the suite inject faults of every kind between them', async () => {
  // Checked on the plans alone (cheap): a suite that injects nothing proves nothing.
  const { faultPlanFromSeed } = await import('../src/sim/faults.js');
  const plans = SUITE_SEEDS.map(faultPlanFromSeed);
  assert.ok(plans.some((p) => p.network.dropProbability > 0));
  assert.ok(plans.some((p) => p.network.duplicateProbability > 0));
  assert.ok(plans.some((p) => p.store.commitFailProbability > 0));
  assert.ok(plans.some((p) => p.store.commitAnswerLostProbability > 0));
  assert.ok(plans.some((p) => p.process.crashProbability > 0));
});

test('a store that reports rolled-back commits as done makes the run fail with blocks_kept', async () => {
  const result = await runSimulation(
    options(3, { steps: 300, plan: NO_FAULTS, sabotage: 'store-lies' }),
  );
  assert.equal(result.result, 'failed');
  assert.equal(result.violation?.invariant, 'blocks_kept');
  assert.match(result.trace.format(), /store-lies/);
});

test('npm run sim refuses bad arguments with exit status 2', () => {
  const main = fileURLToPath(new URL('../src/sim/main.js', import.meta.url));
  for (const args of [
    [],
    ['--seeds', '5'],
    ['--seed', '-1'],
    ['--seed', '1', '--nodes', '0'],
    ['--bogus'],
  ]) {
    const run = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(JSON.parse(run.stderr).error.code, 'usage_error');
  }
});
