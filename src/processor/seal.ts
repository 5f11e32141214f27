// Sealing the open block: the executor's result of the transactions taken into it becomes a
// signed block with its records, ready for the commit pipeline. Transactions that turned out
// invalid stay out of the block; when all did, there is no block, only their records.

import type { Executor } from '../contracts/runtime/executor.js';
import type {
  BlockExecutionResult,
  BlockHeaderInput,
  ExecutionStats,
} from '../contracts/runtime/types.js';
import { buildBlock } from '../chain/block-encode.js';
import { assertFollowsHead } from '../chain/header-rules.js';
import { contractTypeOf, txRecordOf } from '../chain/projections.js';
import type { TxRecord } from '../chain/records.js';
import type { BlockTxOutcome, TxOutcome } from '../chain/types.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import type { SealedBlock } from '../ledger/commit-pipeline.js';
import { typesAfter } from '../ledger/ledger.js';
import { duplicateMessage, expiredMessage, isExpired } from './admission.js';
import type { PendingTx } from './pending-queue.js';

/** A transaction taken for a block that will not be in it, with why. */
export interface InvalidItem {
  readonly item: PendingTx;
  readonly outcome: TxOutcome;
}

/**
 * The block being filled: transactions go to the executor as they are admitted, so that by the
 * end of the interval they are executed and sealing the block costs little.
 */
export interface OpenBlock {
  readonly header: BlockHeaderInput;
  /** The pipeline's epoch when it opened: void when the executor dropped uncommitted blocks since. */
  readonly epoch: number;
  /** Executed on top of the block whose commit was under way when it opened. */
  readonly onTop: boolean;
  /** Every transaction taken into it, in order. */
  readonly items: PendingTx[];
  /** Those sent to the executor, in order. */
  readonly runnable: PendingTx[];
  /** Those that expired before the block's time. */
  readonly invalid: InvalidItem[];
  /** The store's answer, per part, to which ids it already holds (see sealOpenBlock). */
  readonly knownLookups: Promise<Set<string>>[];
}

/** A block the processor produced: what the commit pipeline carries, and what it was made of. */
export interface ProducedBlock extends SealedBlock {
  readonly items: readonly PendingTx[];
  readonly stats: ExecutionStats;
}

export type SealOutcome =
  | { readonly kind: 'block'; readonly block: ProducedBlock }
  /** Every transaction was invalid: nothing to commit, only their records to publish. */
  | {
      readonly kind: 'no_block';
      readonly items: readonly PendingTx[];
      readonly invalidRecords: TxRecord[];
    };

export interface SealContext {
  readonly executor: Executor;
  readonly key: PrivateKey;
  readonly chainId: string;
  /** Contract types the block starts from (after the block committing below it, if any). */
  readonly types: ReadonlyMap<string, string>;
}

/** Splits transactions taken for a block into those to execute and those expired at its time. */
export function screen(
  items: readonly PendingTx[],
  processedMs: number,
): { runnable: PendingTx[]; invalid: InvalidItem[] } {
  const runnable: PendingTx[] = [];
  const invalid: InvalidItem[] = [];
  for (const item of items) {
    if (isExpired(item.tx, processedMs))
      invalid.push({
        item,
        outcome: {
          status: 'invalid',
          code: 'tx_expired',
          message: expiredMessage(item.tx, processedMs),
        },
      });
    else runnable.push(item);
  }
  return { runnable, invalid };
}

/**
 * Seals the open block and builds it from its execution. Admission already refused ids the chain
 * holds; the store's answer for the executed ones (asked alongside the execution, which it does
 * not delay) guards the commit, which a stored id would fail for ever: should one turn up, the
 * block is executed again without it.
 */
export async function sealOpenBlock(ctx: SealContext, open: OpenBlock): Promise<SealOutcome> {
  const { header } = open;
  const invalid = [...open.invalid];
  let runnable: readonly PendingTx[] = open.runnable;
  let result = await ctx.executor.sealBlock();
  const known = new Set((await Promise.all(open.knownLookups)).flatMap((ids) => [...ids]));
  if (runnable.some((item) => known.has(item.tx.idHex))) {
    ctx.executor.dropLast();
    for (const item of runnable)
      if (known.has(item.tx.idHex))
        invalid.push({
          item,
          outcome: {
            status: 'invalid',
            code: 'tx_duplicate_id',
            message: duplicateMessage(item.tx.idHex),
          },
        });
    runnable = runnable.filter((item) => !known.has(item.tx.idHex));
    result = await ctx.executor.executeBlock(
      { ...header, txs: runnable.map((i) => i.tx) },
      { onTopOfUncommitted: open.onTop },
    );
  }
  return buildProduced(ctx, header, open.items, runnable, invalid, result);
}

function buildProduced(
  ctx: SealContext,
  header: BlockHeaderInput,
  items: readonly PendingTx[],
  runnable: readonly PendingTx[],
  invalid: InvalidItem[],
  result: BlockExecutionResult,
): SealOutcome {
  const { height, processedMs } = header;
  const included: { item: PendingTx; outcome: BlockTxOutcome }[] = [];
  runnable.forEach((item, i) => {
    const outcome = result.outcomes[i];
    if (!outcome)
      throw new ChainError(
        'internal',
        `the executor returned no outcome for transaction ${item.tx.idHex}`,
      );
    if (outcome.status === 'invalid') invalid.push({ item, outcome });
    else included.push({ item, outcome });
  });
  const types = typesAfter(ctx.types, result.createdContracts);
  const invalidRecords = invalid.map(({ item, outcome }) =>
    txRecordOf(item.tx, outcome, contractTypeOf(item.tx.contractHashHex, types), item.createMs, {
      blockHeight: null,
      position: null,
      processedMs,
    }),
  );
  if (included.length === 0) return { kind: 'no_block', items, invalidRecords };
  // A header that does not follow the block below it is a bug: stop before anything is signed.
  assertFollowsHead(header, {
    height: height - 1,
    hashHex: header.previousHashHex,
    processedMs: header.previousProcessedMs,
  });
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
    ctx.key,
    ctx.chainId,
  );
  const txRecords = included.map(({ item, outcome }, position) =>
    txRecordOf(item.tx, outcome, contractTypeOf(item.tx.contractHashHex, types), item.createMs, {
      blockHeight: height,
      position,
      processedMs,
    }),
  );
  const { stateChanges, createdContracts, deletedContracts } = result;
  return {
    kind: 'block',
    block: {
      items,
      types,
      stats: result.stats,
      commit: {
        block,
        txRecords,
        invalidRecords,
        stateChanges,
        createdContracts,
        deletedContracts,
      },
    },
  };
}
