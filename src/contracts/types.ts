// The contract runtime's interface towards the processor and the mirror node.

import type { BlockTxOutcome, Tx, TxOutcome } from '../chain/types.js';
import type { ContractRecord, Row, RowValue, StateChange, TableDef } from '../chain/contract-model.js';

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

/**
 * The executor's reads of committed state (ChainStore implements it). Called from the main thread;
 * the executor worker's synchronous reads are forwarded to it (docs/contract-api.md, "Reads").
 */
export interface StateReader {
  /** The existing rows among these primary keys (key values in key column order), in any order. */
  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Promise<Row[]>;
  /**
   * Rows whose columns equal every value in `where`, ordered by primary key (text in UTF-8 byte
   * order, i.e. COLLATE "C"; bigint numerically; false before true), at most `limit`.
   */
  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Promise<Row[]>;
  /** Every row of the table (any order) when it has at most `limit` rows; null when it has more. */
  scanTable(table: string, def: TableDef, limit: number): Promise<Row[] | null>;
  /**
   * Every contract ever created, deleted ones included (deletedHeight set): their tables still
   * exist, and a hash can never be created twice.
   */
  listContracts(): Promise<ContractRecord[]>;
}

/** Limits that decide outcomes: every node of a chain must use the same values. */
export interface ExecutionLimits {
  /** QuickJS interrupts (about 10,000 operations each) one transaction may use. */
  readonly gasInterruptsPerTx: number;
  /** Memory limit of the QuickJS runtime of one block (all contracts together). */
  readonly memoryBytesPerBlock: number;
}

export const DEFAULT_EXECUTION_LIMITS: ExecutionLimits = {
  gasInterruptsPerTx: 200,
  memoryBytesPerBlock: 64 * 1024 * 1024,
};

/** Fixed limits of the contract runtime (docs/contract-api.md, "Limits"). Part of the protocol. */
export const CONTRACT_LIMITS = {
  /** QuickJS stack limit. Small enough that QuickJS, not V8, notices deep recursion first. */
  stackBytes: 64 * 1024,
  /** ctx.db calls per transaction. */
  dbCallsPerTx: 10_000,
  /** Rows ctx.db.find may return to one transaction in total. */
  findRowsPerTx: 100_000,
  findLimitDefault: 1000,
  findLimitMax: 10_000,
  /** Bytes of one row as JSON (bigint as decimal strings). */
  rowBytesMax: 64 * 1024,
  /** Nesting depth of json column values, keys and payload values. */
  jsonDepthMax: 64,
  /** UTF-8 bytes of a reject message (longer ones are cut). */
  messageBytesMax: 1024,
  /** Characters of a thrown error's message kept in the outcome. */
  errorMessageCharsMax: 200,
} as const;
