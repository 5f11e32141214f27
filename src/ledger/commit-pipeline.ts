// The commit pipeline both roles run, as one stage machine. A block the processor sealed, or one a
// mirror node checked, is committed here: block, outcomes and state changes in one database
// transaction, while the role executes the next block on top of it. Where a commit stands is held
// in ONE tagged union (CommitStage) and moved only by `dispatch`, which both roles call: the model
// is TigerBeetle's replica, whose primary and backups share one `commit_stage` and one
// `commit_dispatch` (src/vsr/replica.zig).
//
//   idle --seal--> committing --landed--> idle                 (committed: head moves, listeners hear)
//                             --failed--> idle                 (not stored: the block above is dropped)
//                             --failed (retry)--> in_doubt     (the connection died at COMMIT: stored or not?)
//   in_doubt --head_read--> idle                               (the stored head tells which)
//
// The executor runs at most two blocks ahead of the store: the one committing and the next. A
// failed commit drops both (`dropExecuted`), and `epoch` counts those drops, so that a role can
// tell that a block it executed before a drop is void.

import type { ExecutionStats } from '../contracts/runtime/types.js';
import { ChainError } from '../core/errors.js';
import type { Scheduler } from '../core/scheduler.js';
import type { ChainStore } from '../store/chain-store.js';
import type { HeadInfo } from '../chain/header-rules.js';
import type { CommitBlockInput } from '../chain/records.js';

/** The one type of a block in flight: executed and sealed (processor) or checked (node). */
export interface SealedBlock {
  readonly commit: CommitBlockInput;
  /** Contract type by hash after this block, which may have created contracts. */
  readonly types: ReadonlyMap<string, string>;
  /** How its execution went, when the role timed it (the processor does): for logs and metrics. */
  readonly stats?: ExecutionStats;
}

export type CommitStage<B extends SealedBlock> =
  | { readonly name: 'idle' }
  | {
      readonly name: 'committing';
      readonly block: B;
      readonly startedMs: number;
      readonly settled: Promise<CommitResult>;
    }
  | { readonly name: 'in_doubt'; readonly block: B; readonly error: unknown };

export type CommitEvent<B extends SealedBlock> =
  /** The role hands over the next block (only when idle). */
  | { readonly on: 'seal'; readonly block: B }
  | { readonly on: 'landed' }
  | { readonly on: 'failed'; readonly error: unknown }
  /** The stored head, read after a commit whose outcome is unknown. */
  | { readonly on: 'head_read'; readonly head: HeadInfo | null };

export type CommitResult =
  | { readonly stored: true }
  | { readonly stored: false; readonly error: unknown };

/** What the pipeline needs of the ledger around it, and what it tells the role. */
export interface PipelineHost<B extends SealedBlock> {
  readonly store: ChainStore;
  readonly scheduler: Scheduler;
  /** The last committed block; null before genesis (a new mirror node). */
  head(): HeadInfo | null;
  /** The committed head's contract types. */
  headTypes(): ReadonlyMap<string, string>;
  /** The executor confirms the oldest executed block. */
  executorCommitted(): void;
  /** The executor drops every executed block that is not committed. */
  executorAborted(): void;
  /** A block that changed contracts was stored behind the executor's back: reopen it before use. */
  executorStale(): void;
  /** The block is stored: move the head, tell the role and the listeners. `commitMs` null: found stored later. */
  committed(block: B, commitMs: number | null): void;
  /** The block is not stored and never will be; `inDoubt` while nobody knows yet. */
  commitFailed(block: B, error: unknown, inDoubt: boolean): void;
  /** An in-doubt block turned out not to be stored: what it held may go into another block. */
  notStored(block: B): void;
}

/** A commit that failed with `retry` may have lost only its answer: the data may have landed. */
export function isRetry(err: unknown): boolean {
  return err instanceof ChainError && err.code === 'retry';
}

export class CommitPipeline<B extends SealedBlock> {
  #stage: CommitStage<B> = { name: 'idle' };
  #epoch = 0;

  constructor(private readonly host: PipelineHost<B>) {}

  get stage(): CommitStage<B> {
    return this.#stage;
  }

  /** Bumped whenever the executor dropped its uncommitted blocks: a block executed across it is void. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The block the next one builds on: the one committing, else the head. */
  tip(): HeadInfo | null {
    const stage = this.#stage;
    if (stage.name !== 'committing') return this.host.head();
    const { height, hashHex, processedMs } = stage.block.commit.block;
    return { height, hashHex, processedMs };
  }

  /** Contract types the next block starts from: after the block committing, else the head's. */
  tipTypes(): ReadonlyMap<string, string> {
    const stage = this.#stage;
    return stage.name === 'committing' ? stage.block.types : this.host.headTypes();
  }

  /** Moves the stage machine by one event; the only place that changes the stage. */
  dispatch(event: CommitEvent<B>): void {
    const stage = this.#stage;
    switch (event.on) {
      case 'seal':
        if (stage.name !== 'idle') throw unexpected(event.on, stage.name);
        this.#stage = this.startCommit(event.block);
        return;
      case 'landed':
        if (stage.name !== 'committing') throw unexpected(event.on, stage.name);
        this.#stage = { name: 'idle' };
        this.host.executorCommitted();
        this.host.committed(stage.block, this.host.scheduler.monotonicMs() - stage.startedMs);
        return;
      case 'failed': {
        if (stage.name !== 'committing') throw unexpected(event.on, stage.name);
        const inDoubt = isRetry(event.error);
        this.#stage = inDoubt
          ? { name: 'in_doubt', block: stage.block, error: event.error }
          : { name: 'idle' };
        this.dropExecuted();
        this.host.commitFailed(stage.block, event.error, inDoubt);
        return;
      }
      case 'head_read':
        if (stage.name !== 'in_doubt') throw unexpected(event.on, stage.name);
        this.#stage = { name: 'idle' };
        if (isStoredHead(event.head, stage.block.commit)) {
          const { createdContracts, deletedContracts } = stage.block.commit;
          if (createdContracts.length > 0 || deletedContracts.length > 0) this.host.executorStale();
          this.host.committed(stage.block, null);
        } else {
          this.host.notStored(stage.block);
        }
        return;
    }
  }

  /**
   * Hands over the next block (only when idle): its commit starts, and the promise tells whether
   * it was stored. Keep it to learn the fate of this very block: settled() only knows the block
   * committing now.
   */
  seal(block: B): Promise<CommitResult> {
    this.dispatch({ on: 'seal', block });
    const stage = this.#stage;
    if (stage.name !== 'committing') throw unexpected('seal', stage.name);
    return stage.settled;
  }

  /** Waits for the block committing, if any (a block that already failed is not waited for). */
  settled(): Promise<CommitResult> {
    const stage = this.#stage;
    return stage.name === 'committing' ? stage.settled : Promise.resolve({ stored: true });
  }

  /**
   * After a commit whose outcome is unknown: asks the store whether it landed. A failed read leaves
   * the block in doubt (and throws), to be asked again.
   */
  async resolveInDoubt(): Promise<void> {
    if (this.#stage.name !== 'in_doubt') return;
    const head = await this.host.store.head();
    if (this.#stage.name === 'in_doubt') this.dispatch({ on: 'head_read', head });
  }

  /** resolveInDoubt after reading the head elsewhere (a mirror node's recovery reads it anyway). */
  headRead(head: HeadInfo | null): void {
    if (this.#stage.name === 'in_doubt') this.dispatch({ on: 'head_read', head });
  }

  /** Drops every executed block that is not committed (the block above a failed one, or a void one). */
  dropExecuted(): void {
    this.#epoch++;
    this.host.executorAborted();
  }

  private startCommit(block: B): CommitStage<B> {
    const settled = this.host.store.commitBlock(block.commit).then(
      (): CommitResult => {
        this.dispatch({ on: 'landed' });
        return { stored: true };
      },
      (error: unknown): CommitResult => {
        this.dispatch({ on: 'failed', error });
        return { stored: false, error };
      },
    );
    return { name: 'committing', block, startedMs: this.host.scheduler.monotonicMs(), settled };
  }
}

/** Did the commit of `commit` land? It did when the stored head is its block. */
function isStoredHead(head: HeadInfo | null, commit: CommitBlockInput): boolean {
  return head?.hashHex === commit.block.hashHex;
}

/**
 * Commits a block no executor ran (block 0) outside the pipeline. A commit whose connection died
 * may still have landed: the stored head tells, as for a block in doubt.
 */
export async function commitUnexecuted(store: ChainStore, commit: CommitBlockInput): Promise<void> {
  try {
    await store.commitBlock(commit);
  } catch (err) {
    const head = await store.head().catch(() => null);
    if (!isStoredHead(head, commit)) throw err;
  }
}

function unexpected(event: string, stage: string): ChainError {
  return new ChainError('internal', `the commit pipeline got '${event}' in stage '${stage}'`);
}
