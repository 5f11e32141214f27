// The contract model: what a contract declares (template, manifest, tables) and the values its
// tables hold. Shared by the contract runtime, the store that keeps the tables and the API that
// shows the template; pure types.

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
  /**
   * The execution budget of one of its transactions: absent for the budget of every transaction,
   * `settlement` for the larger one of a contract that settles a whole market period
   * (src/contracts/limits.ts, docs/contract-api.md "Limits").
   */
  readonly budget?: ContractBudget;
}

/** Names of the execution budgets a manifest may ask for. */
export type ContractBudget = 'settlement';

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
