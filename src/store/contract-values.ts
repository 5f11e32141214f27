// Row values of contract tables between the host and SQL: each value checked against its
// column's type (and PostgreSQL's limits: no U+0000 in text, 64-bit bigint, JSON without unpaired
// surrogates) and turned into the text a parameter carries, so that a bad row is refused with its
// table and column named before anything is written.

import { ChainError } from '../core/errors.js';
import type { ColumnType, Row, RowValue, TableDef } from '../chain/contract-model.js';

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function badRow(table: string, message: string, column?: string): ChainError {
  return new ChainError(
    'contract_bad_row',
    `table ${table}: ${message}`,
    column === undefined ? { table } : { table, column },
  );
}

/** Why PostgreSQL cannot store `value` as text unchanged (U+0000, unpaired surrogates), or null. */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000'))
    return 'contains the character U+0000, which PostgreSQL text cannot hold';
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

/** The literal element of one column value; throws contract_bad_row when it does not fit. */
export function columnElement(
  table: string,
  column: string,
  type: ColumnType,
  value: RowValue | undefined,
): string | null {
  const fail = (why: string): never => {
    throw badRow(table, `column ${column} (${type}) ${why}`, column);
  };
  if (value === undefined) {
    if (type === 'json') return null;
    return fail('is missing');
  }
  switch (type) {
    case 'text': {
      if (typeof value !== 'string') return fail(`must be a string, got ${describe(value)}`);
      const problem = textProblem(value);
      return problem === null ? value : fail(problem);
    }
    case 'bigint':
      if (typeof value !== 'bigint') return fail(`must be a bigint, got ${describe(value)}`);
      if (value < INT8_MIN || value > INT8_MAX)
        return fail(`is outside the 64-bit range: ${value}`);
      return value.toString();
    case 'boolean':
      if (typeof value !== 'boolean') return fail(`must be a boolean, got ${describe(value)}`);
      return value ? 'true' : 'false';
    case 'text[]': {
      if (!Array.isArray(value)) return fail(`must be an array of strings, got ${describe(value)}`);
      for (const item of value) {
        if (typeof item !== 'string') return fail(`must hold only strings, got ${describe(item)}`);
        const problem = textProblem(item);
        if (problem !== null) return fail(`element ${JSON.stringify(item)} ${problem}`);
      }
      return JSON.stringify(value);
    }
    case 'json':
      return jsonElement(value, fail);
  }
}

export function jsonElement(value: RowValue, fail: (why: string) => never): string | null {
  if (value === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value) as string | undefined;
  } catch (err) {
    return fail(`is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text === undefined) return fail(`is not JSON: ${describe(value)}`);
  if (LONE_SURROGATE.test(text)) return fail('contains an unpaired UTF-16 surrogate');
  return text;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Why `row` does not fit `def` (missing or extra columns, wrong types), or null when it fits. */
export function rowProblem(table: string, def: TableDef, row: Readonly<Row>): string | null {
  try {
    checkRow(table, def, row);
    return null;
  } catch (err) {
    if (err instanceof ChainError && err.code === 'contract_bad_row') return err.message;
    throw err;
  }
}

/** Throws contract_bad_row when `row` does not fit `def`. */
export function checkRow(table: string, def: TableDef, row: Readonly<Row>): void {
  for (const [column, type] of Object.entries(def.columns))
    columnElement(table, column, type, row[column]);
  assertKnownColumns(table, def, row);
}

export function assertKnownColumns(table: string, def: TableDef, row: Readonly<Row>): void {
  for (const column of Object.keys(row)) {
    if (def.columns[column] === undefined)
      throw badRow(table, `column ${column} is not in the table`, column);
  }
}

export function keyElements(
  table: string,
  def: TableDef,
  key: readonly RowValue[],
): (string | null)[] {
  if (key.length !== def.key.length) {
    throw badRow(
      table,
      `a key has ${key.length} values, the table's key has ${def.key.length} columns`,
    );
  }
  return def.key.map((column, i) =>
    columnElement(table, column, columnType(table, def, column), key[i]),
  );
}

export function columnType(table: string, def: TableDef, column: string): ColumnType {
  const type = def.columns[column];
  if (type === undefined) throw badRow(table, `column ${column} is not in the table`, column);
  return type;
}

// ---------------------------------------------------------------------------------------------
// Writes.
