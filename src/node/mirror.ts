// The mirror node: the follower role on the shared ledger (src/ledger). It verifies blocks it did
// not produce (checks.ts), re-executes them with the same executor the processor uses, and hands
// each to the same commit pipeline the processor uses (one database transaction per block, the
// next block executing while the one below commits). It serves the read API over what it
// verified. On the first failed check it records an alarm and applies nothing more.

import { createHash } from 'node:crypto';
import { decodeBlock } from '../chain/block-decode.js';
import type { ChainKeys } from '../chain/genesis.js';
import type { HeadInfo } from '../chain/header-rules.js';
import { contractTypeOf, txRecordOf, txViewOfRecord } from '../chain/projections.js';
import type { CommitBlockInput } from '../chain/records.js';
import type { BlockView, ChainAlarm, ChainInfo, TxView } from '../chain/views.js';
import type { Executor } from '../contracts/runtime/executor.js';
import type { BlockExecutionInput, BlockExecutionResult } from '../contracts/runtime/types.js';
import { equalBytes } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { commitUnexecuted, isRetry } from '../ledger/commit-pipeline.js';
import type { CommitResult, SealedBlock } from '../ledger/commit-pipeline.js';
import { Ledger, loadContractTypes, typesAfter } from '../ledger/ledger.js';
import type { LedgerDeps } from '../ledger/ledger.js';
import type { LedgerService, SubmitResult } from '../ledger/service.js';
import type { SignaturePool } from '../ledger/signature-pool.js';
import { AlarmError, alarmError, chainAlarmOf } from './alarm.js';
import type { AlarmFields } from './alarm.js';
import { checkGenesis, checkHeader, checkTransactions, compareExecution } from './checks.js';
import { registerNodeMetrics } from './metrics.js';
import { prepareBatch } from './prepare.js';
import type { PreparedBatch, PreparedItem, RawBatch } from './prepare.js';
import type { Upstream } from './upstream.js';

export type { PreparedBatch, RawBatch } from './prepare.js';

export interface MirrorDeps extends Omit<LedgerDeps, 'executor' | 'reopenExecutor'> {
  /**
   * Opens an executor over the stored state (fresh: also after a failure that may have left one
   * stale). Blocks are re-executed in its worker thread while this thread commits the one before.
   */
  readonly openExecutor: () => Promise<Executor>;
  readonly signatures: SignaturePool;
  readonly upstream: Upstream;
  /** The processor address block 0 must name; null: whatever block 0 names is pinned. */
  readonly processorAddress: string | null;
}

/** Recent blocks remembered by height, to compare a block the upstream sends again without a read. */
const RECENT_BLOCKS_KEPT = 1024;

export class MirrorNode extends Ledger<SealedBlock> implements LedgerService {
  private keys: ChainKeys | null;
  private alarmed: ChainAlarm | null = null;
  private alarmFields: AlarmFields | null = null;
  private everConnected = false;
  private readonly recent = new Map<number, string>();
  private readonly stats = {
    blocksVerified: 0,
    transactionsVerified: 0,
    upstreamHeight: -1,
    upstreamConnected: false,
    reconnects: 0,
  };

  private constructor(
    private readonly mirrorDeps: MirrorDeps,
    executor: Executor,
    keys: ChainKeys | null,
    head: HeadInfo | null,
    types: ReadonlyMap<string, string>,
  ) {
    super({ ...mirrorDeps, executor, reopenExecutor: mirrorDeps.openExecutor }, head, types);
    this.keys = keys;
    registerNodeMetrics(this.ledgerMetrics, () => {
      const head = this.head();
      return {
        headHeight: head?.height ?? -1,
        headProcessedMs: head?.processedMs ?? 0,
        blocksVerified: this.stats.blocksVerified,
        transactionsVerified: this.stats.transactionsVerified,
        upstreamHeight: this.stats.upstreamHeight,
        upstreamConnected: this.stats.upstreamConnected,
        reconnects: this.stats.reconnects,
        alarm: this.alarmed !== null,
        alarmHeight: this.alarmed?.height ?? -1,
        nowMs: this.scheduler.nowMs(),
      };
    });
  }

  /** Opens the node's chain as stored; refuses a database that holds another processor's chain. */
  static async open(deps: MirrorDeps): Promise<MirrorNode> {
    const meta = await deps.store.getMeta();
    const head = await deps.store.head();
    if (
      meta !== null &&
      deps.processorAddress !== null &&
      meta.processorAddress !== deps.processorAddress
    ) {
      throw new ChainError(
        'chain_mismatch',
        `this node's database holds the chain of processor ${meta.processorAddress}, but it is configured to follow processor ${deps.processorAddress}`,
        {
          stored: meta.processorAddress,
          configured: deps.processorAddress,
        },
      );
    }
    if ((meta === null) !== (head === null)) {
      throw new ChainError(
        'chain_mismatch',
        'the database holds blocks without chain information (or the reverse); it was not written by a HanzeNet node or processor',
      );
    }
    const keys =
      meta === null
        ? null
        : {
            chainId: meta.chainId,
            processorAddress: meta.processorAddress,
            processorPublicKey: Buffer.from(meta.processorPublicKeyHex, 'hex'),
          };
    const types = await loadContractTypes(deps.store);
    return new MirrorNode(deps, await deps.openExecutor(), keys, head, types);
  }

  get chainKeys(): ChainKeys | null {
    return this.keys;
  }

  get headInfo(): HeadInfo | null {
    return this.head();
  }

  get alarm(): ChainAlarm | null {
    return this.alarmed;
  }

  get upstreamUrl(): string {
    return this.mirrorDeps.upstream.url;
  }

  /** Records an alarm (the first one counts), logs it and tells the listeners. */
  raise(fields: AlarmFields): ChainAlarm {
    if (this.alarmed !== null) return this.alarmed;
    const alarm = chainAlarmOf(fields, this.mirrorDeps.upstream.url, this.scheduler.nowMs());
    this.alarmed = alarm;
    this.alarmFields = fields;
    this.log.alarm(`ALARM: ${alarm.message}`, { alarm });
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
    if (this.head() !== null)
      throw new ChainError('internal', 'the node already holds a genesis block');
    let checked: ReturnType<typeof checkGenesis>;
    try {
      checked = checkGenesis(raw, this.mirrorDeps.processorAddress);
    } catch (err) {
      if (err instanceof AlarmError) this.raise(err.fields);
      throw err;
    }
    const commit: CommitBlockInput = {
      block: checked.block,
      txRecords: [],
      invalidRecords: [],
      stateChanges: [],
      createdContracts: [],
      deletedContracts: [],
    };
    await commitUnexecuted(this.store, commit);
    this.keys = checked.keys;
    this.committed({ commit, types: this.headTypes() }, 0);
  }

  /** Decodes a batch and checks its transactions' signatures: independent of the node's head. */
  prepare(batch: RawBatch): Promise<PreparedBatch> {
    return prepareBatch(batch, this.requireKeys().chainId, this.mirrorDeps.signatures);
  }

  /**
   * Applies a prepared batch in order. Blocks at heights the node already holds must be byte for
   * byte the stored ones. Throws AlarmError (after recording the alarm) when a check fails, and
   * any other error for a failure worth retrying (call recover() first). Stops early on `signal`.
   */
  async apply(batch: PreparedBatch, signal?: AbortSignal): Promise<number> {
    if (this.alarmFields !== null) throw new AlarmError(this.alarmFields);
    if (this.pipeline.stage.name === 'in_doubt') await this.recover();
    const verifiedBefore = this.stats.blocksVerified;
    /** The commit of the block below the one executing, while it is under way. */
    let below: Promise<CommitResult> | null = null;
    try {
      const head = this.requireHead();
      const ids = batch.items.flatMap((item, i) =>
        batch.fromHeight + i > head.height ? (item.block?.txs ?? []).map((tx) => tx.idHex) : [],
      );
      const known = ids.length === 0 ? new Set<string>() : await this.store.knownTxIds(ids);
      const seen = new Set<string>();
      for (const [i, item] of batch.items.entries()) {
        if (signal?.aborted === true) break;
        const height = batch.fromHeight + i;
        if (below === null && height <= this.requireHead().height) {
          await this.compareWithStored(height, item.raw);
          continue;
        }
        // A block is checked against the one below: when that commit already ended, learn how first.
        if (below !== null && this.pipeline.stage.name !== 'committing')
          below = await storedOrThrow(below);
        // A fresh executor reads the stored state: the block below must be stored first.
        if (this.executorIsStale) below = await storedOrThrow(below);
        let checked: SealedBlock;
        try {
          checked = await this.executeOne(item, known, seen);
        } catch (err) {
          // A commit below that failed meanwhile dropped this execution: that failure is the news.
          below = await storedOrThrow(below);
          throw err;
        }
        below = await storedOrThrow(below);
        below = this.pipeline.seal(checked);
      }
      below = await storedOrThrow(below);
    } catch (err) {
      // A block verified before the failure is still stored (when its commit works).
      await this.pipeline.settled();
      if (err instanceof AlarmError) this.raise(err.fields);
      throw err;
    }
    return this.stats.blocksVerified - verifiedBefore;
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
    const [stored] = await this.store.getRawBlocks(height, 1);
    if (stored === undefined)
      throw new ChainError('internal', `block ${height} is below the head but not stored`);
    if (equalBytes(stored, raw)) return;
    const mine = decodeBlock(stored, keys.chainId).hashHex;
    let got: string;
    try {
      got = decodeBlock(raw, keys.chainId).hashHex;
    } catch (err) {
      got = `undecodable bytes (${err instanceof Error ? err.message : String(err)})`;
    }
    const what =
      got === mine ? 'the same block with other bytes (another signature)' : `block ${got}`;
    throw alarmError(
      'history_mismatch',
      { height, blockHash: mine },
      'block',
      mine,
      got,
      `the upstream ${this.mirrorDeps.upstream.url} serves a different block ${height} than the one this node verified (${mine}): ${what}; the history was rewritten`,
    );
  }

  /**
   * Checks and re-executes one block, on top of the block committing (verified, its commit under
   * way) if any; returns what to commit. The block is not committed here.
   */
  private async executeOne(
    item: PreparedItem,
    known: ReadonlySet<string>,
    seen: Set<string>,
  ): Promise<SealedBlock> {
    if (item.failure !== null) throw item.failure;
    const block = item.block;
    if (block === null)
      throw new ChainError('internal', 'a prepared block without bytes or failure');
    const keys = this.requireKeys();
    const tip = this.pipeline.tip();
    if (tip === null)
      throw new ChainError('retry', 'this node has not verified the genesis block yet');
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
    const { executor, result } = await this.execute(input);
    try {
      compareExecution(block, result);
      const types = typesAfter(this.pipeline.tipTypes(), result.createdContracts);
      const txRecords = block.txs.map((tx, position) => {
        const outcome = block.outcomes[position];
        if (outcome === undefined)
          throw new ChainError(
            'internal',
            `block ${block.height} has no outcome for position ${position}`,
          );
        // The submission time is not in the block; the block's time stands in for it.
        return txRecordOf(
          tx,
          outcome,
          contractTypeOf(tx.contractHashHex, types),
          block.processedMs,
          { blockHeight: block.height, position, processedMs: block.processedMs },
        );
      });
      const { stateChanges, createdContracts, deletedContracts } = result;
      return {
        types,
        commit: {
          block,
          txRecords,
          invalidRecords: [],
          stateChanges,
          createdContracts,
          deletedContracts,
        },
      };
    } catch (err) {
      // Only this block: the one below stays executed, and is stored by the caller.
      executor.dropLast();
      throw err;
    }
  }

  /** Runs the block, on top of the block committing if any. */
  private async execute(
    input: BlockExecutionInput,
  ): Promise<{ executor: Executor; result: BlockExecutionResult }> {
    const executor = await this.readyExecutor();
    try {
      return {
        executor,
        result: await executor.executeBlock(input, {
          onTopOfUncommitted: this.pipeline.stage.name === 'committing',
        }),
      };
    } catch (err) {
      if (!isRetry(err)) this.executorStale();
      throw err;
    }
  }

  /**
   * After a failed apply: learns from the stored head whether an interrupted commit landed, and
   * reopens the executor when its state may be stale. Then the follower fetches from the head again.
   */
  async recover(): Promise<void> {
    await this.pipeline.settled();
    const stored = await this.store.head();
    this.pipeline.headRead(stored);
    const applied = this.head();
    if (stored !== null && stored.hashHex !== applied?.hashHex) {
      this.log.warn(
        'the stored head differs from the one this node applied; continuing from the stored one',
        { stored, applied },
      );
      this.resetHead(stored, await loadContractTypes(this.store));
    }
    if (this.executorIsStale) await this.readyExecutor();
  }

  // ---- What the commit pipeline tells the follower --------------------------------------------

  protected onCommitted(sealed: SealedBlock, commitMs: number | null): void {
    const { block } = sealed.commit;
    if (commitMs === null)
      this.log.info('a block whose commit was interrupted is stored', { height: block.height });
    this.recent.set(block.height, sha256Hex(block.bytes));
    this.recent.delete(block.height - RECENT_BLOCKS_KEPT);
    this.stats.blocksVerified++;
    this.stats.transactionsVerified += block.txs.length;
    this.noteUpstreamHeight(block.height);
  }

  /** The apply that waits for this commit fails with its error; recover() sorts out the rest. */
  commitFailed(): void {}

  notStored(): void {}

  private requireKeys(): ChainKeys {
    if (this.keys === null)
      throw new ChainError('retry', 'this node has not verified the genesis block yet');
    return this.keys;
  }

  private requireHead(): HeadInfo {
    const head = this.head();
    if (head === null)
      throw new ChainError('retry', 'this node has not verified the genesis block yet');
    return head;
  }

  // ---- Reads (the API's LedgerService) --------------------------------------------------------

  async info(): Promise<ChainInfo> {
    const keys = this.requireKeys();
    const head = this.head();
    return {
      chainId: keys.chainId,
      processorAddress: keys.processorAddress,
      role: 'node',
      head:
        head === null
          ? null
          : { height: head.height, hash: head.hashHex, processedMs: head.processedMs },
      chainTimeMs: head === null ? null : head.processedMs,
      alarm: this.alarmed,
    };
  }

  /** Forwards to the upstream (and so on to the processor); the outcome arrives with a block. */
  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    return this.mirrorDeps.upstream.submit(txs);
  }

  /**
   * A transaction in a verified block; else what the upstream says, but a block's outcome only
   * counts once this node verified that block, so until then it is reported as `new`.
   */
  async getTransaction(idHex: string): Promise<TxView | null> {
    const id = idHex.toLowerCase();
    const stored = await this.store.getTransaction(id);
    if (stored !== null) return txViewOfRecord(stored);
    const theirs = await this.mirrorDeps.upstream.transaction(id);
    if (theirs === null || theirs.id.toLowerCase() !== id) return null;
    if (theirs.status !== 'accepted' && theirs.status !== 'rejected') return theirs;
    return {
      ...theirs,
      status: 'new',
      code: null,
      message: null,
      sender: null,
      blockId: null,
      positionInBlock: null,
      processedTs: null,
    };
  }

  override async getBlocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    this.requireKeys();
    return super.getBlocks(fromHeight, limit);
  }
}

/** Waits for the commit of the block below, if any; its failure fails the apply. */
async function storedOrThrow(below: Promise<CommitResult> | null): Promise<null> {
  const result = await below;
  if (result !== undefined && result !== null && !result.stored) throw result.error;
  return null;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
