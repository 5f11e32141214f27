// Which faults a simulated run injects, and how often. Like TigerBeetle's simulator, every seed
// draws its own mix ("swarm testing"): some runs have a quiet network and a flaky store, others
// the opposite, and each kind of fault is switched off entirely in some runs, because a fault that
// happens everywhere at a low rate hides the bugs that only a long stretch of one kind exposes.

import { Random } from './random.js';

export interface NetworkFaults {
  /** Probability that one message is lost. */
  readonly dropProbability: number;
  /** Probability that one message is delivered twice. */
  readonly duplicateProbability: number;
  /** One-way delay: at least min, exponential with the given mean, at most max; unequal delays reorder. */
  readonly delayMinMs: number;
  readonly delayMeanMs: number;
  readonly delayMaxMs: number;
}

export interface StoreFaults {
  /** Probability that one store write (a query that changes rows) fails. */
  readonly writeFailProbability: number;
  /** Probability that one commit fails before it lands. */
  readonly commitFailProbability: number;
  /** Probability that a commit lands but its answer is lost (the caller cannot tell). */
  readonly commitAnswerLostProbability: number;
}

export interface ProcessFaults {
  /** Probability, per simulated step of a process, that it crashes there. */
  readonly crashProbability: number;
  /** How long a crashed process stays down before it restarts. */
  readonly restartDelayMinMs: number;
  readonly restartDelayMaxMs: number;
}

export interface FaultPlan {
  readonly network: NetworkFaults;
  readonly store: StoreFaults;
  readonly process: ProcessFaults;
}

export const NO_FAULTS: FaultPlan = {
  network: {
    dropProbability: 0,
    duplicateProbability: 0,
    delayMinMs: 1,
    delayMeanMs: 1,
    delayMaxMs: 1,
  },
  store: { writeFailProbability: 0, commitFailProbability: 0, commitAnswerLostProbability: 0 },
  process: { crashProbability: 0, restartDelayMinMs: 0, restartDelayMaxMs: 0 },
};

/** `maxP` with probability 3/4, else 0: the fault is off for about a quarter of the seeds. */
function sometimes(random: Random, maxP: number): number {
  return random.chance(0.25) ? 0 : random.nextFloat() * maxP;
}

/** The fault mix of one seed. The same seed always draws the same plan. */
export function faultPlanFromSeed(seed: number): FaultPlan {
  const random = Random.stream(seed, 'fault-plan');
  const delayMinMs = random.intBetween(0, 20);
  const delayMeanMs = delayMinMs + random.intBetween(0, 200);
  return {
    network: {
      dropProbability: sometimes(random, 0.2),
      duplicateProbability: sometimes(random, 0.1),
      delayMinMs,
      delayMeanMs,
      delayMaxMs: delayMeanMs * 10 + 1,
    },
    store: {
      writeFailProbability: sometimes(random, 0.05),
      commitFailProbability: sometimes(random, 0.05),
      commitAnswerLostProbability: sometimes(random, 0.02),
    },
    process: {
      crashProbability: sometimes(random, 0.002),
      restartDelayMinMs: 100,
      restartDelayMaxMs: 100 + random.intBetween(0, 5_000),
    },
  };
}

/** The plan as one line, for the start of a trace. */
export function describeFaultPlan(plan: FaultPlan): string {
  const p = (x: number): string => x.toFixed(4);
  const n = plan.network;
  const s = plan.store;
  return [
    `network drop=${p(n.dropProbability)} dup=${p(n.duplicateProbability)} delay=${n.delayMinMs}/${n.delayMeanMs}/${n.delayMaxMs}ms`,
    `store write=${p(s.writeFailProbability)} commit=${p(s.commitFailProbability)} lost-answer=${p(s.commitAnswerLostProbability)}`,
    `process crash=${p(plan.process.crashProbability)} restart=${plan.process.restartDelayMinMs}..${plan.process.restartDelayMaxMs}ms`,
  ].join('; ');
}
