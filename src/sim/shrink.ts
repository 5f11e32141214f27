// Making a failing seed's story short. The seed is replayed in smaller configurations, keeping
// each change under which it still fails with the same invariant: fewer steps, fewer
// households, fewer nodes, then each kind of fault switched off in turn. What is left is the
// smallest configuration found, whose trace ends at the failure.

import type { FaultPlan } from './faults.js';
import type { SimOptions, SimResult } from './run.js';
import { runSimulation } from './run.js';
import { faultPlanFromSeed } from './faults.js';

export interface ShrinkResult {
  readonly options: SimOptions;
  readonly result: SimResult;
  readonly replays: number;
}

type PlanEdit = { readonly name: string; readonly edit: (plan: FaultPlan) => FaultPlan };

/** The fault kinds, each turned off on its own. */
const FAULT_KINDS: readonly PlanEdit[] = [
  { name: 'crashes', edit: (p) => ({ ...p, process: { ...p.process, crashProbability: 0 } }) },
  { name: 'drops', edit: (p) => ({ ...p, network: { ...p.network, dropProbability: 0 } }) },
  {
    name: 'duplicates',
    edit: (p) => ({ ...p, network: { ...p.network, duplicateProbability: 0 } }),
  },
  {
    name: 'delays',
    edit: (p) => ({
      ...p,
      network: { ...p.network, delayMinMs: 1, delayMeanMs: 1, delayMaxMs: 1 },
    }),
  },
  {
    name: 'write failures',
    edit: (p) => ({ ...p, store: { ...p.store, writeFailProbability: 0 } }),
  },
  {
    name: 'commit failures',
    edit: (p) => ({ ...p, store: { ...p.store, commitFailProbability: 0 } }),
  },
  {
    name: 'lost commit answers',
    edit: (p) => ({ ...p, store: { ...p.store, commitAnswerLostProbability: 0 } }),
  },
];

/** Replays `failed` smaller while it still fails the same way; at most `replaysMax` replays. */
export async function shrinkFailure(
  options: SimOptions,
  failed: SimResult,
  replaysMax = 24,
  onReplay: (what: string, stillFails: boolean) => void = () => undefined,
): Promise<ShrinkResult> {
  const invariant = failed.violation?.invariant;
  let best: { options: SimOptions & { readonly plan: FaultPlan }; result: SimResult } = {
    options: { ...options, plan: options.plan ?? faultPlanFromSeed(options.seed) },
    result: failed,
  };
  let replays = 0;
  const attempt = async (what: string, next: SimOptions): Promise<boolean> => {
    if (replays >= replaysMax) return false;
    replays++;
    const result = await runSimulation(next);
    const fails = result.violation !== null && result.violation.invariant === invariant;
    onReplay(what, fails);
    if (fails) best = { options: { ...next, plan: next.plan ?? best.options.plan }, result };
    return fails;
  };
  // A failure inside the run needs no more steps than it took; one at the end may need fewer.
  let steps = Math.min(best.options.steps, best.result.steps);
  if (steps < best.options.steps) await attempt(`steps ${steps}`, { ...best.options, steps });
  for (steps = Math.floor(best.options.steps / 2); steps >= 50; steps = Math.floor(steps / 2)) {
    if (!(await attempt(`steps ${steps}`, { ...best.options, steps }))) break;
  }
  while (best.options.households > 1) {
    const households = best.options.households - 1;
    if (!(await attempt(`households ${households}`, { ...best.options, households }))) break;
  }
  while (best.options.nodes > 1) {
    const nodes = best.options.nodes - 1;
    if (!(await attempt(`nodes ${nodes}`, { ...best.options, nodes }))) break;
  }
  for (const kind of FAULT_KINDS) {
    await attempt(`no ${kind.name}`, { ...best.options, plan: kind.edit(best.options.plan) });
  }
  return { ...best, replays };
}
