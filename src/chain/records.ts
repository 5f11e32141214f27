// A block as it is committed: the block, one record per transaction (and per refused
// transaction), and what it changed. The processor and a mirror node build it; the store writes
// it in one database transaction.

import type { ContractRecord, StateChange } from './contract-model.js';
import type { Block, TxOutcome } from './types.js';

/** A transaction as stored: in a block (accepted/rejected) or refused by the processor (invalid). */
export interface TxRecord {
  readonly idHex: string;
  readonly bytes: Uint8Array;
  readonly contractHashHex: string;
  readonly contractType: string | null;
  readonly sender: string;
  readonly validTillMs: number;
  readonly payloadText: string;
  readonly signatureHex: string;
  readonly publicKeyHex: string;
  readonly createMs: number;
  readonly outcome: TxOutcome;
  readonly blockHeight: number | null;
  readonly position: number | null;
  readonly processedMs: number;
  /** The payload's `receiver` value as a string cut to 35 chars, or null (Validana compatibility). */
  readonly receiver: string | null;
}

export interface CommitBlockInput {
  readonly block: Block;
  /** One record per transaction in the block, in block order. */
  readonly txRecords: readonly TxRecord[];
  /** Transactions the processor refused while producing this block (not in the block). */
  readonly invalidRecords: readonly TxRecord[];
  /** Final row values, at most one per (table, key). */
  readonly stateChanges: readonly StateChange[];
  /** Contracts created in this block (their new tables are created in the same transaction). */
  readonly createdContracts: readonly ContractRecord[];
  /** Hashes of contracts deleted in this block. */
  readonly deletedContracts: readonly string[];
}
