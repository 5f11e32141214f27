// The processor: admits signed transactions, executes them in arrival order in the open block as
// they arrive, and every block interval seals that block, signs it and commits block, outcomes and
// state changes in one database transaction. Clients hear "accepted"/"rejected" only after that
// commit.

import { EventEmitter } from 'node:events';
import { buildBlock } from '../chain/block-encode.js';
import { genesisBlockFields } from '../chain/genesis.js';
import { assertFollowsHead, blockTimeAfter } from '../chain/header-rules.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import type { Block, BlockTxOutcome, Tx, TxOutcome } from '../chain/types.js';
import type { LedgerService, SubmitResult } from '../api/types.js';
import type { BlockView, ChainInfo, ContractView, TxView } from '../chain/views.js';
import { checkAdmission } from '../contracts/executor.js';
import type { Executor } from '../contracts/executor.js';
import type { BlockExecutionResult, BlockHeaderInput, ExecutionStats } from '../contracts/types.js';
import type { ChainStore } from '../store/chain-store.js';
import type { CommitBlockInput, TxRecord } from '../chain/records.js';
import type { HeadInfo } from '../chain/header-rules.js';
import type { Sql } from '../store/types.js';
import {
  decodeSubmitted,
  duplicateMessage,
  expiredMessage,
  isExpired,
  refusal,
  refusalOfOutcome,
} from './admission.js';
import type { Clock } from './clock.js';
import { DEFAULT_BLOCK_INTERVAL_MS, DEFAULT_BLOCK_TXS_MAX } from './defaults.js';
import { PendingQueue } from './pending-queue.js';
import type { PendingTx } from './pending-queue.js';
import type { VerifyPool } from './verify-pool.js';
import { blockViewOf, contractTypeOf, contractViewOf, pendingTxView, txRecordOf, txViewOfRecord } from '../chain/projections.js';

export interface ProcessorConfig {
  /** How often a block is produced when transactions are waiting. Default 1000. */
  readonly blockIntervalMs: number;
  readonly txsPerBlockMax: number;
  readonly pendingMax: number;
  /** Invalid transactions remembered for status queries (they are never in a block). */
  readonly invalidRememberedMax: number;
}

export const DEFAULT_PROCESSOR_CONFIG: ProcessorConfig = {
  blockIntervalMs: DEFAULT_BLOCK_INTERVAL_MS,
  txsPerBlockMax: DEFAULT_BLOCK_TXS_MAX,
  pendingMax: 200_000,
  invalidRememberedMax: 100_000,
};

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ProcessorDeps {
  readonly store: ChainStore;
  readonly executor: Executor;
  /**
   * Opens a fresh executor over the stored state. Needed when a block whose commit looked failed
   * turns out to be stored and it created or deleted contracts: the old executor dropped those.
   */
  readonly reopenExecutor?: () => Promise<Executor>;
  readonly verifier: VerifyPool;
  readonly key: PrivateKey;
  readonly clock: Clock;
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

interface ChainIdentity {
  readonly chainId: string;
  readonly processorAddress: string;
}

interface PreparedBlock {
  readonly items: readonly PendingTx[];
  readonly invalidRecords: TxRecord[];
  readonly types: Map<string, string>;
  /** Null when every transaction was invalid: then there is no block to commit. */
  readonly commit: CommitBlockInput | null;
  readonly stats: ExecutionStats;
}

/**
 * The block being filled (block loop only): transactions go to the executor as they are admitted,
 * so that by the end of the interval they are executed and sealing the block costs little.
 */
interface OpenBlock {
  readonly header: BlockHeaderInput;
  /** The epoch it was opened in: void when the executor dropped uncommitted blocks since. */
  readonly epoch: number;
  /** Executed on top of the block whose commit was under way when it opened. */
  readonly onTop: boolean;
  /** Every transaction taken into it, in order. */
  readonly items: PendingTx[];
  /** Those sent to the executor, in order. */
  readonly runnable: PendingTx[];
  /** Those that expired before the block's time. */
  readonly invalid: { item: PendingTx; outcome: TxOutcome }[];
  /** The store's answer, per part, to which ids it already holds (see finishBlock). */
  readonly knownLookups: Promise<Set<string>>[];
}

interface CommittingBlock {
  readonly prepared: PreparedBlock & { readonly commit: CommitBlockInput };
  /** Settles when the commit and what follows it are done: true when the block is stored. */
  done: Promise<boolean>;
}

/** Splits transactions taken for a block into those to execute and those expired at its time. */
function screen(items: readonly PendingTx[], processedMs: number): { runnable: PendingTx[]; invalid: { item: PendingTx; outcome: TxOutcome }[] } {
  const runnable: PendingTx[] = [];
  const invalid: { item: PendingTx; outcome: TxOutcome }[] = [];
  for (const item of items) {
    if (isExpired(item.tx, processedMs)) invalid.push({ item, outcome: { status: 'invalid', code: 'tx_expired', message: expiredMessage(item.tx, processedMs) } });
    else runnable.push(item);
  }
  return { runnable, invalid };
}

function isRetry(err: unknown): boolean {
  return err instanceof ChainError && err.code === 'retry';
}

/** How many recent blocks' ids are kept to close the race between the id lookup and a commit. */
const RECENT_BLOCKS_KEPT = 8;

export class Processor implements LedgerService {
  private readonly pending: PendingQueue;
  private readonly events = new EventEmitter();
  /** Taken from the queue for the block being produced (or whose commit is in doubt). */
  private readonly inFlight = new Map<string, PendingTx>();
  private readonly recentBlockIds: Set<string>[] = [];
  private readonly recentInvalid = new Map<string, TxRecord>();
  private commitGeneration = 0;
  private typesByHash = new Map<string, string>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private producing: Promise<void> | null = null;
  private stopped = false;
  private consecutiveFailures = 0;
  /** A block whose commit failed in a way that may still have stored it (connection lost at COMMIT). */
  private uncertain: PreparedBlock | null = null;
  private executor: Executor;
  /** The block whose commit is under way while the next one executes (the block loop's pipeline). */
  private committing: CommittingBlock | null = null;
  /** The block the next one builds on: the one committing, else the head. */
  private tip: HeadInfo;
  /** Bumped whenever the executor drops uncommitted blocks: a block executed across it is void. */
  private epoch = 0;
  /** The block loop runs (start() until stop()): admitted transactions go to the open block. */
  private looping = false;
  /** The block being filled, if any. */
  private open: OpenBlock | null = null;
  /** The loop is sealing and committing a block: the next one opens when it is done. */
  private sealing = false;
  private feedQueued = false;
  /** Submissions waiting to be admitted together (admitQueued). */
  private readonly admissions: {
    readonly candidates: { index: number; tx: Tx }[];
    readonly results: (SubmitResult | null)[];
    readonly createMs: number | undefined;
    readonly resolve: () => void;
    readonly reject: (err: unknown) => void;
  }[] = [];

  private constructor(
    private readonly deps: ProcessorDeps,
    private readonly chain: ChainIdentity,
    private head: HeadInfo,
  ) {
    this.pending = new PendingQueue(deps.config.pendingMax);
    this.executor = deps.executor;
    this.tip = head;
    this.events.setMaxListeners(0);
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
      await Processor.commitGenesis(deps, chainId);
      head = await deps.store.head();
      if (!head) throw new ChainError('chain_mismatch', 'the genesis block was committed but cannot be read back');
    }
    const processor = new Processor(deps, { chainId, processorAddress: deps.key.address }, head);
    for (const c of await deps.store.listContracts()) processor.typesByHash.set(c.hashHex, c.type);
    return processor;
  }

  private static async commitGenesis(deps: ProcessorDeps, chainId: string): Promise<void> {
    const block = buildBlock(genesisBlockFields(deps.key, chainId, deps.clock.nowMs()), deps.key, chainId);
    await deps.store.commitBlock({ block, txRecords: [], invalidRecords: [], stateChanges: [], createdContracts: [], deletedContracts: [] });
    deps.log.info('created a new chain', { chainId, processorAddress: deps.key.address, genesisHash: block.hashHex });
  }

  get chainId(): string {
    return this.chain.chainId;
  }

  get processorAddress(): string {
    return this.chain.processorAddress;
  }

  get headInfo(): HeadInfo {
    return this.head;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The time a block produced now would carry: valid-till is judged against it. */
  chainTimeMs(): number {
    return blockTimeAfter(this.tip, this.deps.clock.nowMs());
  }

  start(): void {
    this.stopped = false;
    this.looping = true;
    this.schedule(this.deps.config.blockIntervalMs);
    this.feedSoon();
  }

  /**
   * Stops producing blocks after the ones in progress (if any) are committed. The transactions of
   * a block still filling go back to the queue.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.looping = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.producing) await this.producing;
    this.dropOpen();
    await this.settleCommitting();
  }

  /** A full block waits (filled, or in the queue): produce it now rather than after the interval. */
  private fullBlockWaits(): boolean {
    const max = this.deps.config.txsPerBlockMax;
    return this.pending.size >= max || (this.open !== null && this.open.items.length >= max);
  }

  /** A full block waiting while the loop sleeps: no reason to wait for the interval. */
  private startEarlyWhenFull(): void {
    if (this.timer === null || this.producing !== null || !this.fullBlockWaits()) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const started = this.deps.clock.nowMs();
      this.producing = this.produceNext()
        .catch((err: unknown) => this.deps.log.error('block production failed', { error: describe(err) }))
        .finally(() => {
          this.producing = null;
          const tookMs = this.deps.clock.nowMs() - started;
          const backoffMs = this.consecutiveFailures > 0 ? Math.min(30_000, 250 * 2 ** Math.min(this.consecutiveFailures, 7)) : 0;
          // A full block waiting means the processor is behind: produce the next one at once.
          const behind = backoffMs === 0 && this.fullBlockWaits();
          this.schedule(behind ? 0 : Math.max(backoffMs, this.deps.config.blockIntervalMs - tookMs));
        });
    }, delayMs);
    this.timer.unref?.();
  }

  // ---- Admission -------------------------------------------------------------------------

  async submit(raw: readonly Uint8Array[], opts: { readonly createMs?: number } = {}): Promise<SubmitResult[]> {
    const results: (SubmitResult | null)[] = raw.map(() => null);
    const candidates: { index: number; tx: Tx }[] = [];
    const seenInBatch = new Set<string>();
    const contracts = this.activeContracts();
    const chainTime = this.chainTimeMs();
    raw.forEach((bytes, index) => {
      const decoded = decodeSubmitted(bytes);
      if (!decoded.ok) {
        results[index] = { ok: false, id: null, error: decoded.error };
        return;
      }
      const tx = decoded.tx;
      if (seenInBatch.has(tx.idHex) || this.isKnownLocally(tx.idHex)) {
        results[index] = refusal(tx.idHex, 'tx_duplicate_id', duplicateMessage(tx.idHex), { id: tx.idHex });
        return;
      }
      seenInBatch.add(tx.idHex);
      const refused = checkAdmission(contracts, tx, this.chain.processorAddress);
      if (refused && refused.status !== 'accepted') {
        results[index] = refusalOfOutcome(tx, refused);
        return;
      }
      if (isExpired(tx, chainTime)) {
        results[index] = refusal(tx.idHex, 'tx_expired', expiredMessage(tx, chainTime), { id: tx.idHex, validTill: tx.validTillMs, chainTimeMs: chainTime });
        return;
      }
      candidates.push({ index, tx });
    });
    if (candidates.length > 0) await this.admitVerified(candidates, results, opts.createMs);
    return results.map((r, i) => r ?? refusal(null, 'internal', `submission ${i} was not decided`));
  }

  /**
   * Queues decoded candidates for signature checks and the duplicate lookup. Submissions that
   * arrive together (one transaction per WebSocket message or HTTP request, say) are admitted
   * together: one signature batch for the workers and one id lookup, in arrival order.
   */
  private admitVerified(candidates: { index: number; tx: Tx }[], results: (SubmitResult | null)[], createMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.admissions.push({ candidates, results, createMs, resolve, reject });
      if (this.admissions.length === 1) setImmediate(() => void this.admitQueued());
    });
  }

  private async admitQueued(): Promise<void> {
    const jobs = this.admissions.splice(0);
    const all = jobs.flatMap((job) => job.candidates.map((c) => ({ job, c })));
    try {
      const seqBase = this.seq;
      this.seq += all.length;
      const verified = await this.deps.verifier.verify(all.map(({ c }) => ({ chainId: this.chain.chainId, txBytes: c.tx.bytes })));
      const generation = this.commitGeneration;
      const known = await this.deps.store.knownTxIds(all.map(({ c }) => c.tx.idHex));
      const recentlyCommitted = this.idsCommittedSince(generation);
      const now = this.deps.clock.nowMs();
      all.forEach(({ job, c }, i) => {
        const { tx } = c;
        const results = job.results;
        if (!verified[i]) {
          results[c.index] = refusal(tx.idHex, 'signature_invalid', `the signature of transaction ${tx.idHex} does not verify for chain id "${this.chain.chainId}" and public key ${Buffer.from(tx.publicKey).toString('hex')}`, { id: tx.idHex, chainId: this.chain.chainId });
        } else if (known.has(tx.idHex) || recentlyCommitted.has(tx.idHex) || this.isKnownLocally(tx.idHex)) {
          results[c.index] = refusal(tx.idHex, 'tx_duplicate_id', duplicateMessage(tx.idHex), { id: tx.idHex });
        } else if (this.pending.freeSlots() === 0) {
          results[c.index] = refusal(tx.idHex, 'queue_full', `the processor holds ${this.pending.size} pending transactions, its limit; try again shortly`, { id: tx.idHex });
        } else {
          this.pending.add({ tx, seq: seqBase + i, createMs: job.createMs ?? now });
          results[c.index] = { ok: true, id: tx.idHex };
        }
      });
      this.feedSoon();
      this.startEarlyWhenFull();
      for (const job of jobs) job.resolve();
    } catch (err) {
      for (const job of jobs) job.reject(err);
    }
  }

  private isKnownLocally(idHex: string): boolean {
    return this.pending.has(idHex) || this.inFlight.has(idHex);
  }

  /** Ids committed after `generation`; if too many blocks passed to know, every recent one. */
  private idsCommittedSince(generation: number): Set<string> {
    const passed = this.commitGeneration - generation;
    const out = new Set<string>();
    if (passed === 0) return out;
    for (const ids of this.recentBlockIds.slice(-Math.min(passed, RECENT_BLOCKS_KEPT))) for (const id of ids) out.add(id);
    return out;
  }

  private activeContracts(): Map<string, import('../chain/contract-model.js').ContractRecord> {
    return new Map(this.executor.contracts().map((c) => [c.hashHex, c]));
  }

  /** Contract type by hash for every contract ever created (deleted ones still name old txs). */
  private contractTypes(): Map<string, string> {
    return this.typesByHash;
  }

  // ---- Block production -------------------------------------------------------------------

  /** Feeds the open block soon: admissions that finish together are fed together. */
  private feedSoon(): void {
    if (!this.looping || this.feedQueued) return;
    this.feedQueued = true;
    setImmediate(() => {
      this.feedQueued = false;
      this.feed();
    });
  }

  /**
   * Moves pending transactions into the open block (opening one on the tip when none is) and hands
   * them to the executor, which runs them while the block fills. Not while a block is being sealed
   * and committed (the executor holds at most the committing block and the next), nor while the
   * fate of a commit is in doubt.
   */
  private feed(): void {
    if (!this.looping || this.sealing || this.uncertain !== null || this.pending.size === 0) return;
    const open = this.open ?? this.openNext();
    const room = this.deps.config.txsPerBlockMax - open.items.length;
    if (room <= 0) return;
    const items = this.pending.take(room);
    for (const item of items) this.inFlight.set(item.tx.idHex, item);
    open.items.push(...items);
    const { runnable, invalid } = screen(items, open.header.processedMs);
    open.invalid.push(...invalid);
    if (runnable.length > 0) {
      open.runnable.push(...runnable);
      const lookup = this.deps.store.knownTxIds(runnable.map((i) => i.tx.idHex));
      lookup.catch(() => undefined);
      open.knownLookups.push(lookup);
      this.executor.appendTxs(runnable.map((i) => i.tx));
    }
    this.startEarlyWhenFull();
  }

  /** The header of the block after the tip, timed now. */
  private nextHeader(): BlockHeaderInput {
    const tip = this.tip;
    return {
      chainId: this.chain.chainId,
      processorAddress: this.chain.processorAddress,
      height: tip.height + 1,
      processedMs: this.chainTimeMs(),
      previousHashHex: tip.hashHex,
      previousProcessedMs: tip.processedMs,
    };
  }

  private openNext(): OpenBlock {
    const header = this.nextHeader();
    const onTop = this.committing !== null;
    this.executor.openBlock(header, { onTopOfUncommitted: onTop });
    const open: OpenBlock = { header, epoch: this.epoch, onTop, items: [], runnable: [], invalid: [], knownLookups: [] };
    this.open = open;
    return open;
  }

  /** Drops the open block (the executor's too); its transactions go back to the queue. */
  private dropOpen(): void {
    const open = this.open;
    if (open === null) return;
    this.open = null;
    if (open.epoch === this.epoch) this.executor.dropLast();
    this.pending.putBack(open.items);
    this.releaseInFlight(open.items);
  }

  /**
   * The block loop's step: seals the open block (after feeding it what is pending), then, once the
   * block below landed, starts committing it and opens the next one on top of it. Commits land in
   * order; a block whose predecessor failed to commit is dropped and its transactions go back to
   * the queue.
   */
  private async produceNext(): Promise<void> {
    if (this.committing === null) await this.resolveUncertainCommit();
    this.feed();
    const open = this.open;
    if (open === null) {
      await this.settleCommitting();
      return;
    }
    this.open = null;
    this.sealing = true;
    try {
      await this.sealAndCommit(open);
    } finally {
      this.sealing = false;
    }
    this.feed();
  }

  private async sealAndCommit(open: OpenBlock): Promise<void> {
    const { items, epoch } = open;
    const giveBack = (): void => {
      this.pending.putBack(items);
      this.releaseInFlight(items);
    };
    let prepared: PreparedBlock;
    try {
      const known = Promise.all(open.knownLookups).then((sets) => new Set(sets.flatMap((ids) => [...ids])));
      known.catch(() => undefined);
      prepared = await this.finishBlock(open.header, items, open.runnable, open.invalid, this.executor.sealBlock(), known, open.onTop);
    } catch (err) {
      giveBack();
      this.consecutiveFailures++;
      await this.settleCommitting();
      throw err;
    }
    if (!prepared.commit) {
      if (this.epoch === epoch) this.executor.dropLast();
      else this.dropUncommitted();
      this.finishInvalid(prepared.invalidRecords);
      this.releaseInFlight(items);
      return;
    }
    const belowStored = await this.settleCommitting();
    if (!belowStored || this.epoch !== epoch) {
      this.dropUncommitted();
      giveBack();
      return;
    }
    this.startCommit({ ...prepared, commit: prepared.commit });
  }

  /** Waits for the block being committed (if any); false when its commit failed. */
  private async settleCommitting(): Promise<boolean> {
    const c = this.committing;
    return c === null ? true : c.done;
  }

  private dropUncommitted(): void {
    this.epoch++;
    this.executor.abort();
    this.tip = this.head;
    // The open block was built on what was just dropped.
    this.dropOpen();
    this.feedSoon();
  }

  private startCommit(prepared: PreparedBlock & { readonly commit: CommitBlockInput }): void {
    const { block } = prepared.commit;
    this.tip = { height: block.height, hashHex: block.hashHex, processedMs: block.processedMs };
    const started = performance.now();
    const entry: CommittingBlock = { prepared, done: Promise.resolve(true) };
    entry.done = this.deps.store.commitBlock(prepared.commit).then(
      () => {
        if (this.committing === entry) this.committing = null;
        this.executor.commit();
        this.consecutiveFailures = 0;
        this.afterCommit(prepared);
        this.logCommitted(prepared, performance.now() - started);
        return true;
      },
      (err: unknown) => {
        if (this.committing === entry) this.committing = null;
        this.dropUncommitted();
        this.consecutiveFailures++;
        if (isRetry(err)) {
          // The connection may have died during COMMIT: the block may or may not be stored. Keep
          // its transactions out of the queue until the stored head tells which.
          this.uncertain = prepared;
        } else {
          this.pending.putBack(prepared.items);
          this.releaseInFlight(prepared.items);
        }
        this.deps.log.error('block commit failed', { height: block.height, error: describe(err) });
        return false;
      },
    );
    this.committing = entry;
  }

  private logCommitted(prepared: PreparedBlock & { readonly commit: CommitBlockInput }, commitMs: number): void {
    this.deps.log.info('block committed', {
      height: prepared.commit.block.height,
      txs: prepared.commit.txRecords.length,
      invalid: prepared.invalidRecords.length,
      executeMs: Math.round(prepared.stats.executeMs),
      storeReads: prepared.stats.storeReads,
      storeReadMs: Math.round(prepared.stats.storeReadMs),
      commitMs: Math.round(commitMs),
      pending: this.pending.size,
    });
  }

  /**
   * Produces and commits one block from the pending transactions and waits for the commit; does
   * nothing when none wait. (The block loop pipelines instead: produceNext.)
   */
  async produceBlock(): Promise<Block | null> {
    await this.settleCommitting();
    await this.resolveUncertainCommit();
    if (this.pending.size === 0) return null;
    const items = this.pending.take(this.deps.config.txsPerBlockMax);
    for (const item of items) this.inFlight.set(item.tx.idHex, item);
    let prepared: PreparedBlock | null = null;
    let commitMs = 0;
    try {
      prepared = await this.prepareBlock(items);
      if (!prepared.commit) {
        this.executor.abort();
        this.finishInvalid(prepared.invalidRecords);
        this.releaseInFlight(items);
        return null;
      }
      const commitStarted = performance.now();
      await this.deps.store.commitBlock(prepared.commit);
      commitMs = performance.now() - commitStarted;
    } catch (err) {
      this.executor.abort();
      this.consecutiveFailures++;
      if (prepared?.commit && isRetry(err)) {
        // The connection may have died during COMMIT: the block may or may not be stored. Keep
        // its transactions out of the queue until the stored head tells which.
        this.uncertain = prepared;
      } else {
        this.pending.putBack(items);
        this.releaseInFlight(items);
      }
      throw err;
    }
    this.executor.commit();
    this.consecutiveFailures = 0;
    const committed = { ...prepared, commit: prepared.commit };
    this.afterCommit(committed);
    this.logCommitted(committed, commitMs);
    return committed.commit.block;
  }

  /** After a failed commit whose outcome is unknown: learn from the stored head whether it landed. */
  private async resolveUncertainCommit(): Promise<void> {
    const uncertain = this.uncertain;
    if (!uncertain?.commit) return;
    const prepared = { ...uncertain, commit: uncertain.commit };
    let head: HeadInfo | null;
    try {
      head = await this.deps.store.head();
    } catch (err) {
      this.consecutiveFailures++;
      throw err;
    }
    this.uncertain = null;
    if (head?.hashHex === prepared.commit.block.hashHex) {
      this.deps.log.info('a block whose commit was interrupted is stored; confirming its transactions', { height: head.height });
      if (prepared.commit.createdContracts.length > 0 || prepared.commit.deletedContracts.length > 0) await this.replaceExecutor();
      this.afterCommit(prepared);
    } else {
      this.pending.putBack(prepared.items);
      this.releaseInFlight(prepared.items);
    }
  }

  private async replaceExecutor(): Promise<void> {
    if (!this.deps.reopenExecutor) {
      throw new ChainError('internal', 'a stored block changed contracts that the executor no longer knows, and no way to reopen it was given; restart the processor');
    }
    const fresh = await this.deps.reopenExecutor();
    const old = this.executor;
    this.executor = fresh;
    await old.close();
  }

  private releaseInFlight(items: readonly PendingTx[]): void {
    for (const item of items) this.inFlight.delete(item.tx.idHex);
  }

  /** Executes `items` as the block after the tip, in one step (produceBlock). */
  private prepareBlock(items: PendingTx[]): Promise<PreparedBlock> {
    const header = this.nextHeader();
    const { runnable, invalid } = screen(items, header.processedMs);
    const known = this.deps.store.knownTxIds(runnable.map((i) => i.tx.idHex));
    known.catch(() => undefined);
    const result = this.executor.executeBlock({ ...header, txs: runnable.map((i) => i.tx) });
    return this.finishBlock(header, items, runnable, invalid, result, known, false);
  }

  /**
   * Builds the block from its execution. Admission already refused ids the chain holds; the
   * store's answer for the executed ones (`knownLookup`, asked alongside the execution, which it
   * does not delay) guards the commit, which a stored id would fail for ever: should one turn up,
   * the block is executed again without it.
   */
  private async finishBlock(
    header: BlockHeaderInput,
    items: readonly PendingTx[],
    executed: readonly PendingTx[],
    invalidSoFar: readonly { item: PendingTx; outcome: TxOutcome }[],
    execution: Promise<BlockExecutionResult>,
    knownLookup: Promise<Set<string>>,
    onTopOfUncommitted: boolean,
  ): Promise<PreparedBlock> {
    const { height, processedMs } = header;
    const invalid = [...invalidSoFar];
    let runnable = executed;
    let result = await execution;
    const known = await knownLookup;
    if (runnable.some((item) => known.has(item.tx.idHex))) {
      this.executor.dropLast();
      for (const item of runnable) if (known.has(item.tx.idHex)) invalid.push({ item, outcome: { status: 'invalid', code: 'tx_duplicate_id', message: duplicateMessage(item.tx.idHex) } });
      runnable = runnable.filter((item) => !known.has(item.tx.idHex));
      result = await this.executor.executeBlock({ ...header, txs: runnable.map((i) => i.tx) }, { onTopOfUncommitted });
    }
    const included: { item: PendingTx; outcome: BlockTxOutcome }[] = [];
    runnable.forEach((item, i) => {
      const outcome = result.outcomes[i];
      if (!outcome) throw new ChainError('internal', `the executor returned no outcome for transaction ${item.tx.idHex}`);
      if (outcome.status === 'invalid') invalid.push({ item, outcome });
      else included.push({ item, outcome });
    });
    const types = this.contractTypesAfter(result.createdContracts);
    const invalidRecords = invalid.map(({ item, outcome }) =>
      txRecordOf(item.tx, outcome, contractTypeOf(item.tx.contractHashHex, types), item.createMs, { blockHeight: null, position: null, processedMs }),
    );
    if (included.length === 0) return { items, invalidRecords, types, commit: null, stats: result.stats };
    // A header that does not follow the block below it is a bug: stop before anything is signed.
    assertFollowsHead(header, { height: height - 1, hashHex: header.previousHashHex, processedMs: header.previousProcessedMs });
    const block = buildBlock(
      {
        height,
        previousHashHex: header.previousHashHex,
        processedMs,
        stateDigestHex: result.stateDigestHex,
        genesis: null,
        txs: included.map((i) => i.item.tx),
        outcomes: included.map((i) => i.outcome),
      },
      this.deps.key,
      this.chain.chainId,
    );
    const txRecords = included.map(({ item, outcome }, position) =>
      txRecordOf(item.tx, outcome, contractTypeOf(item.tx.contractHashHex, types), item.createMs, { blockHeight: height, position, processedMs }),
    );
    return {
      items,
      invalidRecords,
      types,
      commit: { block, txRecords, invalidRecords, stateChanges: result.stateChanges, createdContracts: result.createdContracts, deletedContracts: result.deletedContracts },
      stats: result.stats,
    };
  }

  private contractTypesAfter(created: readonly { hashHex: string; type: string }[]): Map<string, string> {
    if (created.length === 0) return this.typesByHash;
    const types = new Map(this.typesByHash);
    for (const c of created) types.set(c.hashHex, c.type);
    return types;
  }

  private afterCommit(prepared: PreparedBlock & { commit: CommitBlockInput }): void {
    const { block, txRecords, invalidRecords } = prepared.commit;
    this.head = { height: block.height, hashHex: block.hashHex, processedMs: block.processedMs };
    if (this.tip.height < block.height) this.tip = this.head;
    this.typesByHash = prepared.types;
    this.commitGeneration++;
    this.recentBlockIds.push(new Set(txRecords.map((r) => r.idHex)));
    if (this.recentBlockIds.length > RECENT_BLOCKS_KEPT) this.recentBlockIds.shift();
    this.releaseInFlight(prepared.items);
    const view = blockViewOf(block, prepared.types);
    this.events.emit('block', block, view);
    for (const r of txRecords) this.events.emit('tx', txViewOfRecord(r));
    this.finishInvalid([...invalidRecords]);
  }

  private finishInvalid(records: TxRecord[]): void {
    for (const r of records) {
      this.recentInvalid.set(r.idHex, r);
      if (this.recentInvalid.size > this.deps.config.invalidRememberedMax) {
        const oldest = this.recentInvalid.keys().next().value;
        if (oldest !== undefined) this.recentInvalid.delete(oldest);
      }
      this.events.emit('tx', txViewOfRecord(r));
    }
  }

  // ---- Reads (LedgerService) ----------------------------------------------------------------

  async info(): Promise<ChainInfo> {
    return {
      chainId: this.chain.chainId,
      processorAddress: this.chain.processorAddress,
      role: 'processor',
      head: { height: this.head.height, hash: this.head.hashHex, processedMs: this.head.processedMs },
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
      if (pending) found.set(given, pendingTxView(pending.tx, contractTypeOf(pending.tx.contractHashHex, this.contractTypes()), pending.createMs));
      else toRead.push(given);
    }
    const stored = toRead.length === 0 ? new Map<string, TxRecord>() : await this.deps.store.getTransactions(toRead.map((id) => id.toLowerCase()));
    for (const given of toRead) {
      const record = stored.get(given.toLowerCase()) ?? this.recentInvalid.get(given.toLowerCase());
      if (record) found.set(given, txViewOfRecord(record));
    }
    return found;
  }

  onTxFinal(listener: (view: TxView) => void): () => void {
    this.events.on('tx', listener);
    return () => this.events.off('tx', listener);
  }

  onBlock(listener: (block: Block, view: BlockView) => void): () => void {
    this.events.on('block', listener);
    return () => this.events.off('block', listener);
  }

  async listContracts(): Promise<ContractView[]> {
    return this.executor.contracts().map(contractViewOf);
  }

  querySql(): Sql {
    return this.deps.store.db;
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    return this.deps.store.getRawBlocks(fromHeight, limit);
  }

  /** From the stored columns: decoding the raw blocks cost memory and time for every transaction. */
  async getBlocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    return this.deps.store.getBlockRows(fromHeight, limit);
  }
}

function describe(err: unknown): string {
  if (err instanceof ChainError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
