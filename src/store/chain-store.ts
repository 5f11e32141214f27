// The chain tables: blocks, transactions (in blocks and refused), contracts, meta, and the
// contract tables in schema `state`. A block and everything it caused commit in one database
// transaction (the steps in chain/commit.ts); reads are in chain/reads.ts.

import type { ContractRecord, Row, RowValue, TableDef } from '../chain/contract-model.js';
import type { StateReader } from '../contracts/runtime/ports.js';
import type { HeadInfo } from '../chain/header-rules.js';
import type { CommitBlockInput, TxRecord } from '../chain/records.js';
import type { GenesisInfo } from '../chain/types.js';
import type { BlockView } from '../chain/views.js';
import {
  assertLinksToHead,
  checkCommitInput,
  insertBlock,
  insertContracts,
  insertMeta,
  insertTransactions,
  markDeleted,
  upsertInvalid,
} from './chain/commit.js';
import {
  loadContracts,
  loadTableDefs,
  readBlockViews,
  readHead,
  readKnownTxIds,
  readMeta,
  readRawBlocks,
  readTransactions,
} from './chain/reads.js';
import { applyStateChanges, findRows, readRows, scanTable } from './contract-tables.js';
import { migrate } from './migrations.js';
import { toSafeNumber } from './sql-values.js';
import type { Database } from './types.js';

export class ChainStore implements StateReader {
  private defsCache: Map<string, TableDef> | null = null;

  constructor(readonly db: Database) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  async getMeta(): Promise<GenesisInfo | null> {
    return readMeta(this.db);
  }

  async head(): Promise<HeadInfo | null> {
    return readHead(this.db);
  }

  /** Writes a block and all it caused in one transaction; nothing is written if any part fails. */
  async commitBlock(input: CommitBlockInput): Promise<void> {
    checkCommitInput(input);
    // A commit that fails may still have landed (its answer lost) with new contract tables: the
    // definitions are read again from the store, not kept from before this block.
    const failed = (err: unknown): never => {
      this.defsCache = null;
      throw err;
    };
    const defs = await this.db
      .transaction(async (sql) => {
        await assertLinksToHead(sql, input);
        const defs = new Map(this.defsCache ?? (await loadTableDefs(sql)));
        if (input.block.height === 0 && input.block.genesis !== null)
          await insertMeta(sql, input.block.genesis);
        await insertBlock(sql, input);
        await insertContracts(sql, input.createdContracts, defs);
        await markDeleted(sql, input.block.height, input.deletedContracts);
        await insertTransactions(sql, input);
        await upsertInvalid(sql, input.invalidRecords);
        await applyStateChanges(sql, defs, input.stateChanges);
        return defs;
      })
      .catch(failed);
    this.defsCache = defs;
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    return readRawBlocks(this.db, fromHeight, limit);
  }

  /** Headers and transaction summaries of blocks fromHeight.. (two queries, three from genesis). */
  async getBlockRows(fromHeight: number, limit: number): Promise<BlockView[]> {
    return readBlockViews(this.db, fromHeight, limit);
  }

  /** A transaction in a block, else the latest refusal of that id, else null. */
  async getTransaction(idHex: string): Promise<TxRecord | null> {
    return (await this.getTransactions([idHex])).get(idHex) ?? null;
  }

  /** Like getTransaction for many ids at once; the map is keyed by the ids as given. */
  async getTransactions(ids: readonly string[]): Promise<Map<string, TxRecord>> {
    return readTransactions(this.db, ids);
  }

  /** The ids (as given) that a block already holds. Refused (invalid) ids do not count. */
  async knownTxIds(ids: readonly string[]): Promise<Set<string>> {
    return readKnownTxIds(this.db, ids);
  }

  /** Every contract, deleted ones included, ordered by created height then hash. */
  async listContracts(): Promise<ContractRecord[]> {
    return loadContracts(this.db);
  }

  /** Definitions of every contract table, from active and deleted contracts (first definer wins). */
  async tableDefs(): Promise<Map<string, TableDef>> {
    if (this.defsCache === null) this.defsCache = await loadTableDefs(this.db);
    return new Map(this.defsCache);
  }

  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Promise<Row[]> {
    return readRows(this.db, table, def, keys);
  }

  scanTable(table: string, def: TableDef, limit: number): Promise<Row[] | null> {
    return scanTable(this.db, table, def, limit);
  }

  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Promise<Row[]> {
    return findRows(this.db, table, def, where, limit);
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.db.query<{ n: unknown }>(
      `SELECT pg_database_size(current_database()) AS n`,
    );
    return toSafeNumber(rows[0]?.n, 'database size');
  }

  async countTransactions(): Promise<number> {
    const { rows } = await this.db.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM chain.transactions`,
    );
    return toSafeNumber(rows[0]?.n, 'transaction count');
  }
}
