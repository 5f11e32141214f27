// `hanzenet demo --stack`: the city above the two neighbourhoods (docs/market.md, "Stacked
// marketplaces"): the city's market with each neighbourhood as a member (src/city/setup.ts, as
// `hanzenet city up` sets it up), and an uplink per neighbourhood (src/stack/uplink.ts) carrying
// positions up and settlements down, on the demo's clock.

import { join } from 'node:path';
import { setUpCity } from '../city/setup.js';
import { serviceLogger } from '../ledger/log.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
import { Uplink } from '../stack/uplink.js';
import type { DemoChain } from './chains.js';
import type { TimeLapseClock } from './clock.js';
import { PERIOD_SECONDS } from './setup.js';

/** The city's prices: flat over the day (the neighbourhoods' supplier prices follow the day). */
export const CITY_PRICES = { localEur: '0.14', supplyEur: '0.27', feedInEur: '0.05' } as const;
const UPLINK_INTERVAL_MS = 1000;

export interface DemoStack {
  readonly city: DemoChain;
  readonly neighbourhoods: readonly DemoChain[];
  readonly uplinks: readonly Uplink[];
}

export async function startStack(
  city: DemoChain,
  neighbourhoods: readonly DemoChain[],
  clock: TimeLapseClock,
  cityGateClosureSeconds: number,
): Promise<DemoStack> {
  const members = [];
  for (const n of neighbourhoods) {
    const key = async (name: string) =>
      (await loadOrCreateKeyFile(join(n.dir, 'keys', `${name}.key`))).key.address;
    members.push({
      chainId: n.chainId,
      context: n.owner.address,
      processor: n.processorAddress,
      producer: await key('member-producer'),
      consumer: await key('member-consumer'),
    });
  }
  await setUpCity(city.client, { owner: city.owner }, members, {
    periodSeconds: PERIOD_SECONDS,
    gateClosureSeconds: cityGateClosureSeconds,
    prices: CITY_PRICES,
    nowMs: clock.nowMs(),
  });
  const log = serviceLogger(
    clock,
    'uplink',
    process.env['HANZENET_LOG_LEVEL'] ? undefined : 'warn',
  );
  const uplinks = neighbourhoods.map(
    (n) => new Uplink(n.client, city.client, clock, log, { intervalMs: UPLINK_INTERVAL_MS }),
  );
  for (const u of uplinks) u.start();
  return { city, neighbourhoods, uplinks };
}

export async function stopStack(s: DemoStack): Promise<void> {
  for (const u of s.uplinks) await u.stop();
}
