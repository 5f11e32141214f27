// `hanzenet demo`: a live demo neighbourhood (or, with --stack, two and their city) in one
// process: the processors on the demo's time-lapse clock, the households' meters and gateways,
// the market with its auction and standing orders, a simulated day in a few real minutes. Prints
// one JSON line with the dashboard's URL on stdout and the progress on stderr, idles once the
// day is settled, and stops everything on SIGINT/SIGTERM (docs/cli.md "hanzenet demo",
// docs/decisions/0015-demo-time-lapse.md).

import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainError } from '../core/errors.js';
import { systemScheduler } from '../core/scheduler.js';
import { stopOnSignals, untilAborted } from '../ledger/lifecycle.js';
import { serviceLogger } from '../ledger/log.js';
import { TimeLapseClock } from './clock.js';
import { type DemoChain, startChain, stopChain } from './chains.js';
import { type DemoNeighbourhood, startNeighbourhood, stopNeighbourhood } from './neighbourhood.js';
import { DAY_MS, type DemoOptions, rateOf } from './options.js';
import { Progress } from './progress.js';
import { type DemoStack, startStack, stopStack } from './stack.js';

/** The demo's clock starts this long before the day, at real speed, while the chains are set up. */
const SETUP_LEAD_MS = 30 * 60_000;
/** Real seconds a neighbourhood's readings get after a period's end before it may be settled. */
const GATE_REAL_S = 6;
/**
 * Real seconds a neighbourhood's position gets to reach the city: its settlement (which may lag a
 * few seconds behind on a fast day), the uplink, a block on each chain. The city's gate closure is
 * at most a day, which the shortest days reach.
 */
const TRIP_REAL_S = 20;
/** Real seconds the time-lapse goes on after the last gate closure for the last settlements. */
const SETTLE_REAL_S = 60;

export interface DemoWriters {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Demo seconds standing for `realS` real seconds, in whole minutes, from 5 minutes to a day. */
export function demoSeconds(realS: number, rate: number): number {
  return Math.min(86_400, Math.max(300, Math.ceil((realS * rate) / 60) * 60));
}

async function prepareDataDir(o: DemoOptions): Promise<{ path: string; remove: boolean }> {
  if (o.dataDir === null)
    return { path: await mkdtemp(join(tmpdir(), 'hanzenet-demo-')), remove: !o.keep };
  await mkdir(o.dataDir, { recursive: true });
  const entries = await readdir(o.dataDir);
  if (entries.length > 0)
    throw new ChainError(
      'usage_error',
      `--data-dir ${o.dataDir} is not empty: a demo starts a new chain from the day before its day; give a new or empty folder (a kept demo chain is opened again with hanzenet processor start --data-dir ${join(o.dataDir, 'neighbourhood', 'processor')})`,
      { option: '--data-dir', dataDir: o.dataDir },
    );
  return { path: o.dataDir, remove: false };
}

/** What has started so far, so that a failed start stops exactly that. */
interface Started {
  readonly chains: DemoChain[];
  readonly neighbourhoods: DemoNeighbourhood[];
  stack: DemoStack | null;
}

async function startAll(
  o: DemoOptions,
  dataDir: string,
  clock: TimeLapseClock,
  started: Started,
  warn: (line: string) => void,
): Promise<void> {
  const rate = rateOf(o);
  const gateClosureSeconds = demoSeconds(GATE_REAL_S, rate);
  const plan = { households: o.households, dayStartMs: o.dayStartMs, gateClosureSeconds };
  if (!o.stack) {
    const chain = await startChain('neighbourhood', dataDir, o.host, o.port, clock);
    started.chains.push(chain);
    started.neighbourhoods.push(
      await startNeighbourhood(chain, { ...plan, seed: o.seed, parent: null }, clock, warn),
    );
    return;
  }
  const port = (i: number): number => (o.port === 0 ? 0 : o.port + i);
  // The chains start and are set up side by side: most of a start is each chain's own work.
  const names = ['n1', 'n2', 'city'];
  const chains = await Promise.allSettled(
    names.map((name, i) => startChain(name, dataDir, o.host, port(i), clock)),
  );
  for (const c of chains) if (c.status === 'fulfilled') started.chains.push(c.value);
  const failed = chains.find((c) => c.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const [n1, n2, city] = started.chains as [DemoChain, DemoChain, DemoChain];
  const cityGateClosureSeconds = demoSeconds(GATE_REAL_S + TRIP_REAL_S, rate);
  started.stack = await startStack(city, [n1, n2], clock, cityGateClosureSeconds);
  const parent = {
    chainId: city.chainId,
    context: city.owner.address,
    processor: city.processorAddress,
  };
  const neighbourhoods = await Promise.allSettled(
    [n1, n2].map((chain, i) =>
      startNeighbourhood(chain, { ...plan, seed: o.seed + i, parent }, clock, warn),
    ),
  );
  for (const n of neighbourhoods)
    if (n.status === 'fulfilled') started.neighbourhoods.push(n.value);
  const refused = neighbourhoods.find((n) => n.status === 'rejected');
  if (refused !== undefined) throw refused.reason;
}

function announce(o: DemoOptions, dataDir: string, s: Started): string {
  const place = (c: DemoChain) => ({
    name: c.name,
    dashboard: `${c.running.url}/`,
    api: c.running.url,
    chainId: c.chainId,
    context: c.owner.address,
  });
  const first = s.stack?.city ?? s.chains[0];
  return `${JSON.stringify({
    dashboard: first === undefined ? null : `${first.running.url}/`,
    date: new Date(o.dayStartMs).toISOString().slice(0, 10),
    households: o.households,
    dayMinutes: o.dayMinutes,
    seed: o.seed,
    chains: s.chains.map(place),
    dataDir,
    kept: o.dataDir !== null || o.keep,
  })}\n`;
}

async function stopAll(s: Started): Promise<void> {
  for (const n of s.neighbourhoods) await stopNeighbourhood(n);
  if (s.stack !== null) await stopStack(s.stack);
  for (const c of s.chains.reverse()) await stopChain(c);
}

export async function runDemo(o: DemoOptions, w: DemoWriters): Promise<void> {
  const log = serviceLogger(systemScheduler, 'demo', undefined);
  const stopping = stopOnSignals(log);
  const dir = await prepareDataDir(o);
  const clock = new TimeLapseClock(o.dayStartMs - SETUP_LEAD_MS);
  const started: Started = { chains: [], neighbourhoods: [], stack: null };
  let progress: Progress | null = null;
  try {
    w.err(
      `demo: setting up ${o.stack ? 'two neighbourhoods and their city' : 'a neighbourhood'} of ${o.households} households in ${dir.path}\n`,
    );
    await startAll(o, dir.path, clock, started, w.err);
    if (stopping.signal.aborted) return;
    w.out(announce(o, dir.path, started));
    for (const n of started.neighbourhoods) n.feed.start();
    const rate = rateOf(o);
    clock.setRate(rate);
    const lastGateS = demoSeconds(o.stack ? GATE_REAL_S + TRIP_REAL_S : GATE_REAL_S, rate);
    progress = new Progress(clock, started.neighbourhoods, started.stack, {
      dayStartMs: o.dayStartMs,
      dayEndMs: o.dayStartMs + DAY_MS,
      lapseEndMs: o.dayStartMs + DAY_MS + (lastGateS + SETTLE_REAL_S * rate) * 1000,
      write: w.err,
    });
    progress.start();
    await untilAborted(stopping.signal);
  } finally {
    progress?.stop();
    await stopAll(started);
    stopping.dispose();
    if (dir.remove) await rm(dir.path, { recursive: true, force: true });
  }
}
