// The simulated processor and mirror nodes: each a name, a database that outlives its crashes
// (its disk), and at most one live incarnation, started the way the composition roots in src/app
// start the real ones (store, in-thread executor and signature checks, scheduler, logger), with
// the simulated network in place of HTTP. Starting takes several steps (the store migrates, the
// processor installs the energy contracts on a new chain); a crash can come at any of them.

import { createHash } from 'node:crypto';
import { createExecutor } from '../contracts/runtime/executor.js';
import type { PrivateKey } from '../core/keys.js';
import type { Scheduler } from '../core/scheduler.js';
import { installEnergyContracts } from '../app/install-energy.js';
import { describeError } from '../ledger/log.js';
import type { Logger } from '../ledger/log.js';
import { SignaturePool } from '../ledger/signature-pool.js';
import { Follower } from '../node/follower.js';
import { MirrorNode } from '../node/mirror.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../processor/processor.js';
import { ChainStore } from '../store/chain-store.js';
import type { Database } from '../store/types.js';
import type { StoreFaults } from './faults.js';
import { IncarnationScheduler, traceLogger } from './incarnation.js';
import type { Random } from './random.js';
import { SimUpstream, serveLedger } from './serve.js';
import { FaultyDatabase } from './store.js';
import type { Trace } from './trace.js';
import { Endpoint } from './wire.js';
import type { SimWire } from './wire.js';

export const BLOCK_INTERVAL_MS = 1_000;
const LYING_SHARE = 0.2;

/** What every simulated process needs of the world around it. */
export interface World {
  readonly clock: Scheduler;
  readonly network: SimWire;
  readonly trace: Trace;
  readonly chainId: string;
  readonly processorKey: PrivateKey;
  storeFaults: StoreFaults;
  /** Starts `process` again after a drawn delay (its supervisor restarting it). */
  readonly restartLater: (process: ProcessControl) => void;
  /** Whether `process` crashes now, as one of its transactions is about to commit. */
  readonly crashesInCommit: (process: ProcessControl) => boolean;
  /** A process whose store lies about commits (FaultyDatabase's lyingShare), to test the checks. */
  readonly lyingStore?: string;
  /** Every FaultyDatabase made, so the step loop can wait until all are idle. */
  readonly stores: FaultyDatabase[];
}

interface Life<R> {
  readonly scheduler: IncarnationScheduler;
  readonly endpoint: Endpoint;
  readonly store: FaultyDatabase;
  /** The role's object once started; null while it starts. */
  role: R | null;
  readonly stops: (() => void)[];
}

/** What the step loop does to any process, whatever its role. */
export interface ProcessControl {
  readonly name: string;
  readonly isUp: boolean;
  readonly crashes: number;
  start(): void;
  crash(why: string): void;
  heal(faults: StoreFaults): void;
}

/** A process with a disk that survives its crashes. R is what a live incarnation runs. */
export abstract class SimProcess<R> implements ProcessControl {
  private life: Life<R> | null = null;
  private lives = 0;
  /** Crashes so far. */
  crashes = 0;
  /** Called when an incarnation's role is running; what it returns stops with the incarnation. */
  onReady: ((role: R) => () => void) | null = null;
  protected readonly log: Logger;

  constructor(
    readonly name: string,
    protected readonly world: World,
    readonly disk: Database,
    private readonly storeRandom: Random,
  ) {
    this.log = traceLogger(world.trace, name);
  }

  get isUp(): boolean {
    return this.life !== null;
  }

  /** The running role (null when down or still starting). */
  get role(): R | null {
    return this.life?.role ?? null;
  }

  /** Starts a new incarnation from the disk; a failed start is a crash. */
  start(): void {
    if (this.life !== null) return;
    const scheduler = new IncarnationScheduler(this.world.clock);
    const incarnation = ++this.lives;
    const store = new FaultyDatabase(
      this.disk,
      this.storeRandom,
      this.world.storeFaults,
      this.world.trace,
      this.name,
      this.world.lyingStore === this.name ? LYING_SHARE : 0,
    );
    this.world.stores.push(store);
    const endpoint = new Endpoint(this.world.network, scheduler, this.name, incarnation);
    const life: Life<R> = { scheduler, endpoint, store, role: null, stops: [] };
    this.life = life;
    store.beforeCommit = () => {
      if (this.life === life && this.world.crashesInCommit(this)) this.crash('during a commit');
    };
    this.world.trace.record(this.name, 'start', `incarnation ${incarnation}`);
    this.boot(life).then(
      (role) => this.ready(life, role),
      (err: unknown) => {
        if (this.life !== life) return;
        this.log.error('start failed', { error: describeError(err) });
        this.crash('start failed');
        this.world.restartLater(this);
      },
    );
  }

  /** Ends the incarnation as a crash would; the disk stays. */
  crash(why: string): void {
    const life = this.life;
    if (life === null) return;
    this.life = null;
    this.crashes++;
    this.world.trace.record(this.name, 'crash', why);
    life.scheduler.kill();
    life.endpoint.close();
    life.store.sever();
    for (const stop of life.stops) stop();
  }

  /** The store faults of the run's end. */
  heal(faults: StoreFaults): void {
    this.life?.store.heal(faults);
  }

  /** The role runs (a processor still installing the energy contracts already serves). */
  protected ready(life: Life<R>, role: R): void {
    if (this.life !== life || life.role !== null) return;
    life.role = role;
    if (this.onReady !== null) life.stops.push(this.onReady(role));
  }

  /** Opens the role on the incarnation's store; throws (a crash) when that fails. */
  protected abstract boot(life: Life<R>): Promise<R>;

  protected async openStore(life: Life<R>): Promise<ChainStore> {
    const store = new ChainStore(life.store);
    await store.migrate();
    return store;
  }
}

export class SimProcessor extends SimProcess<Processor> {
  private idsMade = 0;

  /** Ids of the contract installs: from the chain id and a count, the same in every run of a seed. */
  private newIdHex(): string {
    const n = ++this.idsMade;
    return createHash('sha256')
      .update(`${this.world.chainId} install ${n}`)
      .digest('hex')
      .slice(0, 32);
  }

  protected async boot(life: Life<Processor>): Promise<Processor> {
    const store = await this.openStore(life);
    const openExecutor = (): ReturnType<typeof createExecutor> =>
      createExecutor({ reader: store, inWorker: false });
    const isNewChain = (await store.listContracts()).length === 0;
    const key = this.world.processorKey;
    const processor = await Processor.open(
      {
        store,
        executor: await openExecutor(),
        reopenExecutor: openExecutor,
        verifier: SignaturePool.inThread(),
        key,
        scheduler: life.scheduler,
        config: { ...DEFAULT_PROCESSOR_CONFIG, blockIntervalMs: BLOCK_INTERVAL_MS },
        log: this.log,
      },
      this.world.chainId,
    );
    processor.start();
    life.stops.push(serveLedger(life.endpoint, processor, life.scheduler));
    this.ready(life, processor);
    if (isNewChain) await installEnergyContracts(processor, key, this.log, () => this.newIdHex());
    return processor;
  }
}

export class SimNode extends SimProcess<MirrorNode> {
  constructor(
    name: string,
    world: World,
    disk: Database,
    storeRandom: Random,
    /** The process it follows: the processor, or another node. */
    readonly upstreamName: string,
    private readonly jitterRandom: Random,
  ) {
    super(name, world, disk, storeRandom);
  }

  protected async boot(life: Life<MirrorNode>): Promise<MirrorNode> {
    const store = await this.openStore(life);
    const upstream = new SimUpstream(life.endpoint, this.upstreamName);
    const node = await MirrorNode.open({
      store,
      openExecutor: () => createExecutor({ reader: store, inWorker: false }),
      signatures: SignaturePool.inThread(),
      upstream,
      scheduler: life.scheduler,
      log: this.log,
      processorAddress: this.world.processorKey.address,
    });
    const random = this.jitterRandom;
    const follower = new Follower(node, upstream, this.log, life.scheduler, {
      reconnectMaxMs: 5_000,
      jitter: (delayMs) => Math.round(delayMs * (0.75 + random.nextFloat() * 0.5)),
    });
    life.stops.push(serveLedger(life.endpoint, node, life.scheduler));
    follower.start();
    return node;
  }
}
