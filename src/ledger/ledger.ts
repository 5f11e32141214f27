// What the processor and a mirror node share, written once: the committed head and its contract
// types, the executor (and reopening it when it went stale), the commit pipeline, the events
// listeners hear after a commit, and the read side both serve to the API. The roles extend it:
// the processor adds admission and the block loop, the node following and checking.

import { EventEmitter } from 'node:events';
import type { ContractRecord } from '../chain/contract-model.js';
import type { HeadInfo } from '../chain/header-rules.js';
import { blockViewOf, contractViewOf, txViewOfRecord } from '../chain/projections.js';
import type { TxRecord } from '../chain/records.js';
import type { Block } from '../chain/types.js';
import type { BlockView, ContractView, TxView } from '../chain/views.js';
import type { Executor } from '../contracts/runtime/executor.js';
import { ChainError } from '../core/errors.js';
import type { Scheduler } from '../core/scheduler.js';
import type { ChainStore } from '../store/chain-store.js';
import type { Sql } from '../store/types.js';
import { CommitPipeline } from './commit-pipeline.js';
import type { PipelineHost, SealedBlock } from './commit-pipeline.js';
import { describeError } from './log.js';
import { LedgerMetrics } from './metrics.js';
import type { Logger } from './log.js';

export interface LedgerDeps {
  readonly store: ChainStore;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly executor: Executor;
  /**
   * Opens a fresh executor over the stored state. Needed when a block whose commit looked failed
   * turns out to be stored and it created or deleted contracts (the old executor dropped those),
   * and after a failure that may have left the executor's state stale.
   */
  readonly reopenExecutor?: (() => Promise<Executor>) | undefined;
}

/** Contract type by hash for every contract ever created (deleted ones still name old txs). */
export async function loadContractTypes(store: ChainStore): Promise<Map<string, string>> {
  return new Map((await store.listContracts()).map((c) => [c.hashHex, c.type]));
}

/** The type map after a block that created `created`; the same map when it created none. */
export function typesAfter(
  before: ReadonlyMap<string, string>,
  created: readonly { hashHex: string; type: string }[],
): ReadonlyMap<string, string> {
  if (created.length === 0) return before;
  const types = new Map(before);
  for (const c of created) types.set(c.hashHex, c.type);
  return types;
}

export abstract class Ledger<B extends SealedBlock> implements PipelineHost<B> {
  readonly store: ChainStore;
  readonly scheduler: Scheduler;
  protected readonly log: Logger;
  protected readonly pipeline: CommitPipeline<B>;
  protected readonly events = new EventEmitter();
  /** Served at GET /metrics; the role adds its own gauges. */
  readonly ledgerMetrics: LedgerMetrics;
  #executor: Executor;
  #executorIsStale = false;
  #head: HeadInfo | null;
  #types: ReadonlyMap<string, string>;

  protected constructor(
    private readonly deps: LedgerDeps,
    head: HeadInfo | null,
    types: ReadonlyMap<string, string>,
  ) {
    this.store = deps.store;
    this.scheduler = deps.scheduler;
    this.log = deps.log;
    this.#executor = deps.executor;
    this.#head = head;
    this.#types = types;
    this.pipeline = new CommitPipeline(this);
    this.events.setMaxListeners(0);
    this.ledgerMetrics = new LedgerMetrics(() => this.#head?.height ?? -1);
    this.events.on('tx', (view: TxView) => this.ledgerMetrics.txFinal(view));
  }

  /** Prometheus text of this role's metrics (GET /metrics). */
  metrics(): Promise<string> {
    return this.ledgerMetrics.render();
  }

  // ---- What the role adds to a commit --------------------------------------------------------

  /** The role's own bookkeeping for a stored block, before the listeners hear of it. */
  protected abstract onCommitted(block: B, commitMs: number | null): void;
  /** A commit failed; `inDoubt` when it may still have landed. */
  abstract commitFailed(block: B, error: unknown, inDoubt: boolean): void;
  /** An in-doubt block turned out not to be stored. */
  abstract notStored(block: B): void;

  // ---- Pipeline host --------------------------------------------------------------------------

  head(): HeadInfo | null {
    return this.#head;
  }

  headTypes(): ReadonlyMap<string, string> {
    return this.#types;
  }

  executorCommitted(): void {
    this.#executor.commit();
  }

  executorAborted(): void {
    this.#executor.abort();
  }

  executorStale(): void {
    this.#executorIsStale = true;
  }

  committed(block: B, commitMs: number | null): void {
    const { block: b, txRecords, invalidRecords } = block.commit;
    this.#head = { height: b.height, hashHex: b.hashHex, processedMs: b.processedMs };
    this.#types = block.types;
    this.onCommitted(block, commitMs);
    this.ledgerMetrics.blockCommitted(block.stats?.executeMs ?? null, commitMs);
    this.events.emit('block', b, blockViewOf(b, block.types));
    for (const r of txRecords) this.events.emit('tx', txViewOfRecord(r));
    this.publishFinal(invalidRecords);
  }

  // ---- Executor ------------------------------------------------------------------------------

  protected get executor(): Executor {
    return this.#executor;
  }

  protected get executorIsStale(): boolean {
    return this.#executorIsStale;
  }

  /** The executor, opened afresh first when it went stale (a fresh one reads the stored state). */
  protected async readyExecutor(): Promise<Executor> {
    if (!this.#executorIsStale) return this.#executor;
    if (this.deps.reopenExecutor === undefined) {
      throw new ChainError(
        'internal',
        'a stored block changed contracts that the executor no longer knows, and no way to reopen it was given; restart the service',
      );
    }
    const fresh = await this.deps.reopenExecutor();
    const old = this.#executor;
    this.#executor = fresh;
    this.#executorIsStale = false;
    await old
      .close()
      .catch((err: unknown) =>
        this.log.error('closing the replaced executor failed', { error: describeError(err) }),
      );
    return fresh;
  }

  /** The head is known to be another block than the one applied (a mirror node's recovery). */
  protected resetHead(head: HeadInfo, types: ReadonlyMap<string, string>): void {
    this.#head = head;
    this.#types = types;
    this.#executorIsStale = true;
  }

  // ---- Events --------------------------------------------------------------------------------

  /** Tells the listeners the final outcome of transactions that are in no block. */
  protected publishFinal(records: readonly TxRecord[]): void {
    for (const r of records) this.events.emit('tx', txViewOfRecord(r));
  }

  onTxFinal(listener: (view: TxView) => void): () => void {
    this.events.on('tx', listener);
    return () => this.events.off('tx', listener);
  }

  onBlock(listener: (block: Block, view: BlockView) => void): () => void {
    this.events.on('block', listener);
    return () => this.events.off('block', listener);
  }

  // ---- Reads (the API's LedgerService) -------------------------------------------------------

  /** Active contracts as the executor knows them, including ones created in committed blocks. */
  protected activeContracts(): Map<string, ContractRecord> {
    return new Map(this.#executor.contracts().map((c) => [c.hashHex, c]));
  }

  async listContracts(): Promise<ContractView[]> {
    return this.#executor.contracts().map(contractViewOf);
  }

  querySql(): Sql {
    return this.store.db;
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    return this.store.getRawBlocks(fromHeight, limit);
  }

  /** From the stored columns: decoding the raw blocks cost memory and time for every transaction. */
  async getBlocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    return this.store.getBlockRows(fromHeight, limit);
  }

  async close(): Promise<void> {
    await this.#executor.close();
  }
}
