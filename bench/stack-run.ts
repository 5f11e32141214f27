// `npm run bench -- --stack K` (docs/benchmark.md, "A city on many processors"): a city of K
// neighbourhoods on K + 1 processors, started and set up by src/city (the services `hanzenet
// city up` runs: a processor per chain, an uplink per neighbourhood, and unless --no-node a
// mirror node per chain), loaded with meter readings on every neighbourhood at once. Reports the
// aggregate throughput, the CPU per reading of every part, and for each period that received
// readings how long after its end the city settled it and its settlement reached each
// neighbourhood (from the chains' block times).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { neighbourhoodKeys } from '../src/city/keys.js';
import { cityLayout, databasesOf } from '../src/city/layout.js';
import { type CityOptions, checkCityOptions } from '../src/city/options.js';
import type { CityReport } from '../src/city/report.js';
import { bringUp } from '../src/city/run.js';
import { serviceExitedError } from '../src/city/service.js';
import { Supervisor } from '../src/city/supervisor.js';
import { HanzenetClient } from '../src/client/client.js';
import { CpuOfProcesses, cpuSeconds } from './proc.js';
import type { Backend } from './runner.js';
import {
  type NeighbourhoodLoad,
  type NeighbourhoodTarget,
  loadNeighbourhood,
} from './stack-load.js';
import { type StackCpu, type StackResult, stackCpu } from './stack-report.js';
import { awaitStackSettlements, nodeCatchUp } from './stack-settle.js';

/** The shortest market period the Market contract allows, so that a run sees periods settle. */
export const STACK_PERIOD_SECONDS = 60;
export const STACK_GATE_CLOSURE_SECONDS = 5;
/** After the neighbourhoods' gate closure, their settlement agent (5 s), the uplink (2 s) and blocks. */
export const STACK_CITY_GATE_CLOSURE_SECONDS = 20;

/** The running cities' services, for the benchmark's SIGINT/SIGTERM handler to stop. */
export const liveStacks = new Set<Supervisor>();

export interface StackOptions {
  readonly neighbourhoods: number;
  readonly households: number;
  readonly readingsPerNeighbourhood: number;
  readonly backend: Backend;
  readonly baseDatabaseUrl: string | undefined;
  readonly blockIntervalMs: number;
  /** Lanes (requests in flight) per neighbourhood. */
  readonly lanes: number;
  readonly seed: string;
  readonly node: boolean;
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

function cityOptions(o: StackOptions, dataDir: string): CityOptions {
  return checkCityOptions({
    neighbourhoods: o.neighbourhoods,
    households: o.households,
    dataDir,
    periodSeconds: STACK_PERIOD_SECONDS,
    gateClosureSeconds: STACK_GATE_CLOSURE_SECONDS,
    cityGateClosureSeconds: STACK_CITY_GATE_CLOSURE_SECONDS,
    blockIntervalMs: o.blockIntervalMs,
    host: '127.0.0.1',
    basePort: null,
    databaseUrl: o.backend === 'postgres' ? (o.baseDatabaseUrl ?? null) : null,
    prices: { localEur: '0.15', supplyEur: '0.3', feedInEur: '0.05' },
  });
}

async function targetsOf(co: CityOptions, city: CityReport): Promise<NeighbourhoodTarget[]> {
  const layout = cityLayout(co);
  return Promise.all(
    city.neighbourhoods.map(async (n, i) => {
      const chain = layout.neighbourhoods[i];
      if (chain === undefined) throw new Error(`no layout for ${n.name}`);
      const keys = await neighbourhoodKeys(chain, co.households);
      const client = new HanzenetClient({ url: n.url, chainId: n.chainId });
      const energyHashHex = await client.contractHashOfType('Energy');
      client.close();
      return {
        name: n.name,
        url: n.url,
        chainId: n.chainId,
        context: n.context,
        energyHashHex,
        meters: keys.households.flatMap((h) => [
          { key: h.house, producing: false },
          ...(h.solar === null ? [] : [{ key: h.solar, producing: true }]),
        ]),
      };
    }),
  );
}

/** The process ids of the city's services whose names pass `pick` (e.g. `n1 processor`). */
function pidsOf(city: CityReport, pick: (name: string) => boolean): number[] {
  return city.services.filter((s) => pick(s.name)).map((s) => s.pid);
}

/** CPU seconds of the services by role, from the time of the call on. */
function serviceCpu(
  city: CityReport,
): Record<'neighbourhoodProcessors' | 'cityProcessor' | 'uplinks' | 'nodes', () => number> {
  return {
    neighbourhoodProcessors: processCpu(
      pidsOf(city, (name) => name.endsWith(' processor') && name !== 'city processor'),
    ),
    cityProcessor: processCpu(pidsOf(city, (name) => name === 'city processor')),
    uplinks: processCpu(pidsOf(city, (name) => name.endsWith(' uplink'))),
    nodes: processCpu(pidsOf(city, (name) => name.endsWith(' node'))),
  };
}

/** Samples the PostgreSQL backends of the processors' databases every 250 ms. */
class PostgresSampler {
  private readonly cpu = new CpuOfProcesses([]);
  private timer: NodeJS.Timeout | null = null;
  private constructor(
    private readonly client: pg.Client,
    private readonly databases: readonly string[],
  ) {}

  static async start(serverUrl: string, databases: readonly string[]): Promise<PostgresSampler> {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    const s = new PostgresSampler(client, databases);
    await s.sample();
    s.timer = setInterval(() => void s.sample(), 250);
    return s;
  }

  private async sample(): Promise<void> {
    const r = await this.client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
      [this.databases],
    );
    this.cpu.observe(r.rows.map((row) => row.pid));
  }

  async stop(): Promise<number> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.sample();
    await this.client.end();
    return this.cpu.seconds();
  }
}

function processCpu(pids: readonly number[]): () => number {
  const before = pids.map((p) => cpuSeconds(p) ?? 0);
  return () => pids.reduce((sum, p, i) => sum + ((cpuSeconds(p) ?? 0) - (before[i] ?? 0)), 0);
}

/** The timed phase: every neighbourhood loaded at once, the CPU of every part measured. */
async function timedLoad(
  o: StackOptions,
  city: CityReport,
  targets: readonly NeighbourhoodTarget[],
  databases: readonly string[],
): Promise<{ loads: NeighbourhoodLoad[]; seconds: number; cpu: StackCpu }> {
  const cpuOf = serviceCpu(city);
  const pgSampler =
    o.backend === 'postgres' && o.baseDatabaseUrl !== undefined
      ? await PostgresSampler.start(o.baseDatabaseUrl, databases)
      : null;
  const clientBefore = process.cpuUsage();
  const startMs = performance.now();
  const loads = await Promise.all(
    targets.map((t) => loadNeighbourhood(t, o.readingsPerNeighbourhood, o.lanes, o.seed, startMs)),
  );
  const seconds = (performance.now() - startMs) / 1000;
  const client = process.cpuUsage(clientBefore);
  const readings = loads.reduce((s, l) => s + l.readings, 0);
  const cpu = stackCpu(readings, {
    neighbourhoodProcessors: cpuOf.neighbourhoodProcessors(),
    cityProcessor: cpuOf.cityProcessor(),
    uplinks: cpuOf.uplinks(),
    nodes: cpuOf.nodes(),
    postgres: pgSampler === null ? null : await pgSampler.stop(),
    loadGenerator: (client.user + client.system) / 1e6,
  });
  return { loads, seconds, cpu };
}

async function dropDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Starts the city, loads it, waits for the settlements, stops it; never leaves a service running. */
export async function runStack(o: StackOptions): Promise<StackResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hz-bench-stack-'));
  const co = cityOptions(o, dataDir);
  const layout = cityLayout(co);
  const processorDatabases = [layout.city, ...layout.neighbourhoods].flatMap((c) =>
    [c.processorDatabase].filter((d): d is string => d !== null),
  );
  const failures: string[] = [];
  const supervisor = new Supervisor((s, e) => {
    failures.push(
      serviceExitedError(s.name, s.logFile, e, s.isUp() ? 'running' : 'starting').message,
    );
  });
  liveStacks.add(supervisor);
  try {
    o.log(
      `stack: a city of ${o.neighbourhoods} neighbourhood(s) of ${o.households} households on ${o.backend}${o.node ? ', with mirror nodes' : ''} in ${dataDir}`,
    );
    const setupStart = performance.now();
    const city = await bringUp(co, supervisor, o.node);
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const targets = await targetsOf(co, city);
    o.log(
      `stack: set up in ${setupSeconds.toFixed(1)} s; ${o.readingsPerNeighbourhood} readings on each of ${targets.length} neighbourhood(s) at once`,
    );
    const timed = await timedLoad(o, city, targets, processorDatabases);
    o.log(
      `stack: ${timed.loads.length * o.readingsPerNeighbourhood} readings in ${timed.seconds.toFixed(2)} s`,
    );
    const settleStart = performance.now();
    const settleCpu = serviceCpu(city);
    const periods = await awaitStackSettlements(
      city,
      timed.loads,
      STACK_PERIOD_SECONDS * 1000,
      o.log,
    );
    o.log(
      `stack: settlements waited for ${((performance.now() - settleStart) / 1000).toFixed(1)} s`,
    );
    const settleCpuSeconds = {
      neighbourhoodProcessors: settleCpu.neighbourhoodProcessors(),
      cityProcessor: settleCpu.cityProcessor(),
      uplinks: settleCpu.uplinks(),
      seconds: (performance.now() - settleStart) / 1000,
    };
    const nodes = o.node ? await nodeCatchUp(city) : null;
    for (const p of periods)
      for (const n of p.neighbourhoods)
        if (n.arrivedAfterEndMs === null)
          failures.push(`${n.name}: the settlement of period ${p.periodStartMs} did not arrive`);
    for (const n of nodes ?? [])
      if (!n.caughtUp) failures.push(`${n.name} node did not reach its processor's head`);
    const readings = timed.loads.reduce((s, l) => s + l.readings, 0);
    return {
      ok: failures.length === 0,
      failures,
      neighbourhoods: o.neighbourhoods,
      households: o.households,
      meters: targets.reduce((s, t) => s + t.meters.length, 0),
      backend: o.backend,
      periodSeconds: STACK_PERIOD_SECONDS,
      gateClosureSeconds: STACK_GATE_CLOSURE_SECONDS,
      cityGateClosureSeconds: STACK_CITY_GATE_CLOSURE_SECONDS,
      setupSeconds,
      readings,
      seconds: timed.seconds,
      txPerSecond: readings / timed.seconds,
      processors: timed.loads,
      cpu: timed.cpu,
      settleCpuSeconds,
      periods,
      nodes,
    };
  } finally {
    const stop = await supervisor.stopAll();
    liveStacks.delete(supervisor);
    for (const f of stop.failed)
      o.log(`stack: ${f.service} did not stop cleanly: ${JSON.stringify(f.exit)}`);
    if (!o.keep) {
      if (o.backend === 'postgres' && o.baseDatabaseUrl !== undefined) {
        await dropDatabases(o.baseDatabaseUrl, databasesOf(layout));
      }
      await rm(dataDir, { recursive: true, force: true });
    } else o.log(`stack: kept ${dataDir}`);
  }
}
