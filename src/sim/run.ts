// One simulated run: a processor, mirror nodes and households on one virtual clock, a lossy
// network and faulty stores, all drawn from one seed. The step loop runs one scheduled event at a
// time and then waits until the work it started is done (every store idle, no query started in a
// full turn of the event loop), so virtual time moves only when nothing real is under way and a
// run depends only on its seed. After every step the cheap invariants are checked on the
// processes; every SQL_EVERY_STEPS steps and at the end, the invariants on every store. At the
// end the faults are healed, everything restarts and must catch up with the processor.

import { freshQuickJS } from '../contracts/runtime/quickjs.js';
import { utf8Encode } from '../core/bytes.js';
import { PrivateKey } from '../core/keys.js';
import { ChainStore } from '../store/chain-store.js';
import { databaseImage, openDatabase } from '../store/database.js';
import type { Database } from '../store/types.js';
import { describeFaultPlan, faultPlanFromSeed, NO_FAULTS } from './faults.js';
import type { FaultPlan } from './faults.js';
import { Household, runOwner } from './household.js';
import type { ClientDeps, HouseholdKeys } from './household.js';
import { IncarnationScheduler } from './incarnation.js';
import {
  checkAgreement,
  checkChain,
  checkConfirmedKept,
  checkEnergy,
  checkUniqueIds,
} from './invariants.js';
import type { Confirmation, InvariantViolation } from './invariants.js';
import { SimNetwork } from './network.js';
import { SimNode, SimProcessor, BLOCK_INTERVAL_MS } from './processes.js';
import type { ProcessControl, World } from './processes.js';
import { Random } from './random.js';
import { SimScheduler } from './scheduler.js';
import { Trace } from './trace.js';
import { describeMessage, Endpoint } from './wire.js';
import type { SimMessage } from './wire.js';

export interface SimOptions {
  readonly seed: number;
  /** Scheduled events run with faults, before the end phase. */
  readonly steps: number;
  readonly nodes: number;
  readonly households: number;
  /** Default: the seed's own plan (faultPlanFromSeed). */
  readonly plan?: FaultPlan;
  /** Run the SQL invariants every this many steps. */
  readonly sqlEverySteps?: number;
  /** Trace entries kept (default 2,000); all are hashed into the digest either way. */
  readonly traceKeep?: number;
  /** A deliberate bug in the simulated world, to show that the checks catch it (tests only). */
  readonly sabotage?: Sabotage;
}

/** `store-lies`: the processor's store reports some commits as done that it rolled back. */
export type Sabotage = 'store-lies';

export const DEFAULT_OPTIONS = { steps: 3_000, nodes: 2, households: 4 } as const;
const SQL_EVERY_STEPS = 250;
/** A crash inside a commit is this many times as likely per commit as a crash per step. */
const COMMIT_CRASH_FACTOR = 25;
/** With the faults healed, everything must catch up within this much virtual time. */
const END_PHASE_MS = 180_000;
const END_STEPS_MAX = 200_000;

export interface SimFaultCounts {
  readonly dropped: number;
  readonly duplicated: number;
  readonly writesFailed: number;
  readonly commitsFailed: number;
  readonly commitAnswersLost: number;
  readonly crashes: number;
}

export interface SimResult {
  readonly seed: number;
  readonly plan: string;
  readonly steps: number;
  readonly virtualMs: number;
  readonly blocks: number;
  readonly txsConfirmed: number;
  readonly faults: SimFaultCounts;
  readonly result: 'ok' | 'failed';
  readonly violation: (InvariantViolation & { readonly step: number }) | null;
  /** Head hash of the processor, then of each node, at the end. */
  readonly headHashes: readonly string[];
  readonly traceDigest: string;
  readonly trace: Trace;
}

const START_MS = Date.UTC(2026, 0, 1);

function keyOf(seed: number, name: string): PrivateKey {
  return PrivateKey.generateNonRandom(
    utf8Encode(`hanzenet-sim ${seed} ${name}`),
    utf8Encode('sim'),
  );
}

class Simulation {
  readonly clock: SimScheduler;
  readonly trace: Trace;
  readonly world: World;
  readonly processor: SimProcessor;
  readonly nodes: SimNode[] = [];
  readonly confirmed: Confirmation[] = [];
  private readonly network: SimNetwork<SimMessage>;
  private readonly crashRandom: Random;
  private readonly blockHashes = new Map<number, string>();
  private violation: InvariantViolation | null = null;
  private working = true;
  private crashesOn = true;
  private clientsRunning = 0;
  private readonly disks: Database[];

  constructor(
    private readonly opts: SimOptions,
    private readonly plan: FaultPlan,
    disks: Database[],
  ) {
    const { seed } = opts;
    this.disks = disks;
    this.clock = new SimScheduler(
      START_MS + Random.stream(seed, 'clock').intBetween(0, 86_400_000),
    );
    this.trace = new Trace(this.clock, opts.traceKeep);
    this.network = new SimNetwork<SimMessage>(
      this.clock,
      Random.stream(seed, 'network'),
      plan.network,
      this.trace,
      describeMessage,
    );
    this.crashRandom = Random.stream(seed, 'crash');
    this.world = {
      clock: this.clock,
      network: this.network,
      trace: this.trace,
      chainId: `sim-${seed}`,
      processorKey: keyOf(seed, 'processor'),
      storeFaults: plan.store,
      stores: [],
      crashesInCommit: (proc) => this.crashesInCommit(proc),
      restartLater: (proc) => this.restartLater(proc),
      ...(opts.sabotage === 'store-lies' ? { lyingStore: 'processor' } : {}),
    };
    const [processorDisk, ...nodeDisks] = disks as [Database, ...Database[]];
    this.processor = new SimProcessor(
      'processor',
      this.world,
      processorDisk,
      Random.stream(seed, 'store:processor'),
    );
    this.processor.onReady = (processor) =>
      processor.onBlock((block) => this.noteBlock(block.height, block.hashHex));
    const topology = Random.stream(seed, 'topology');
    nodeDisks.forEach((disk, i) => {
      const name = `node-${i + 1}`;
      const upstream = i > 0 && topology.chance(0.5) ? `node-${i}` : 'processor';
      const node = new SimNode(
        name,
        this.world,
        disk,
        Random.stream(seed, `store:${name}`),
        upstream,
        Random.stream(seed, `jitter:${name}`),
      );
      node.onReady = (mirror) =>
        mirror.onAlarm((alarm) =>
          this.fail({ invariant: 'node_alarm', detail: `${name}: ${alarm.message}` }),
        );
      this.nodes.push(node);
    });
  }

  private get processes(): ProcessControl[] {
    return [this.processor, ...this.nodes];
  }

  private fail(v: InvariantViolation): void {
    this.violation ??= v;
  }

  private noteBlock(height: number, hashHex: string): void {
    const known = this.blockHashes.get(height);
    if (known !== undefined && known !== hashHex)
      this.fail({
        invariant: 'blocks_kept',
        detail: `the processor committed block ${height} as ${known}, later as ${hashHex}`,
      });
    this.blockHashes.set(height, hashHex);
  }

  startClients(): void {
    const { seed, households } = this.opts;
    const servers = ['processor', ...this.nodes.map((n) => n.name)];
    const owner = keyOf(seed, 'owner');
    const keys: HouseholdKeys[] = Array.from({ length: households }, (_, i) => ({
      trader: keyOf(seed, `trader-${i}`),
      producer: keyOf(seed, `producer-${i}`),
      consumer: keyOf(seed, `consumer-${i}`),
    }));
    const depsFor = (name: string): ClientDeps => {
      const scheduler = new IncarnationScheduler(this.clock);
      return {
        endpoint: new Endpoint(this.network, scheduler, name, 1),
        scheduler,
        random: Random.stream(seed, `client:${name}`),
        trace: this.trace,
        chainId: this.world.chainId,
        context: owner.address,
        servers,
        confirmed: this.confirmed,
        working: () => this.working,
      };
    };
    this.track('owner', runOwner(depsFor('owner'), owner, keys));
    keys.forEach((k, i) => {
      const name = `house-${i + 1}`;
      const peers = keys.filter((other) => other !== k).map((other) => other.trader.address);
      const household = new Household(depsFor(name), name, k, peers);
      this.track(name, household.run(5_000 + i * 700));
    });
  }

  private track(name: string, run: Promise<void>): void {
    this.clientsRunning++;
    run.then(
      () => this.clientsRunning--,
      (err: unknown) => {
        this.clientsRunning--;
        this.trace.record(name, 'client-error', err instanceof Error ? err.message : String(err));
      },
    );
  }

  /** Waits until every store is idle and no query started during a full turn of the event loop. */
  async settle(): Promise<void> {
    for (;;) {
      const before = this.startedQueries();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const busy = this.world.stores.filter((s) => s.busy);
      if (busy.length > 0) {
        await Promise.all(busy.map((s) => s.idle()));
        continue;
      }
      if (this.startedQueries() === before) return;
    }
  }

  private startedQueries(): number {
    let n = 0;
    for (const s of this.world.stores) n += s.startedCount;
    return n;
  }

  /** Crashes each live process with the plan's probability; it restarts after a drawn delay. */
  maybeCrash(): void {
    for (const proc of this.processes) {
      if (!proc.isUp || !this.crashRandom.chance(this.plan.process.crashProbability)) continue;
      proc.crash('injected');
      this.restartLater(proc);
    }
  }

  /** A crash inside a commit (it rolls back): more likely per commit than per step. */
  private crashesInCommit(proc: ProcessControl): boolean {
    const p = this.plan.process.crashProbability * COMMIT_CRASH_FACTOR;
    if (!this.crashesOn || !this.crashRandom.chance(p)) return false;
    this.restartLater(proc);
    return true;
  }

  private restartLater(proc: ProcessControl): void {
    const p = this.plan.process;
    const delayMs = this.crashRandom.intBetween(
      p.restartDelayMinMs,
      Math.max(p.restartDelayMinMs, p.restartDelayMaxMs),
    );
    this.clock.after(delayMs, () => proc.start());
  }

  /** The checks on the processes themselves, after every step. */
  cheapChecks(): InvariantViolation | null {
    if (this.violation !== null) return this.violation;
    for (const node of this.nodes) {
      const head = node.role?.headInfo;
      if (head === null || head === undefined) continue;
      const want = this.blockHashes.get(head.height);
      if (want !== undefined && want !== head.hashHex)
        return {
          invariant: 'nodes_agree',
          detail: `${node.name} holds block ${head.height} as ${head.hashHex}, the processor committed ${want}`,
        };
    }
    return null;
  }

  /** The invariants on every store; `final` adds what holds only once everyone caught up. */
  async sqlChecks(final: boolean): Promise<InvariantViolation | null> {
    const [processorDisk] = this.disks as [Database];
    for (const disk of this.disks) {
      const found = [
        ...(await checkChain(disk)),
        ...(await checkUniqueIds(disk)),
        ...(await checkEnergy(disk)),
      ];
      if (found[0] !== undefined) return found[0];
    }
    const announced = await this.checkAnnouncedStored(processorDisk);
    if (announced !== null) return announced;
    const kept = await checkConfirmedKept(processorDisk, this.confirmed);
    if (kept[0] !== undefined) return kept[0];
    for (const [i, node] of this.nodes.entries()) {
      const disk = this.disks[i + 1] as Database;
      const agree = await checkAgreement(['processor', node.name], processorDisk, disk);
      if (agree[0] !== undefined) return agree[0];
      if (final) {
        const nodeKept = await checkConfirmedKept(disk, this.confirmed);
        if (nodeKept[0] !== undefined)
          return { ...nodeKept[0], detail: `${node.name}: ${nodeKept[0].detail}` };
      }
    }
    return null;
  }

  /** Every block the processor announced as committed is in its store (what nodes may already hold). */
  private async checkAnnouncedStored(disk: Database): Promise<InvariantViolation | null> {
    const { rows } = await disk.query<{ height: string; hash_hex: string }>(
      `SELECT height::text AS height, encode(hash, 'hex') AS hash_hex FROM chain.blocks`,
    );
    const stored = new Map(rows.map((r) => [Number(r.height), r.hash_hex]));
    for (const [height, hashHex] of this.blockHashes) {
      const found = stored.get(height);
      if (found !== hashHex)
        return {
          invariant: 'blocks_kept',
          detail: `the processor announced block ${height} ${hashHex} as committed, its store holds ${found ?? 'no such block'}`,
        };
    }
    return null;
  }

  /** Heals every fault, restarts what is down, lets the clients finish and stop. */
  heal(): void {
    this.working = false;
    this.crashesOn = false;
    this.network.heal(NO_FAULTS.network);
    this.world.storeFaults = NO_FAULTS.store;
    for (const proc of this.processes) {
      proc.heal(NO_FAULTS.store);
      proc.start();
    }
    this.trace.record('sim', 'heal');
  }

  /** Everyone up, clients done, every node at the processor's head. */
  converged(): boolean {
    const head = this.processor.role?.headInfo;
    if (head === undefined || this.clientsRunning > 0 || this.processor.role?.pendingCount !== 0)
      return false;
    return this.nodes.every((n) => n.role?.headInfo?.hashHex === head.hashHex);
  }

  headHashes(): string[] {
    return [
      this.processor.role?.headInfo.hashHex ?? '',
      ...this.nodes.map((n) => n.role?.headInfo?.hashHex ?? ''),
    ];
  }

  describeHeads(): string {
    const at = (p: ProcessControl, head: { height: number } | null | undefined): string =>
      `${p.name}=${head?.height ?? (p.isUp ? 'starting' : 'down')}`;
    return [
      at(this.processor, this.processor.role?.headInfo),
      ...this.nodes.map((n) => at(n, n.role?.headInfo)),
    ].join(' ');
  }

  faultCounts(): SimFaultCounts {
    const net = this.network.stats();
    const sum = (k: 'writesFailed' | 'commitsFailed' | 'commitAnswersLost'): number =>
      this.world.stores.reduce((n, s) => n + s.stats()[k], 0);
    return {
      dropped: net.dropped,
      duplicated: net.duplicated,
      writesFailed: sum('writesFailed'),
      commitsFailed: sum('commitsFailed'),
      commitAnswersLost: sum('commitAnswersLost'),
      crashes: this.processes.reduce((n, p) => n + p.crashes, 0),
    };
  }
}

let migratedImage: Promise<Blob> | null = null;

/** An empty, migrated database, made once per process; every simulated disk starts as a copy. */
function emptyImage(): Promise<Blob> {
  migratedImage ??= (async () => {
    // The first QuickJS instance of a process loads modules (file reads, later turns of the event
    // loop); later ones need only promise jobs. Load them before any run starts.
    await freshQuickJS();
    const db = await openDatabase({ memory: true });
    try {
      await new ChainStore(db).migrate();
      return await databaseImage(db);
    } finally {
      await db.close();
    }
  })();
  return migratedImage;
}

/** Runs one seed to its end or its first violated invariant. */
export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  if (opts.nodes < 1 || opts.households < 1)
    throw new RangeError('a simulation needs at least one node and one household');
  const plan = opts.plan ?? faultPlanFromSeed(opts.seed);
  const disks: Database[] = [];
  try {
    const image = await emptyImage();
    for (let i = 0; i <= opts.nodes; i++) disks.push(await openDatabase({ memory: true, image }));
    const sim = new Simulation(opts, plan, disks);
    sim.trace.record('sim', 'plan', describeFaultPlan(plan));
    const outcome = await drive(sim, opts, plan);
    return {
      seed: opts.seed,
      plan: describeFaultPlan(plan),
      steps: outcome.steps,
      virtualMs: sim.clock.monotonicMs(),
      blocks: sim.processor.role?.headInfo.height ?? 0,
      txsConfirmed: sim.confirmed.length,
      faults: sim.faultCounts(),
      result: outcome.violation === null ? 'ok' : 'failed',
      violation: outcome.violation === null ? null : { ...outcome.violation, step: outcome.steps },
      headHashes: sim.headHashes(),
      traceDigest: sim.trace.digest(),
      trace: sim.trace,
    };
  } finally {
    for (const disk of disks) await disk.close();
  }
}

async function drive(
  sim: Simulation,
  opts: SimOptions,
  plan: FaultPlan,
): Promise<{ steps: number; violation: InvariantViolation | null }> {
  const sqlEvery = opts.sqlEverySteps ?? SQL_EVERY_STEPS;
  sim.processor.start();
  for (const node of sim.nodes) node.start();
  sim.startClients();
  await sim.settle();
  let step = 0;
  const stepOnce = async (): Promise<InvariantViolation | null> => {
    if (!sim.clock.runNext()) return null;
    step++;
    await sim.settle();
    const cheap = sim.cheapChecks();
    if (cheap !== null || step % sqlEvery !== 0) return cheap;
    return sim.sqlChecks(false);
  };
  while (step < opts.steps) {
    if (plan.process.crashProbability > 0) sim.maybeCrash();
    const v = await stepOnce();
    if (v !== null) return { steps: step, violation: v };
  }
  sim.heal();
  const deadlineMs = sim.clock.monotonicMs() + END_PHASE_MS;
  let lastCheckMs = 0;
  let stableFor = 0;
  for (let n = 0; n < END_STEPS_MAX && sim.clock.monotonicMs() < deadlineMs; n++) {
    const v = await stepOnce();
    if (v !== null) return { steps: step, violation: v };
    if (sim.clock.monotonicMs() - lastCheckMs < BLOCK_INTERVAL_MS) continue;
    lastCheckMs = sim.clock.monotonicMs();
    stableFor = sim.converged() ? stableFor + 1 : 0;
    if (stableFor >= 3) return { steps: step, violation: await sim.sqlChecks(true) };
  }
  return {
    steps: step,
    violation: {
      invariant: 'nodes_caught_up',
      detail: `with the faults healed for ${END_PHASE_MS} ms: ${sim.describeHeads()}`,
    },
  };
}
