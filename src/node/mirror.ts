// The mirror node's chain: it verifies blocks it did not produce (checks.ts), re-executes them
// with the same executor the processor uses, commits block, outcomes and state changes exactly as
// the processor does (one database transaction per block), and serves the read API over what it
// verified. On the first failed check it records an alarm and applies nothing more.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { LedgerService, SubmitResult } from '../api/types.js';
import type { BlockView, ChainAlarm, ChainInfo, ContractView, TxView } from '../chain/views.js';
import { blockViewOf, contractTypeOf, contractViewOf, txRecordOf, txViewOfRecord } from '../chain/projections.js';
import type { Executor } from '../contracts/executor.js';
import type { BlockExecutionInput, BlockExecutionResult } from '../contracts/types.js';
import { decodeBlock } from '../chain/block-decode.js';
import { equalBytes } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import type { Block } from '../chain/types.js';
import type { ChainStore } from '../store/chain-store.js';
import type { CommitBlockInput } from '../chain/records.js';
import type { HeadInfo } from '../chain/header-rules.js';
import type { Sql } from '../store/types.js';
import { AlarmError, alarmError, chainAlarmOf } from './alarm.js';
import type { AlarmFields } from './alarm.js';
import { checkGenesis, checkHeader, checkTransactions, compareExecution, decodeOrAlarm } from './checks.js';
import type { ChainKeys } from '../chain/genesis.js';
import type { NodeLogger } from './log.js';
import { renderMetrics } from './metrics.js';
import type { SignaturePool } from './signature-pool.js';
import type { Upstream } from './upstream.js';

export interface NodeClock {
  nowMs(): number;
}


export interface MirrorDeps {
  readonly store: ChainStore;
  /**
   * Opens an executor over the stored state (fresh: also after a failure that may have left one
   * stale). Blocks are re-executed in its worker thread while this thread commits the one before.
   */
  readonly openExecutor: () => Promise<Executor>;
  readonly signatures: SignaturePool;
  readonly upstream: Upstream;
  readonly clock: NodeClock;
  readonly log: NodeLogger;
  /** The processor address block 0 must name; null: whatever block 0 names is pinned. */
  readonly processorAddress: string | null;
}

/** Raw blocks as fetched: `raws[i]` should be the block at `fromHeight + i`. */
export interface RawBatch {
  readonly fromHeight: number;
  readonly raws: readonly Uint8Array[];
}

interface PreparedItem {
  readonly raw: Uint8Array;
  /** Null when the bytes do not decode; then `failure` says why. */
  readonly block: Block | null;
  readonly failure: AlarmError | null;
  readonly signatureOk: readonly boolean[];
}

/** A batch decoded and with its transaction signatures checked: all that can run ahead of apply. */
export interface PreparedBatch {
  readonly fromHeight: number;
  readonly items: readonly PreparedItem[];
}

interface Committing {
  readonly input: CommitBlockInput;
  readonly types: Map<string, string>;
}

/**
 * A verified block whose commit is under way while the next block executes on top of it (the
 * same pipeline as the processor's block loop).
 */
interface InFlight {
  readonly committing: Committing;
  readonly raw: Uint8Array;
  readonly executor: Executor;
  /** The commit's failure, or null once it landed. */
  readonly stored: Promise<unknown>;
  /** finishCommit's work, once started (it must run once). */
  finishing: Promise<void> | null;
}

/** Recent blocks remembered by height, to compare a block the upstream sends again without a read. */
const RECENT_BLOCKS_KEPT = 1024;

export class MirrorNode implements LedgerService {
  private readonly events = new EventEmitter();
  private keys: ChainKeys | null;
  private head: HeadInfo | null;
  private typesByHash: Map<string, string>;
  private executor: Executor;
  private alarmed: ChainAlarm | null = null;
  private alarmFields: AlarmFields | null = null;
  /** A block whose commit failed in a way that may still have stored it. */
  private uncertain: Committing | null = null;
  private executorSuspect = false;
  private everConnected = false;
  private readonly recent = new Map<number, string>();
  private readonly stats = { blocksVerified: 0, transactionsVerified: 0, upstreamHeight: -1, upstreamConnected: false, reconnects: 0 };

  private constructor(
    private readonly deps: MirrorDeps,
    keys: ChainKeys | null,
    head: HeadInfo | null,
    types: Map<string, string>,
    executor: Executor,
  ) {
    this.keys = keys;
    this.head = head;
    this.typesByHash = types;
    this.executor = executor;
    this.events.setMaxListeners(0);
  }

  /** Opens the node's chain as stored; refuses a database that holds another processor's chain. */
  static async open(deps: MirrorDeps): Promise<MirrorNode> {
    const meta = await deps.store.getMeta();
    const head = await deps.store.head();
    if (meta !== null && deps.processorAddress !== null && meta.processorAddress !== deps.processorAddress) {
      throw new ChainError('chain_mismatch', `this node's database holds the chain of processor ${meta.processorAddress}, but it is configured to follow processor ${deps.processorAddress}`, {
        stored: meta.processorAddress,
        configured: deps.processorAddress,
      });
    }
    if ((meta === null) !== (head === null)) {
      throw new ChainError('chain_mismatch', 'the database holds blocks without chain information (or the reverse); it was not written by a HanzeNet node or processor');
    }
    const keys = meta === null ? null : { chainId: meta.chainId, processorAddress: meta.processorAddress, processorPublicKey: Buffer.from(meta.processorPublicKeyHex, 'hex') };
    const types = new Map((await deps.store.listContracts()).map((c) => [c.hashHex, c.type]));
    const executor = await deps.openExecutor();
    return new MirrorNode(deps, keys, head, types, executor);
  }

  get chainKeys(): ChainKeys | null {
    return this.keys;
  }

  get headInfo(): HeadInfo | null {
    return this.head;
  }

  get alarm(): ChainAlarm | null {
    return this.alarmed;
  }

  get upstreamUrl(): string {
    return this.deps.upstream.url;
  }

  /** Records an alarm (the first one counts), logs it and tells the listeners. */
  raise(fields: AlarmFields): ChainAlarm {
    if (this.alarmed !== null) return this.alarmed;
    const alarm = chainAlarmOf(fields, this.deps.upstream.url, this.deps.clock.nowMs());
    this.alarmed = alarm;
    this.alarmFields = fields;
    this.deps.log.alarm(alarm);
    this.events.emit('alarm', alarm);
    return alarm;
  }

  onAlarm(listener: (alarm: ChainAlarm) => void): () => void {
    this.events.on('alarm', listener);
    return () => this.events.off('alarm', listener);
  }

  noteUpstreamHeight(height: number): void {
    if (height > this.stats.upstreamHeight) this.stats.upstreamHeight = height;
  }

  noteUpstreamConnected(connected: boolean): void {
    if (connected && this.everConnected) this.stats.reconnects++;
    if (connected) this.everConnected = true;
    this.stats.upstreamConnected = connected;
  }

  // ---- Applying blocks ----------------------------------------------------------------------

  /** Verifies and stores block 0, which pins the chain id and the processor key. */
  async applyGenesis(raw: Uint8Array): Promise<void> {
    if (this.head !== null) throw new ChainError('internal', 'the node already holds a genesis block');
    let checked: ReturnType<typeof checkGenesis>;
    try {
      checked = checkGenesis(raw, this.deps.processorAddress);
    } catch (err) {
      if (err instanceof AlarmError) this.raise(err.fields);
      throw err;
    }
    const input: CommitBlockInput = { block: checked.block, txRecords: [], invalidRecords: [], stateChanges: [], createdContracts: [], deletedContracts: [] };
    try {
      await this.deps.store.commitBlock(input);
    } catch (err) {
      // A commit whose connection died may still have landed.
      const stored = await this.deps.store.head().catch(() => null);
      if (stored?.hashHex !== checked.block.hashHex) throw err;
    }
    this.keys = checked.keys;
    this.afterCommit({ input, types: this.typesByHash }, raw);
  }

  /** Decodes a batch and checks its transactions' signatures: independent of the node's head. */
  async prepare(batch: RawBatch): Promise<PreparedBatch> {
    const keys = this.requireKeys();
    const items = batch.raws.map((raw, i) => {
      try {
        return { raw, block: decodeOrAlarm(raw, keys.chainId, batch.fromHeight + i), failure: null };
      } catch (err) {
        if (err instanceof AlarmError) return { raw, block: null, failure: err };
        throw err;
      }
    });
    const txBytes: Uint8Array[] = [];
    for (const item of items) for (const tx of item.block?.txs ?? []) txBytes.push(tx.bytes);
    const verified = txBytes.length === 0 ? [] : await this.deps.signatures.verify(keys.chainId, txBytes);
    let at = 0;
    return {
      fromHeight: batch.fromHeight,
      items: items.map((item) => {
        const count = item.block?.txs.length ?? 0;
        const signatureOk = verified.slice(at, at + count);
        at += count;
        return { ...item, signatureOk };
      }),
    };
  }

  /**
   * Applies a prepared batch in order. Blocks at heights the node already holds must be byte for
   * byte the stored ones. Throws AlarmError (after recording the alarm) when a check fails, and
   * any other error for a failure worth retrying (call recover() first). Stops early on `signal`.
   */
  async apply(batch: PreparedBatch, signal?: AbortSignal): Promise<number> {
    if (this.alarmFields !== null) throw new AlarmError(this.alarmFields);
    const verifiedBefore = this.stats.blocksVerified;
    let inFlight: InFlight | null = null;
    try {
      const head = this.requireHead();
      const ids = batch.items.flatMap((item, i) => (batch.fromHeight + i > head.height ? (item.block?.txs ?? []).map((tx) => tx.idHex) : []));
      const known = ids.length === 0 ? new Set<string>() : await this.deps.store.knownTxIds(ids);
      const seen = new Set<string>();
      for (const [i, item] of batch.items.entries()) {
        if (signal?.aborted === true) break;
        const height = batch.fromHeight + i;
        if (inFlight === null && height <= this.requireHead().height) {
          await this.compareWithStored(height, item.raw);
          continue;
        }
        // A fresh executor reads the stored state: the block below must be stored first.
        if (inFlight !== null && this.executorSuspect) {
          const below: InFlight = inFlight;
          inFlight = null;
          await this.finishCommit(below);
        }
        const next = await this.executeOne(item, known, seen, inFlight);
        if (inFlight !== null) {
          const below: InFlight = inFlight;
          inFlight = null;
          await this.finishCommit(below);
        }
        inFlight = this.startCommit(next.committing, item.raw, next.executor);
      }
      if (inFlight !== null) {
        const last: InFlight = inFlight;
        inFlight = null;
        await this.finishCommit(last);
      }
    } catch (err) {
      // A block verified before the failure is still stored (when its commit works).
      if (inFlight !== null) await this.finishCommit(inFlight).catch(() => undefined);
      if (err instanceof AlarmError) this.raise(err.fields);
      throw err;
    }
    return this.stats.blocksVerified - verifiedBefore;
  }

  private startCommit(committing: Committing, raw: Uint8Array, executor: Executor): InFlight {
    const stored = this.deps.store.commitBlock(committing.input).then(
      () => null,
      (err: unknown) => err,
    );
    return { committing, raw, executor, stored, finishing: null };
  }

  /** Waits for the block's commit: confirms it to the executor and listeners, or fails. Runs once. */
  private finishCommit(f: InFlight): Promise<void> {
    f.finishing ??= f.stored.then((err) => {
      if (err !== null) {
        // Drops the block and any block executed on top of it.
        f.executor.abort();
        // The connection may have died during COMMIT: recover() reads the head to learn which.
        this.uncertain = f.committing;
        throw err;
      }
      f.executor.commit();
      this.afterCommit(f.committing, f.raw);
    });
    return f.finishing;
  }

  /** A block the upstream sends for a height the node holds: it must be the very same block. */
  async checkRepeat(height: number, raw: Uint8Array): Promise<void> {
    try {
      await this.compareWithStored(height, raw);
    } catch (err) {
      if (err instanceof AlarmError) this.raise(err.fields);
      throw err;
    }
  }

  private async compareWithStored(height: number, raw: Uint8Array): Promise<void> {
    const remembered = this.recent.get(height);
    if (remembered !== undefined && remembered === sha256Hex(raw)) return;
    const keys = this.requireKeys();
    const [stored] = await this.deps.store.getRawBlocks(height, 1);
    if (stored === undefined) throw new ChainError('internal', `block ${height} is below the head but not stored`);
    if (equalBytes(stored, raw)) return;
    const mine = decodeBlock(stored, keys.chainId).hashHex;
    let got: string;
    try {
      got = decodeBlock(raw, keys.chainId).hashHex;
    } catch (err) {
      got = `undecodable bytes (${err instanceof Error ? err.message : String(err)})`;
    }
    const what = got === mine ? 'the same block with other bytes (another signature)' : `block ${got}`;
    throw alarmError('history_mismatch', { height, blockHash: mine }, 'block', mine, got,
      `the upstream ${this.deps.upstream.url} serves a different block ${height} than the one this node verified (${mine}): ${what}; the history was rewritten`);
  }

  /**
   * Checks and re-executes one block, on top of `below` (verified, its commit under way) when
   * given; returns what to commit. The block is not committed here.
   */
  private async executeOne(item: PreparedItem, known: ReadonlySet<string>, seen: Set<string>, below: InFlight | null): Promise<{ committing: Committing; executor: Executor }> {
    if (item.failure !== null) throw item.failure;
    const block = item.block;
    if (block === null) throw new ChainError('internal', 'a prepared block without bytes or failure');
    const keys = this.requireKeys();
    const belowBlock = below?.committing.input.block;
    const tip: HeadInfo = belowBlock === undefined ? this.requireHead() : { height: belowBlock.height, hashHex: belowBlock.hashHex, processedMs: belowBlock.processedMs };
    checkHeader(block, tip, keys);
    checkTransactions(block, item.signatureOk, known, seen, keys.chainId);
    const input: BlockExecutionInput = {
      chainId: keys.chainId,
      processorAddress: keys.processorAddress,
      height: block.height,
      processedMs: block.processedMs,
      previousHashHex: tip.hashHex,
      previousProcessedMs: tip.processedMs,
      txs: block.txs,
    };
    const { executor, result } = await this.execute(input, below);
    try {
      compareExecution(block, result);
      const types = this.typesAfter(result.createdContracts, below?.committing.types ?? this.typesByHash);
      const txRecords = block.txs.map((tx, position) => {
        const outcome = block.outcomes[position];
        if (outcome === undefined) throw new ChainError('internal', `block ${block.height} has no outcome for position ${position}`);
        // The submission time is not in the block; the block's time stands in for it.
        return txRecordOf(tx, outcome, contractTypeOf(tx.contractHashHex, types), block.processedMs, { blockHeight: block.height, position, processedMs: block.processedMs });
      });
      return {
        executor,
        committing: {
          types,
          input: { block, txRecords, invalidRecords: [], stateChanges: result.stateChanges, createdContracts: result.createdContracts, deletedContracts: result.deletedContracts },
        },
      };
    } catch (err) {
      // Only this block: the one below stays executed, and is stored by the caller.
      executor.dropLast();
      throw err;
    }
  }

  /** Runs the block, on top of `below` when given. */
  private async execute(input: BlockExecutionInput, below: InFlight | null): Promise<{ executor: Executor; result: BlockExecutionResult }> {
    const executor = await this.useExecutor();
    try {
      return { executor, result: await executor.executeBlock(input, { onTopOfUncommitted: below !== null }) };
    } catch (err) {
      if (!isRetry(err)) this.executorSuspect = true;
      throw err;
    }
  }

  /** The executor, opened fresh after a failure that may have left it stale (a fresh one reads the stored state). */
  private async useExecutor(): Promise<Executor> {
    if (!this.executorSuspect) return this.executor;
    const fresh = await this.deps.openExecutor();
    const old = this.executor;
    this.executor = fresh;
    this.executorSuspect = false;
    await old.close().catch(() => undefined);
    return fresh;
  }


  /**
   * After a failed apply: learns from the stored head whether an interrupted commit landed, and
   * reopens the executor when its state may be stale. Then the follower fetches from the head again.
   */
  async recover(): Promise<void> {
    const stored = await this.deps.store.head();
    const uncertain = this.uncertain;
    this.uncertain = null;
    if (uncertain !== null && stored?.hashHex === uncertain.input.block.hashHex && this.head?.hashHex !== stored.hashHex) {
      this.deps.log.info('a block whose commit was interrupted is stored', { height: stored.height });
      if (uncertain.input.createdContracts.length > 0 || uncertain.input.deletedContracts.length > 0) this.executorSuspect = true;
      this.afterCommit(uncertain, uncertain.input.block.bytes);
    } else if (stored !== null && stored.hashHex !== this.head?.hashHex) {
      this.deps.log.warn('the stored head differs from the one this node applied; continuing from the stored one', { stored, applied: this.head });
      this.head = stored;
      this.typesByHash = new Map((await this.deps.store.listContracts()).map((c) => [c.hashHex, c.type]));
      this.executorSuspect = true;
    }
    if (this.executorSuspect) await this.useExecutor();
  }

  private typesAfter(created: readonly { hashHex: string; type: string }[], before: Map<string, string>): Map<string, string> {
    if (created.length === 0) return before;
    const types = new Map(before);
    for (const c of created) types.set(c.hashHex, c.type);
    return types;
  }

  private afterCommit(done: Committing, raw: Uint8Array): void {
    const { block, txRecords } = done.input;
    this.head = { height: block.height, hashHex: block.hashHex, processedMs: block.processedMs };
    this.typesByHash = done.types;
    this.recent.set(block.height, sha256Hex(raw));
    this.recent.delete(block.height - RECENT_BLOCKS_KEPT);
    this.stats.blocksVerified++;
    this.stats.transactionsVerified += block.txs.length;
    this.noteUpstreamHeight(block.height);
    this.events.emit('block', block, blockViewOf(block, done.types));
    for (const r of txRecords) this.events.emit('tx', txViewOfRecord(r));
  }

  private requireKeys(): ChainKeys {
    if (this.keys === null) throw new ChainError('retry', 'this node has not verified the genesis block yet');
    return this.keys;
  }

  private requireHead(): HeadInfo {
    if (this.head === null) throw new ChainError('retry', 'this node has not verified the genesis block yet');
    return this.head;
  }

  // ---- Reads (LedgerService) ----------------------------------------------------------------

  async info(): Promise<ChainInfo> {
    const keys = this.requireKeys();
    const head = this.head;
    return {
      chainId: keys.chainId,
      processorAddress: keys.processorAddress,
      role: 'node',
      head: head === null ? null : { height: head.height, hash: head.hashHex, processedMs: head.processedMs },
      chainTimeMs: head === null ? null : head.processedMs,
      alarm: this.alarmed,
    };
  }

  /** Forwards to the upstream (and so on to the processor); the outcome arrives with a block. */
  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    return this.deps.upstream.submit(txs);
  }

  /**
   * A transaction in a verified block; else what the upstream says, but a block's outcome only
   * counts once this node verified that block, so until then it is reported as `new`.
   */
  async getTransaction(idHex: string): Promise<TxView | null> {
    const id = idHex.toLowerCase();
    const stored = await this.deps.store.getTransaction(id);
    if (stored !== null) return txViewOfRecord(stored);
    const theirs = await this.deps.upstream.transaction(id);
    if (theirs === null || theirs.id.toLowerCase() !== id) return null;
    if (theirs.status !== 'accepted' && theirs.status !== 'rejected') return theirs;
    return { ...theirs, status: 'new', code: null, message: null, sender: null, blockId: null, positionInBlock: null, processedTs: null };
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
    this.requireKeys();
    return this.deps.store.getBlockRows(fromHeight, limit);
  }

  async metrics(): Promise<string> {
    return renderMetrics({
      headHeight: this.head?.height ?? -1,
      headProcessedMs: this.head?.processedMs ?? 0,
      blocksVerified: this.stats.blocksVerified,
      transactionsVerified: this.stats.transactionsVerified,
      upstreamHeight: this.stats.upstreamHeight,
      upstreamConnected: this.stats.upstreamConnected,
      reconnects: this.stats.reconnects,
      alarm: this.alarmed !== null,
      alarmHeight: this.alarmed?.height ?? -1,
      nowMs: this.deps.clock.nowMs(),
    });
  }

  async close(): Promise<void> {
    await this.executor.close();
  }
}

function isRetry(err: unknown): boolean {
  return err instanceof ChainError && err.code === 'retry';
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
