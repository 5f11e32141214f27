// The storage interface. PostgreSQL is the system of record: the embedded PGlite and a PostgreSQL
// server sit behind the same `Database` interface and hold the same tables (docs/storage.md).

import type { Block, TxOutcome } from '../core/types.js';

export interface QueryResult<R> {
  rows: R[];
}

export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one database transaction: all of its writes commit, or none. */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Column types a contract table may declare. */
export type ColumnType = 'text' | 'bigint' | 'boolean' | 'text[]' | 'json';

export interface TableDef {
  /** Column name -> type. Names match ^[a-z][a-z0-9_]{0,62}$. Every column is NOT NULL except json. */
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** Primary key columns, in order. Only text, bigint and boolean columns. */
  readonly key: readonly string[];
  /** Extra indexes (each a list of columns); a text[] column alone gets a GIN index. */
  readonly indexes?: readonly (readonly string[])[];
}

/** Host-side row values: text -> string, bigint -> bigint, boolean -> boolean, text[] -> string[], json -> any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type RowValue = string | bigint | boolean | string[] | JsonValue;
export type Row = Record<string, RowValue>;

/** The final value of one row after a block: `row` null means the row was deleted. */
export interface StateChange {
  readonly table: string;
  readonly key: readonly RowValue[];
  readonly row: Row | null;
}

/** What a contract's manifest (the `init` field of a create payload) declares. */
export interface ContractManifest {
  /** Tables this contract defines (creates if new) and may read and write. */
  readonly tables: Readonly<Record<string, TableDef>>;
  /** Further tables (defined by other contracts) this contract may read but not write. */
  readonly reads: readonly string[];
}

/** Template entry, Validana style: {type, name, desc}. */
export interface TemplateField {
  readonly type: string;
  readonly name: string;
  readonly desc: string;
}
export type Template = Readonly<Record<string, TemplateField>>;

export interface ContractRecord {
  readonly hashHex: string;
  readonly type: string;
  readonly version: string;
  readonly description: string;
  readonly template: Template;
  readonly validanaVersion: number;
  readonly manifest: ContractManifest;
  /** The contract code text (UTF-8 of the base64 `code` field). */
  readonly code: string;
  readonly creator: string;
  readonly createdHeight: number;
  readonly deletedHeight: number | null;
}

export interface ChainMeta {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly processorPublicKeyHex: string;
}

export interface HeadInfo {
  readonly height: number;
  readonly hashHex: string;
  readonly processedMs: number;
}

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
