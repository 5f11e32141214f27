// What the contract runtime needs from outside: reads of committed state. The store implements
// StateReader (src/store/chain-store.ts); the composition point hands it to createExecutor. The
// runtime never imports the store: these interfaces are the whole of what it asks of it.

import type { ContractRecord, Row, RowValue, TableDef } from '../../chain/contract-model.js';

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

/**
 * Synchronous reads of committed state. null means "not known yet": only the in-process
 * executor's speculative runs answer that (executor.ts), and such an answer is never cached.
 */
export interface SyncStateSource {
  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] | null;
  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] | null;
}
