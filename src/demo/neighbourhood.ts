// One demo neighbourhood: its chain's context set up (setup.ts), its households' simulated meters
// (meters.ts) and the P1 gateway reading them (gateway.ts). The meters start when the demo's day
// does.

import { join } from 'node:path';
import type { ParentMarket } from '../city/setup.js';
import { sleepOn } from '../core/scheduler.js';
import type { DemoChain } from './chains.js';
import { communityHouseholds, type Household } from './community.js';
import {
  householdKeys,
  type HouseholdKeys,
  type RunningGateway,
  startGateway,
  writeGatewayConfig,
} from './gateway.js';
import { MeterFeed } from './meters.js';
import { PERIOD_SECONDS, setUpDemoNeighbourhood } from './setup.js';
import type { TimeLapseClock } from './clock.js';
import { DAY_MS } from './options.js';

export interface NeighbourhoodPlan {
  readonly households: number;
  readonly seed: number;
  readonly dayStartMs: number;
  readonly gateClosureSeconds: number;
  readonly parent: ParentMarket | null;
}

export interface DemoNeighbourhood {
  readonly chain: DemoChain;
  readonly homes: readonly Household[];
  readonly keys: readonly HouseholdKeys[];
  readonly feed: MeterFeed;
  readonly gateway: RunningGateway;
}

/** How long the gateway may take to connect to every meter. */
const CONNECT_WAIT_MS = 15_000;

export async function startNeighbourhood(
  chain: DemoChain,
  plan: NeighbourhoodPlan,
  clock: TimeLapseClock,
  warn: (line: string) => void,
): Promise<DemoNeighbourhood> {
  const homes = communityHouseholds(plan.seed, plan.households);
  const keys = await householdKeys(join(chain.dir, 'keys'), plan.households);
  await setUpDemoNeighbourhood(chain.client, {
    name: chain.name,
    owner: chain.owner,
    homes,
    keys,
    dayStartMs: plan.dayStartMs,
    gateClosureSeconds: plan.gateClosureSeconds,
    parent: plan.parent,
  });
  const { feed, meters } = await MeterFeed.open(clock, homes, {
    seed: plan.seed,
    startMs: plan.dayStartMs,
    endMs: plan.dayStartMs + DAY_MS,
    idPrefix: `HZDEMO${chain.name.toUpperCase()}`,
  });
  try {
    const configPath = await writeGatewayConfig({
      dir: join(chain.dir, 'gateway'),
      api: chain.running.url,
      chainId: chain.chainId,
      context: chain.owner.address,
      periodSeconds: PERIOD_SECONDS,
      meters,
      keys,
    });
    const gateway = startGateway(configPath, clock, chain.name, warn);
    const deadline = clock.monotonicMs() + CONNECT_WAIT_MS;
    while (!feed.connected() && clock.monotonicMs() < deadline) await sleepOn(clock, 50);
    if (!feed.connected())
      warn(
        `${chain.name}: the gateway has not connected to every meter within ${CONNECT_WAIT_MS} ms; the day starts anyway`,
      );
    return { chain, homes, keys, feed, gateway };
  } catch (err) {
    await feed.close();
    throw err;
  }
}

export async function stopNeighbourhood(n: DemoNeighbourhood): Promise<void> {
  await n.feed.close();
  await n.gateway.stop();
}
