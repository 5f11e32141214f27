// The one JSON line `hanzenet city up` prints once the city runs (docs/cli.md, `hanzenet city
// up`): every URL, chain id and context address, the households' and members' addresses, and
// every service with its process id. Keys stay in their files.

import type { CityKeys, NeighbourhoodKeys } from './keys.js';
import type { CityOptions } from './options.js';
import type { RunningService } from './service.js';

export interface StartedChain<K> {
  readonly name: string;
  readonly url: string;
  readonly chainId: string;
  readonly processorAddress: string;
  readonly nodeUrl: string;
  readonly keysDir: string;
  readonly keys: K;
}

export interface ChainReport {
  readonly name: string;
  readonly url: string;
  readonly nodeUrl: string;
  readonly chainId: string;
  readonly processorAddress: string;
  readonly context: string;
  readonly keysDir: string;
}

export interface NeighbourhoodReport extends ChainReport {
  /** The neighbourhood's devices in the city. */
  readonly member: { readonly producer: string; readonly consumer: string };
  readonly households: {
    readonly trader: string;
    readonly house: string;
    readonly solar: string | null;
  }[];
}

export interface ServiceReport {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

export interface CityReport {
  readonly dataDir: string;
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
  readonly cityGateClosureSeconds: number;
  readonly city: ChainReport;
  readonly neighbourhoods: NeighbourhoodReport[];
  readonly services: ServiceReport[];
}

function chainReport(c: StartedChain<CityKeys | NeighbourhoodKeys>): ChainReport {
  return {
    name: c.name,
    url: c.url,
    nodeUrl: c.nodeUrl,
    chainId: c.chainId,
    processorAddress: c.processorAddress,
    context: c.keys.owner.address,
    keysDir: c.keysDir,
  };
}

export function cityReport(
  o: CityOptions,
  city: StartedChain<CityKeys>,
  neighbourhoods: readonly StartedChain<NeighbourhoodKeys>[],
  services: readonly RunningService[],
): CityReport {
  return {
    dataDir: o.dataDir,
    periodSeconds: o.periodSeconds,
    gateClosureSeconds: o.gateClosureSeconds,
    cityGateClosureSeconds: o.cityGateClosureSeconds,
    city: chainReport(city),
    neighbourhoods: neighbourhoods.map((n) => ({
      ...chainReport(n),
      member: { producer: n.keys.memberProducer.address, consumer: n.keys.memberConsumer.address },
      households: n.keys.households.map((h) => ({
        trader: h.trader.address,
        house: h.house.address,
        solar: h.solar?.address ?? null,
      })),
    })),
    services: services.map((s) => ({ name: s.name, pid: s.pid, log: s.logFile })),
  };
}
