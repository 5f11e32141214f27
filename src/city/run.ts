// `hanzenet city up`: a city of marketplaces on many processors, for tests and demos. Starts a
// processor and a mirror node per chain (the city and K neighbourhoods) and an uplink per
// neighbourhood as child processes running the same `hanzenet` commands an operator would run,
// sets up and links the contexts through the client, prints one JSON line with every URL, chain
// id and context, and stops everything on SIGINT or SIGTERM, or when one of its services ends
// (saying which).

import { mkdir } from 'node:fs/promises';
import { HanzenetClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import { ChainError } from '../core/errors.js';
import { ensureServerDatabases } from '../store/server-database.js';
import { type CityKeys, type NeighbourhoodKeys, cityKeys, neighbourhoodKeys } from './keys.js';
import { type ChainLayout, cityLayout, databasesOf } from './layout.js';
import type { CityOptions } from './options.js';
import { type CityReport, cityReport, type StartedChain } from './report.js';
import {
  type RunningService,
  type ServiceSpec,
  serviceExitedError,
  spawnService,
} from './service.js';
import { nodeSpec, processorSpec, uplinkSpec } from './services.js';
import { type MarketSetup, setUpCity, setUpNeighbourhood } from './setup.js';
import { Supervisor } from './supervisor.js';

/** The code, message and details of an error, as the CLI prints them. */
function errorOf(err: unknown): {
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  if (err instanceof ChainError || err instanceof ClientError)
    return { code: err.code, message: err.message, details: err.details };
  return {
    code: 'internal',
    message: err instanceof Error ? err.message : String(err),
    details: {},
  };
}

/** Stops the city once: every service, then the process (0 after a signal, 1 after a failure). */
class Shutdown {
  private started = false;
  constructor(private readonly supervisor: Supervisor) {}

  get inProgress(): boolean {
    return this.started;
  }

  async run(reason: { signal: string } | { error: unknown }): Promise<never> {
    if (this.started) return new Promise<never>(() => undefined);
    this.started = true;
    if ('error' in reason)
      process.stderr.write(`${JSON.stringify({ error: errorOf(reason.error) })}\n`);
    const report = await this.supervisor.stopAll();
    const because = 'signal' in reason ? reason.signal : errorOf(reason.error).code;
    process.stderr.write(`${JSON.stringify({ msg: 'city stopped', because, ...report })}\n`);
    const clean = 'signal' in reason && report.failed.length === 0;
    process.exit(clean ? 0 : 1);
  }
}

interface Started {
  readonly service: RunningService;
  readonly report: Record<string, unknown>;
}

async function start(supervisor: Supervisor, spec: ServiceSpec): Promise<Started> {
  const service = supervisor.add(spawnService(spec));
  return { service, report: (await service.ready) ?? {} };
}

function marketOf(o: CityOptions, gateClosureSeconds: number): MarketSetup {
  return {
    periodSeconds: o.periodSeconds,
    gateClosureSeconds,
    prices: o.prices,
    nowMs: Date.now(),
  };
}

async function setUp(
  o: CityOptions,
  city: StartedChain<CityKeys>,
  neighbourhoods: readonly StartedChain<NeighbourhoodKeys>[],
): Promise<void> {
  const clientOf = (c: StartedChain<unknown>): HanzenetClient =>
    new HanzenetClient({ url: c.url, chainId: c.chainId });
  const members = neighbourhoods.map((n) => ({
    chainId: n.chainId,
    context: n.keys.owner.address,
    processor: n.processorAddress,
    producer: n.keys.memberProducer.address,
    consumer: n.keys.memberConsumer.address,
  }));
  const parent = {
    chainId: city.chainId,
    context: city.keys.owner.address,
    processor: city.processorAddress,
  };
  const clients = [city, ...neighbourhoods].map(clientOf);
  try {
    await Promise.all([
      setUpCity(
        clients[0] as HanzenetClient,
        city.keys,
        members,
        marketOf(o, o.cityGateClosureSeconds),
      ),
      ...neighbourhoods.map((n, i) =>
        setUpNeighbourhood(
          clients[i + 1] as HanzenetClient,
          n.name,
          n.keys,
          marketOf(o, o.gateClosureSeconds),
          parent,
        ),
      ),
    ]);
  } finally {
    for (const c of clients) c.close();
  }
}

function chainOf<K>(
  chain: ChainLayout,
  keys: K,
  processor: Started,
  node: Started | null,
): StartedChain<K> {
  return {
    name: chain.name,
    url: String(processor.report['api']),
    chainId: String(processor.report['chainId']),
    processorAddress: String(processor.report['processorAddress']),
    nodeUrl: node === null ? '' : String(node.report['api']),
    keysDir: chain.keysDir,
    keys,
  };
}

async function bringUp(o: CityOptions, supervisor: Supervisor): Promise<CityReport> {
  const layout = cityLayout(o);
  const chains = [layout.city, ...layout.neighbourhoods];
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const cKeys = await cityKeys(layout.city);
  const nKeys: NeighbourhoodKeys[] = [];
  for (const n of layout.neighbourhoods) nKeys.push(await neighbourhoodKeys(n, o.households));
  if (o.databaseUrl !== null) await ensureServerDatabases(o.databaseUrl, databasesOf(layout));
  const processors = await Promise.all(chains.map((c) => start(supervisor, processorSpec(o, c))));
  const processorOf = (i: number): Started => processors[i] as Started;
  const keysOf = (i: number): NeighbourhoodKeys => nKeys[i] as NeighbourhoodKeys;
  // The mirror nodes start while the contexts are set up: neither needs the other.
  const [nodes] = await Promise.all([
    Promise.all(
      chains.map((c, i) => start(supervisor, nodeSpec(o, c, String(processorOf(i).report['api'])))),
    ),
    setUp(
      o,
      chainOf(layout.city, cKeys, processorOf(0), null),
      layout.neighbourhoods.map((n, i) => chainOf(n, keysOf(i), processorOf(i + 1), null)),
    ),
  ]);
  const nodeOf = (i: number): Started => nodes[i] as Started;
  // Once the chains are linked (MarketMember, MarketParent), each neighbourhood's uplink.
  const cityUrl = String(processorOf(0).report['api']);
  const uplinks = await Promise.all(
    layout.neighbourhoods.map((n, i) =>
      start(supervisor, uplinkSpec(n, String(processorOf(i + 1).report['api']), cityUrl)),
    ),
  );
  return cityReport(
    o,
    chainOf(layout.city, cKeys, processorOf(0), nodeOf(0)),
    layout.neighbourhoods.map((n, i) => chainOf(n, keysOf(i), processorOf(i + 1), nodeOf(i + 1))),
    [
      ...chains.flatMap((_, i) => [processorOf(i).service, nodeOf(i).service]),
      ...uplinks.map((u) => u.service),
    ],
  );
}

/** Starts the city; resolves once it runs and its line is printed. Stops it on SIGINT/SIGTERM. */
export async function runCity(o: CityOptions): Promise<void> {
  const supervisor = new Supervisor((s, e) => {
    const when = s.isUp() ? 'running' : 'starting';
    void shutdown.run({ error: serviceExitedError(s.name, s.logFile, e, when) });
  });
  const shutdown = new Shutdown(supervisor);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => void shutdown.run({ signal }));
  let report: CityReport;
  try {
    report = await bringUp(o, supervisor);
  } catch (err) {
    // A signal or a failed service stops the city already; the error of the start is then
    // a consequence (its services went away under it) and not worth a second report.
    if (shutdown.inProgress) return new Promise<void>(() => undefined);
    return shutdown.run({ error: err });
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
