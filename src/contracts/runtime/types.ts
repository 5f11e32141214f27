// The contract runtime's interface towards the processor and the mirror node.

import type { BlockTxOutcome, Tx, TxOutcome } from '../../chain/types.js';
import type { ContractRecord, StateChange } from '../../chain/contract-model.js';

/** What a block's execution needs besides its transactions (what contracts see of the block). */
export interface BlockHeaderInput {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly height: number;
  readonly processedMs: number;
  readonly previousHashHex: string;
  readonly previousProcessedMs: number;
}

export interface BlockExecutionInput extends BlockHeaderInput {
  /** Transactions whose signature, expiry and id uniqueness were already checked, in block order. */
  readonly txs: readonly Tx[];
}

export interface BlockExecutionResult {
  /** One per input transaction, same order. `invalid` ones must be left out of the block. */
  readonly outcomes: readonly TxOutcome[];
  /** Final state changes of the transactions that are in the block, sorted canonically. */
  readonly stateChanges: readonly StateChange[];
  /** hash256 of the canonical encoding of stateChanges and contract changes (docs/contract-api.md, "State digest"). */
  readonly stateDigestHex: string;
  readonly createdContracts: readonly ContractRecord[];
  readonly deletedContracts: readonly string[];
  /** How the execution went (for logs and the benchmark; never part of the block). */
  readonly stats: ExecutionStats;
}

export interface ExecutionStats {
  /** Time the executor spent executing the block, ms (for a block executed as it filled: the sum of its parts). */
  readonly executeMs: number;
  /** State reads the executor's cache could not answer and asked the store for. */
  readonly storeReads: number;
  /** Time spent waiting for those reads, ms. */
  readonly storeReadMs: number;
}

export type { BlockTxOutcome };
