// Contract tables: the DDL that creates them in schema `state`, the batched writes of a block's
// final row values, and the reads the contract executor makes. Every statement handles many rows:
// a block's writes to one table cost at most two statements (one upsert, one delete) per 5,000
// rows, whatever the number of transactions (docs/storage.md, DESIGN.md "Measured limits").
//
// Text columns are declared COLLATE "C", so comparisons and ORDER BY use byte order (UTF-8 code
// point order) on the embedded database and on any server, whatever the server's locale.

import { createHash } from 'node:crypto';
import { ChainError } from '../core/errors.js';
import { arrayLiteral } from './sql-values.js';
import type {
  ColumnType,
  JsonValue,
  Row,
  RowValue,
  StateChange,
  TableDef,
} from '../chain/contract-model.js';
import type { Sql } from './types.js';
import {
  assertKnownColumns,
  badRow,
  checkRow,
  columnElement,
  columnType,
  describe,
  keyElements,
  rowProblem,
  textProblem,
} from './contract-values.js';

export { checkRow, rowProblem, textProblem };

export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const COLUMNS_PER_TABLE_MAX = 64;
export const INDEXES_PER_TABLE_MAX = 16;
/** Rows per batched statement: keeps each statement's parameters and memory bounded. */
export const ROWS_PER_STATEMENT_MAX = 5000;
/** The most rows one findRows call may ask for. */
export const FIND_ROWS_LIMIT_MAX = 100_000;

const KEY_TYPES: ReadonlySet<ColumnType> = new Set(['text', 'bigint', 'boolean']);
const COLUMN_TYPES: ReadonlySet<string> = new Set(['text', 'bigint', 'boolean', 'text[]', 'json']);

const DDL_TYPE: Readonly<Record<ColumnType, string>> = {
  text: 'text COLLATE "C" NOT NULL',
  bigint: 'bigint NOT NULL',
  boolean: 'boolean NOT NULL',
  'text[]': 'text[] COLLATE "C" NOT NULL',
  json: 'json',
};

/** The array type a column's values travel in (text[] and json travel as JSON text). */
const PARAM_ARRAY: Readonly<Record<ColumnType, string>> = {
  text: 'text[]',
  bigint: 'bigint[]',
  boolean: 'boolean[]',
  'text[]': 'text[]',
  json: 'text[]',
};

/** `state."<name>"`, the qualified name of a contract table. */
export function contractTableName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ChainError(
      'contract_create_invalid',
      `table name ${JSON.stringify(name)} must match ${NAME_PATTERN.source}`,
      { table: name },
    );
  }
  return `state."${name}"`;
}

function ident(name: string): string {
  return `"${name}"`;
}

/** Throws contract_create_invalid when the definition cannot become a table. */
export function validateTableDef(name: string, def: TableDef): void {
  const fail = (why: string): never => {
    throw new ChainError('contract_create_invalid', `table ${name}: ${why}`, { table: name });
  };
  contractTableName(name);
  const columns = Object.entries(def.columns);
  if (columns.length === 0) fail('has no columns');
  if (columns.length > COLUMNS_PER_TABLE_MAX)
    fail(`has ${columns.length} columns, at most ${COLUMNS_PER_TABLE_MAX} allowed`);
  for (const [column, type] of columns) {
    if (!NAME_PATTERN.test(column))
      fail(`column name ${JSON.stringify(column)} must match ${NAME_PATTERN.source}`);
    if (!COLUMN_TYPES.has(type))
      fail(
        `column ${column} has type ${JSON.stringify(type)}, expected one of text, bigint, boolean, text[], json`,
      );
  }
  if (def.key.length === 0) fail('has no primary key');
  if (new Set(def.key).size !== def.key.length) fail('names a key column twice');
  for (const column of def.key) {
    const type = def.columns[column];
    if (type === undefined) fail(`key column ${column} is not a column`);
    else if (!KEY_TYPES.has(type))
      fail(`key column ${column} has type ${type}, expected text, bigint or boolean`);
  }
  const indexes = def.indexes ?? [];
  if (indexes.length > INDEXES_PER_TABLE_MAX)
    fail(`has ${indexes.length} indexes, at most ${INDEXES_PER_TABLE_MAX} allowed`);
  for (const index of indexes) {
    if (index.length === 0) fail('declares an index without columns');
    if (new Set(index).size !== index.length)
      fail(`index (${index.join(', ')}) names a column twice`);
    for (const column of index) {
      const type = def.columns[column];
      if (type === undefined) fail(`index column ${column} is not a column`);
      else if (type === 'json') fail(`index column ${column} is json, which cannot be indexed`);
    }
  }
}

/** CREATE TABLE IF NOT EXISTS state."<name>" with its primary key and indexes. */
export async function createContractTable(sql: Sql, name: string, def: TableDef): Promise<void> {
  validateTableDef(name, def);
  const table = contractTableName(name);
  const columns = Object.entries(def.columns).map(
    ([column, type]) => `${ident(column)} ${DDL_TYPE[type]}`,
  );
  const key = def.key.map(ident).join(', ');
  await sql.query(
    `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(', ')}, PRIMARY KEY (${key}))`,
  );
  for (const index of def.indexes ?? []) {
    const single = index.length === 1 ? index[0] : undefined;
    const method = single !== undefined && def.columns[single] === 'text[]' ? 'gin' : 'btree';
    await sql.query(
      `CREATE INDEX IF NOT EXISTS ${ident(indexName(name, index))} ON ${table} USING ${method} (${index.map(ident).join(', ')})`,
    );
  }
}

// Index names share the schema's namespace and 63 bytes: a prefix of the table plus a hash.
function indexName(table: string, columns: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`${table}(${columns.join(',')})`)
    .digest('hex')
    .slice(0, 10);
  return `${table.slice(0, 48)}_${hash}_ix`;
}

// ---------------------------------------------------------------------------------------------
// Host values <-> array-literal elements.

interface TableBatch {
  readonly upserts: Row[];
  readonly deletes: (readonly RowValue[])[];
}

/**
 * Writes the final row values of a block: per table one batched upsert and one batched delete
 * (per ROWS_PER_STATEMENT_MAX rows). When a (table, key) appears twice, the last change wins.
 */
export async function applyStateChanges(
  sql: Sql,
  defs: ReadonlyMap<string, TableDef>,
  changes: readonly StateChange[],
): Promise<void> {
  const batches = groupChanges(defs, changes);
  for (const table of [...batches.keys()].sort()) {
    const batch = batches.get(table);
    const def = defs.get(table);
    if (batch === undefined || def === undefined) continue;
    for (let i = 0; i < batch.upserts.length; i += ROWS_PER_STATEMENT_MAX) {
      await upsertRows(sql, table, def, batch.upserts.slice(i, i + ROWS_PER_STATEMENT_MAX));
    }
    for (let i = 0; i < batch.deletes.length; i += ROWS_PER_STATEMENT_MAX) {
      await deleteRows(sql, table, def, batch.deletes.slice(i, i + ROWS_PER_STATEMENT_MAX));
    }
  }
}

function groupChanges(
  defs: ReadonlyMap<string, TableDef>,
  changes: readonly StateChange[],
): Map<string, TableBatch> {
  const last = new Map<string, Map<string, StateChange>>();
  for (const change of changes) {
    const def = defs.get(change.table);
    if (def === undefined) {
      throw new ChainError(
        'internal',
        `a state change names table ${JSON.stringify(change.table)}, which no contract defines`,
        { table: change.table },
      );
    }
    const keyText = keyElements(change.table, def, change.key).join('\u0000');
    if (change.row !== null) assertRowMatchesKey(change.table, def, change.row, keyText);
    let byKey = last.get(change.table);
    if (byKey === undefined) last.set(change.table, (byKey = new Map()));
    byKey.set(keyText, change);
  }
  const batches = new Map<string, TableBatch>();
  for (const [table, byKey] of last) {
    const batch: TableBatch = { upserts: [], deletes: [] };
    for (const change of byKey.values()) {
      if (change.row === null) batch.deletes.push(change.key);
      else batch.upserts.push(change.row);
    }
    batches.set(table, batch);
  }
  return batches;
}

function assertRowMatchesKey(
  table: string,
  def: TableDef,
  row: Readonly<Row>,
  keyText: string,
): void {
  const rowKey = def.key.map((column) => row[column] as RowValue);
  if (keyElements(table, def, rowKey).join('\u0000') !== keyText) {
    throw badRow(
      table,
      `a change's key ${keyText.split('\u0000').join(', ')} differs from its row's key columns`,
    );
  }
}

async function upsertRows(
  sql: Sql,
  table: string,
  def: TableDef,
  rows: readonly Row[],
): Promise<void> {
  const columns = Object.entries(def.columns);
  const params = columns.map(([column, type]) =>
    arrayLiteral(rows.map((row) => columnElement(table, column, type, row[column]))),
  );
  for (const row of rows) assertKnownColumns(table, def, row);
  const unnest = columns.map(([, type], i) => `$${i + 1}::text::${PARAM_ARRAY[type]}`).join(', ');
  const aliases = columns.map((_, i) => `c${i}`).join(', ');
  const values = columns.map(([, type], i) => selectExpression(type, `u.c${i}`)).join(', ');
  const keySet = new Set(def.key);
  const updates = columns
    .filter(([column]) => !keySet.has(column))
    .map(([column]) => `${ident(column)} = EXCLUDED.${ident(column)}`);
  const onConflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`;
  await sql.query(
    `INSERT INTO ${contractTableName(table)} (${columns.map(([c]) => ident(c)).join(', ')}) ` +
      `SELECT ${values} FROM unnest(${unnest}) AS u(${aliases}) ` +
      `ON CONFLICT (${def.key.map(ident).join(', ')}) ${onConflict}`,
    params,
  );
}

function selectExpression(type: ColumnType, ref: string): string {
  if (type === 'text[]') return `ARRAY(SELECT jsonb_array_elements_text(${ref}::jsonb))`;
  if (type === 'json') return `${ref}::json`;
  return ref;
}

async function deleteRows(
  sql: Sql,
  table: string,
  def: TableDef,
  keys: readonly (readonly RowValue[])[],
): Promise<void> {
  const { params, join } = keyJoin(table, def, keys, 't', 'k');
  await sql.query(
    `DELETE FROM ${contractTableName(table)} t USING ${join.using} WHERE ${join.on}`,
    params,
  );
}

/** unnest() of key arrays as `alias`, and the condition matching it to the table's key columns. */
function keyJoin(
  table: string,
  def: TableDef,
  keys: readonly (readonly RowValue[])[],
  t: string,
  alias: string,
): { params: string[]; join: { using: string; on: string } } {
  const elements = keys.map((key) => keyElements(table, def, key));
  const params = def.key.map((_, i) => arrayLiteral(elements.map((e) => e[i] ?? null)));
  const types = def.key.map((column) => columnType(table, def, column));
  const unnest = types.map((type, i) => `$${i + 1}::text::${PARAM_ARRAY[type]}`).join(', ');
  const aliases = def.key.map((_, i) => `c${i}`).join(', ');
  const on = def.key
    .map(
      (column, i) =>
        `${t}.${ident(column)} = ${alias}.c${i}${types[i] === 'text' ? ' COLLATE "C"' : ''}`,
    )
    .join(' AND ');
  return { params, join: { using: `unnest(${unnest}) AS ${alias}(${aliases})`, on } };
}

// ---------------------------------------------------------------------------------------------
// Reads.

/** The existing rows among `keys` (any order), in one query per ROWS_PER_STATEMENT_MAX keys. */
export async function readRows(
  sql: Sql,
  table: string,
  def: TableDef,
  keys: readonly (readonly RowValue[])[],
): Promise<Row[]> {
  const unique = new Map<string, readonly RowValue[]>();
  for (const key of keys) unique.set(keyElements(table, def, key).join('\u0000'), key);
  const all = [...unique.values()];
  const rows: Row[] = [];
  for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT_MAX) {
    const { params, join } = keyJoin(
      table,
      def,
      all.slice(i, i + ROWS_PER_STATEMENT_MAX),
      't',
      'k',
    );
    const result = await sql.query(
      `SELECT ${selectList(def, 't')} FROM ${contractTableName(table)} t JOIN ${join.using} ON ${join.on}`,
      params,
    );
    for (const dbRow of result.rows) rows.push(hostRow(table, def, dbRow));
  }
  return rows;
}

/**
 * Rows whose columns equal `where` (text[] by equality of the stored array, json by jsonb
 * equality, json null as SQL NULL), ordered by primary key in byte order, at most `limit`.
 */
/** Every row of the table when it has at most `limit` rows (any order); null when it has more. */
export async function scanTable(
  sql: Sql,
  table: string,
  def: TableDef,
  limit: number,
): Promise<Row[] | null> {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new ChainError(
      'internal',
      `scanTable limit must be a non-negative integer, got ${limit}`,
      { table },
    );
  const result = await sql.query(
    `SELECT ${selectList(def, 't')} FROM ${contractTableName(table)} t LIMIT $1::text::int`,
    [String(limit + 1)],
  );
  if (result.rows.length > limit) return null;
  return result.rows.map((dbRow) => hostRow(table, def, dbRow));
}

export async function findRows(
  sql: Sql,
  table: string,
  def: TableDef,
  where: Readonly<Row>,
  limit: number,
): Promise<Row[]> {
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > FIND_ROWS_LIMIT_MAX) {
    throw new ChainError(
      'internal',
      `findRows limit must be an integer from 0 to ${FIND_ROWS_LIMIT_MAX}, got ${limit}`,
      { table },
    );
  }
  if (limit === 0) return [];
  const params: string[] = [];
  const conditions: string[] = [];
  for (const [column, value] of Object.entries(where)) {
    const type = columnType(table, def, column);
    const element = columnElement(table, column, type, value);
    if (element === null) {
      conditions.push(`${ident(column)} IS NULL`);
      continue;
    }
    params.push(type === 'text[]' ? arrayLiteral(value as string[]) : element);
    conditions.push(whereCondition(column, type, `$${params.length}`));
  }
  params.push(String(limit));
  const order = def.key
    .map((column) =>
      def.columns[column] === 'text' ? `${ident(column)} COLLATE "C"` : ident(column),
    )
    .join(', ');
  const whereSql = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  const result = await sql.query(
    `SELECT ${selectList(def, 't')} FROM ${contractTableName(table)} t${whereSql} ORDER BY ${order} LIMIT $${params.length}::text::int`,
    params,
  );
  return result.rows.map((dbRow) => hostRow(table, def, dbRow));
}

function whereCondition(column: string, type: ColumnType, param: string): string {
  switch (type) {
    case 'text':
      return `${ident(column)} = ${param}::text COLLATE "C"`;
    case 'bigint':
      return `${ident(column)} = ${param}::text::bigint`;
    case 'boolean':
      return `${ident(column)} = ${param}::text::boolean`;
    case 'text[]':
      return `${ident(column)} = ${param}::text::text[] COLLATE "C"`;
    case 'json':
      return `${ident(column)}::jsonb = ${param}::text::jsonb`;
  }
}

function selectList(def: TableDef, t: string): string {
  return Object.keys(def.columns)
    .map((column) => `${t}.${ident(column)}`)
    .join(', ');
}

/** A row as the driver returned it -> host values (bigint as JS BigInt, json null as null). */
function hostRow(table: string, def: TableDef, dbRow: Record<string, unknown>): Row {
  const row: Row = {};
  for (const [column, type] of Object.entries(def.columns)) {
    const value = dbRow[column];
    switch (type) {
      case 'bigint':
        if (typeof value === 'bigint') row[column] = value;
        else if (typeof value === 'number' || typeof value === 'string')
          row[column] = BigInt(value);
        else throw badRow(table, `column ${column} came back as ${describe(value)}`, column);
        break;
      case 'json':
        row[column] = value === undefined ? null : (value as JsonValue);
        break;
      default:
        row[column] = value as RowValue;
    }
  }
  return row;
}
