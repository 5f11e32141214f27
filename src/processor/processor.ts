// The processor: the producer role on the shared ledger (src/ledger). It admits signed
// transactions (admission.ts), executes them in arrival order in the open block as they arrive, and
// every block interval seals that block, signs it and hands it to the commit pipeline, which
// commits block, outcomes and state changes in one database transaction while the next block
// fills. Clients hear "accepted"/"rejected" only after that commit.

import { blockTimeAfter } from '../chain/header-rules.js';
import type { HeadInfo } from '../chain/header-rules.js';
import { contractTypeOf, pendingTxView, txViewOfRecord } from '../chain/projections.js';
import type { TxRecord } from '../chain/records.js';
import type { Block } from '../chain/types.js';
import type { ChainInfo, TxView } from '../chain/views.js';
import type { BlockHeaderInput } from '../contracts/runtime/types.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import type { Cancel } from '../core/scheduler.js';
import type { CommitResult } from '../ledger/commit-pipeline.js';
import { Ledger, loadContractTypes } from '../ledger/ledger.js';
import type { LedgerDeps } from '../ledger/ledger.js';
import { describeError } from '../ledger/log.js';
import type { LedgerService, SubmitResult } from '../ledger/service.js';
import type { SignaturePool } from '../ledger/signature-pool.js';
import { Admission } from './admission.js';
import { backoffMs, type ProcessorConfig } from './defaults.js';
import { commitGenesis } from './genesis.js';
import { registerProcessorMetrics } from './metrics.js';
import { PendingQueue } from './pending-queue.js';
import { RecentInvalid } from './recent-invalid.js';
import type { PendingTx } from './pending-queue.js';
import { screen, sealOpenBlock } from './seal.js';
import type { OpenBlock, ProducedBlock } from './seal.js';

export { DEFAULT_PROCESSOR_CONFIG, type ProcessorConfig } from './defaults.js';

export interface ProcessorDeps extends LedgerDeps {
  readonly verifier: SignaturePool;
  readonly key: PrivateKey;
  readonly config: ProcessorConfig;
}

/** The block loop: stopped, waiting for the next interval, or running a step. */
type LoopState =
  | { readonly name: 'stopped' }
  | { readonly name: 'waiting'; readonly cancel: Cancel }
  | { readonly name: 'producing'; readonly done: Promise<void> };

/** The block after the one committing: none yet, filling as transactions arrive, or being sealed. */
type OpenSlot =
  | { readonly name: 'none' }
  | { readonly name: 'filling'; readonly block: OpenBlock }
  | { readonly name: 'sealing' };

/** A block handed to the commit pipeline, and whether its commit stored it. */
interface Produced {
  readonly block: ProducedBlock;
  readonly stored: Promise<CommitResult>;
}

export class Processor extends Ledger<ProducedBlock> implements LedgerService {
  private readonly pending: PendingQueue;
  private readonly admission: Admission;
  /** Taken from the queue for a block being produced (or whose commit is in doubt). */
  private readonly inFlight = new Map<string, PendingTx>();
  private readonly recentInvalid: RecentInvalid;
  private loop: LoopState = { name: 'stopped' };
  private looping = false;
  private open: OpenSlot = { name: 'none' };
  private feedQueued: Cancel | null = null;
  private consecutiveFailures = 0;

  private constructor(
    private readonly processorDeps: ProcessorDeps,
    readonly chainId: string,
    head: HeadInfo,
    types: ReadonlyMap<string, string>,
  ) {
    super(processorDeps, head, types);
    this.pending = new PendingQueue(processorDeps.config.pendingMax);
    this.recentInvalid = new RecentInvalid(processorDeps.config.invalidRememberedMax);
    this.admission = new Admission({
      chainId,
      processorAddress: processorDeps.key.address,
      scheduler: processorDeps.scheduler,
      verifier: processorDeps.verifier,
      store: processorDeps.store,
      pending: this.pending,
      isKnownLocally: (idHex) => this.isKnownLocally(idHex),
      contracts: () => this.activeContracts(),
      chainTimeMs: () => this.chainTimeMs(),
      admitted: () => {
        this.feedSoon();
        this.startEarlyWhenFull();
      },
    });
    registerProcessorMetrics(this.ledgerMetrics, this.pending, this.inFlight);
  }

  /** Opens the chain in the store, creating it (genesis) when the store is empty. */
  static async open(deps: ProcessorDeps, newChainId: string): Promise<Processor> {
    const meta = await deps.store.getMeta();
    if (meta && meta.processorAddress !== deps.key.address) {
      throw new ChainError(
        'chain_mismatch',
        `the chain in this database belongs to processor ${meta.processorAddress}, but the key file holds ${deps.key.address}`,
      );
    }
    let head = await deps.store.head();
    const chainId = meta?.chainId ?? newChainId;
    if (!head) {
      await commitGenesis(deps, chainId);
      head = await deps.store.head();
      if (!head)
        throw new ChainError(
          'chain_mismatch',
          'the genesis block was committed but cannot be read back',
        );
    }
    return new Processor(deps, chainId, head, await loadContractTypes(deps.store));
  }

  get processorAddress(): string {
    return this.processorDeps.key.address;
  }

  get headInfo(): HeadInfo {
    const head = this.head();
    if (head === null) throw new ChainError('internal', 'the processor has no head block');
    return head;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private get config(): ProcessorDeps['config'] {
    return this.processorDeps.config;
  }

  /** The time a block produced now would carry: valid-till is judged against it. */
  chainTimeMs(): number {
    return blockTimeAfter(this.pipeline.tip() ?? this.headInfo, this.scheduler.nowMs());
  }

  // ---- The block loop --------------------------------------------------------------------------

  start(): void {
    this.looping = true;
    if (this.loop.name === 'stopped') this.schedule(this.config.blockIntervalMs);
    this.feedSoon();
  }

  /**
   * Stops producing blocks after the ones in progress (if any) are committed. The transactions of
   * a block still filling go back to the queue.
   */
  async stop(): Promise<void> {
    this.looping = false;
    await this.idle();
    this.dropOpen();
    await this.pipeline.settled();
  }

  /**
   * One step of the block loop, now, and its commit: the block, or null when none was produced.
   * Throws when the block's commit fails. (Also how tests drive a stopped processor.)
   */
  async produceNow(): Promise<Block | null> {
    await this.idle();
    const done = this.step();
    this.loop = {
      name: 'producing',
      done: done.then(
        () => undefined,
        () => undefined,
      ),
    };
    let produced: Produced | null;
    try {
      produced = await done;
    } finally {
      this.loop = { name: 'stopped' };
      if (this.looping) this.schedule(this.config.blockIntervalMs);
    }
    if (produced === null) return null;
    const result = await produced.stored;
    if (!result.stored) throw result.error;
    return produced.block.commit.block;
  }

  /** Waits until no step runs and no timer waits (stop() and produceNow()). */
  private async idle(): Promise<void> {
    for (;;) {
      const loop = this.loop;
      if (loop.name === 'waiting') loop.cancel();
      if (loop.name !== 'producing') break;
      await loop.done;
    }
    this.loop = { name: 'stopped' };
  }

  /** A full block waits (filled, or in the queue): produce it now rather than after the interval. */
  private fullBlockWaits(): boolean {
    const max = this.config.txsPerBlockMax;
    return (
      this.pending.size >= max ||
      (this.open.name === 'filling' && this.open.block.items.length >= max)
    );
  }

  private startEarlyWhenFull(): void {
    if (this.loop.name !== 'waiting' || !this.fullBlockWaits()) return;
    this.loop.cancel();
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (!this.looping) {
      this.loop = { name: 'stopped' };
      return;
    }
    const cancel = this.scheduler.after(delayMs, () => {
      const startedMs = this.scheduler.monotonicMs();
      const done = this.step()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.log.error('block production failed', { error: describeError(err) }),
        )
        .finally(() => {
          const tookMs = this.scheduler.monotonicMs() - startedMs;
          const backoff = backoffMs(this.consecutiveFailures);
          // A full block waiting means the processor is behind: produce the next one at once.
          const behind = backoff === 0 && this.fullBlockWaits();
          this.schedule(behind ? 0 : Math.max(backoff, this.config.blockIntervalMs - tookMs));
        });
      this.loop = { name: 'producing', done };
    });
    this.loop = { name: 'waiting', cancel };
  }

  /**
   * The block loop's step: seals the open block (after feeding it what is pending), then, once the
   * block below landed, hands it to the commit pipeline, and the next one opens on top of it.
   * Commits land in order; a block whose predecessor failed to commit is dropped and its
   * transactions go back to the queue.
   */
  private async step(): Promise<Produced | null> {
    if (this.pipeline.stage.name !== 'committing') {
      await this.pipeline.resolveInDoubt().catch((err: unknown) => {
        this.consecutiveFailures++;
        throw err;
      });
      if (this.executorIsStale) await this.readyExecutor();
    }
    this.feed();
    if (this.open.name !== 'filling') {
      await this.pipeline.settled();
      return null;
    }
    const open = this.open.block;
    this.open = { name: 'sealing' };
    try {
      return await this.sealAndCommit(open);
    } finally {
      this.open = { name: 'none' };
      this.feed();
    }
  }

  private async sealAndCommit(open: OpenBlock): Promise<Produced | null> {
    let sealed: Awaited<ReturnType<typeof sealOpenBlock>>;
    try {
      sealed = await sealOpenBlock(
        {
          executor: this.executor,
          key: this.processorDeps.key,
          chainId: this.chainId,
          types: this.pipeline.tipTypes(),
        },
        open,
      );
    } catch (err) {
      this.giveBack(open.items);
      this.consecutiveFailures++;
      await this.pipeline.settled();
      throw err;
    }
    if (sealed.kind === 'no_block') {
      if (this.pipeline.epoch === open.epoch) this.executor.dropLast();
      else this.dropExecuted();
      this.publishFinal(sealed.invalidRecords);
      this.release(sealed.items);
      return null;
    }
    const below = await this.pipeline.settled();
    if (!below.stored || this.pipeline.epoch !== open.epoch) {
      this.dropExecuted();
      this.giveBack(open.items);
      return null;
    }
    return { block: sealed.block, stored: this.pipeline.seal(sealed.block) };
  }

  /** The executor drops the uncommitted blocks; the open block was built on them. */
  private dropExecuted(): void {
    this.pipeline.dropExecuted();
    this.dropOpen();
    this.feedSoon();
  }

  /** Feeds the open block soon: admissions that finish together are fed together. */
  private feedSoon(): void {
    if (!this.looping || this.feedQueued !== null) return;
    this.feedQueued = this.scheduler.defer(() => {
      this.feedQueued = null;
      this.feed();
    });
  }

  /**
   * Moves pending transactions into the open block (opening one on the tip when none is) and hands
   * them to the executor, which runs them while the block fills. Not while a block is being sealed
   * (the executor holds at most the committing block and the next), nor while the fate of a commit
   * is in doubt.
   */
  private feed(): void {
    if (
      this.open.name === 'sealing' ||
      this.pipeline.stage.name === 'in_doubt' ||
      this.pending.size === 0
    )
      return;
    const open = this.open.name === 'filling' ? this.open.block : this.openNext();
    const room = this.config.txsPerBlockMax - open.items.length;
    if (room <= 0) return;
    const items = this.pending.take(room);
    for (const item of items) this.inFlight.set(item.tx.idHex, item);
    open.items.push(...items);
    const { runnable, invalid } = screen(items, open.header.processedMs);
    open.invalid.push(...invalid);
    if (runnable.length > 0) {
      open.runnable.push(...runnable);
      const lookup = this.store.knownTxIds(runnable.map((i) => i.tx.idHex));
      lookup.catch(() => undefined);
      open.knownLookups.push(lookup);
      this.executor.appendTxs(runnable.map((i) => i.tx));
    }
    this.startEarlyWhenFull();
  }

  /** Opens the block after the tip, timed now, in the executor. */
  private openNext(): OpenBlock {
    const tip = this.pipeline.tip() ?? this.headInfo;
    const header: BlockHeaderInput = {
      chainId: this.chainId,
      processorAddress: this.processorAddress,
      height: tip.height + 1,
      processedMs: this.chainTimeMs(),
      previousHashHex: tip.hashHex,
      previousProcessedMs: tip.processedMs,
    };
    const onTop = this.pipeline.stage.name === 'committing';
    this.executor.openBlock(header, { onTopOfUncommitted: onTop });
    const open: OpenBlock = {
      header,
      epoch: this.pipeline.epoch,
      onTop,
      items: [],
      runnable: [],
      invalid: [],
      knownLookups: [],
    };
    this.open = { name: 'filling', block: open };
    return open;
  }

  /** Drops the open block (the executor's too); its transactions go back to the queue. */
  private dropOpen(): void {
    if (this.open.name !== 'filling') return;
    const open = this.open.block;
    this.open = { name: 'none' };
    if (open.epoch === this.pipeline.epoch) this.executor.dropLast();
    this.giveBack(open.items);
  }

  private giveBack(items: readonly PendingTx[]): void {
    this.pending.putBack(items);
    this.release(items);
  }

  private release(items: readonly PendingTx[]): void {
    for (const item of items) this.inFlight.delete(item.tx.idHex);
  }

  // ---- What the commit pipeline tells the producer --------------------------------------------

  protected onCommitted(block: ProducedBlock, commitMs: number | null): void {
    const { commit } = block;
    if (commitMs === null)
      this.log.info('a block whose commit was interrupted is stored; confirming its transactions', {
        height: commit.block.height,
      });
    else this.consecutiveFailures = 0;
    this.admission.noteCommitted(commit.txRecords.map((r) => r.idHex));
    this.release(block.items);
    if (commitMs !== null) {
      this.log.info('block committed', {
        height: commit.block.height,
        txs: commit.txRecords.length,
        invalid: commit.invalidRecords.length,
        executeMs: Math.round(block.stats.executeMs),
        storeReads: block.stats.storeReads,
        storeReadMs: Math.round(block.stats.storeReadMs),
        commitMs: Math.round(commitMs),
        pending: this.pending.size,
      });
    }
  }

  /**
   * The block above the failed one is void (the pipeline dropped it from the executor). When the
   * commit may still have landed, its transactions stay out of the queue until the stored head
   * tells which (the next step asks).
   */
  commitFailed(block: ProducedBlock, error: unknown, inDoubt: boolean): void {
    this.dropOpen();
    this.feedSoon();
    this.consecutiveFailures++;
    if (!inDoubt) this.giveBack(block.items);
    this.log.error('block commit failed', {
      height: block.commit.block.height,
      error: describeError(error),
    });
  }

  notStored(block: ProducedBlock): void {
    this.giveBack(block.items);
  }

  protected override publishFinal(records: readonly TxRecord[]): void {
    this.recentInvalid.remember(records);
    super.publishFinal(records);
  }

  // ---- Admission and reads (the API's LedgerService) ------------------------------------------

  submit(
    raw: readonly Uint8Array[],
    opts: { readonly createMs?: number } = {},
  ): Promise<SubmitResult[]> {
    return this.admission.submit(raw, opts);
  }

  private isKnownLocally(idHex: string): boolean {
    return this.pending.has(idHex) || this.inFlight.has(idHex);
  }

  async info(): Promise<ChainInfo> {
    const head = this.headInfo;
    return {
      chainId: this.chainId,
      processorAddress: this.processorAddress,
      role: 'processor',
      head: { height: head.height, hash: head.hashHex, processedMs: head.processedMs },
      chainTimeMs: this.chainTimeMs(),
    };
  }

  async getTransaction(idHex: string): Promise<TxView | null> {
    return (await this.getTransactions([idHex])).get(idHex) ?? null;
  }

  async getTransactions(ids: readonly string[]): Promise<Map<string, TxView>> {
    const found = new Map<string, TxView>();
    const toRead: string[] = [];
    for (const given of ids) {
      const id = given.toLowerCase();
      const pending = this.pending.get(id) ?? this.inFlight.get(id);
      if (pending)
        found.set(
          given,
          pendingTxView(
            pending.tx,
            contractTypeOf(pending.tx.contractHashHex, this.headTypes()),
            pending.createMs,
          ),
        );
      else toRead.push(given);
    }
    const stored =
      toRead.length === 0
        ? new Map<string, TxRecord>()
        : await this.store.getTransactions(toRead.map((id) => id.toLowerCase()));
    for (const given of toRead) {
      const record = stored.get(given.toLowerCase()) ?? this.recentInvalid.get(given.toLowerCase());
      if (record) found.set(given, txViewOfRecord(record));
    }
    return found;
  }
}
