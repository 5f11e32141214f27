// Row values as the contract runtime handles them: checking a row, key or `where` against its
// TableDef, the canonical form of json values, key identity and key order. Pure functions.
//
// Order is the one the store uses (COLLATE "C"): text by UTF-8 bytes (= Unicode code points),
// bigint numerically, false before true, column by column in key order. Overlay rows and store
// rows are merged with it, so both sides must agree exactly.

import type { ColumnType, JsonValue, Row, RowValue, TableDef } from '../../chain/contract-model.js';
import { CONTRACT_LIMITS } from '../limits.js';

/** A value the sandbox could not express as JSON (undefined, a function, a symbol, NaN...). */
export class UnstorableValue {
  constructor(readonly what: string) {}
}

/** Why a json value cannot be stored; caught within this module and turned into a message. */
class NotStorable extends Error {}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof UnstorableValue)
  );
}

function describe(v: unknown): string {
  if (v instanceof UnstorableValue) return v.what;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'bigint') return `the BigInt ${v}n`;
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Why PostgreSQL text could not hold `s` exactly, or null. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains U+0000, which PostgreSQL text cannot hold';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

/**
 * The canonical form of a json column value: object keys in the order PostgreSQL jsonb keeps them
 * (shorter keys first, then by UTF-8 bytes), so a value reads back the same from the overlay, the
 * cache and the store. Throws NotStorable when the value cannot be stored.
 */
function canonicalJson(v: unknown, depth: number): JsonValue {
  if (depth > CONTRACT_LIMITS.jsonDepthMax)
    throw new NotStorable(`nests deeper than ${CONTRACT_LIMITS.jsonDepthMax} levels`);
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new NotStorable(`holds the number ${v}`);
    return Object.is(v, -0) ? 0 : v;
  }
  if (typeof v === 'string') {
    const p = textProblem(v);
    if (p !== null) throw new NotStorable(`holds a string that ${p}`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => canonicalJson(x, depth + 1));
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort(compareJsonbKeys);
    const out: { [k: string]: JsonValue } = {};
    for (const k of keys) {
      const p = textProblem(k);
      if (p !== null) throw new NotStorable(`holds a key that ${p}`);
      Object.defineProperty(out, k, {
        value: canonicalJson(v[k], depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw new NotStorable(`holds ${describe(v)}`);
}

function compareJsonbKeys(a: string, b: string): number {
  const la = utf8Length(a);
  const lb = utf8Length(b);
  return la !== lb ? la - lb : compareUtf8(a, b);
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Compares strings by UTF-8 bytes (= code points), not by UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800-DFFF) encode code points above FFFF: they sort after E000-FFFF in UTF-8.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Checks one column value; returns the value in its canonical form. */
export function checkColumnValue(column: string, type: ColumnType, v: unknown): Checked<RowValue> {
  const bad = (why: string): Checked<RowValue> => ({
    ok: false,
    message: `column ${column} (${type}) ${why}`,
  });
  switch (type) {
    case 'text': {
      if (typeof v !== 'string') return bad(`must be a string, got ${describe(v)}`);
      const p = textProblem(v);
      return p === null ? { ok: true, value: v } : bad(p);
    }
    case 'bigint':
      if (typeof v !== 'bigint')
        return bad(`must be a BigInt (write 5n, or BigInt(x)), got ${describe(v)}`);
      if (v < INT8_MIN || v > INT8_MAX) return bad(`must fit in 64 bits, got ${v}n`);
      return { ok: true, value: v };
    case 'boolean':
      return typeof v === 'boolean'
        ? { ok: true, value: v }
        : bad(`must be true or false, got ${describe(v)}`);
    case 'text[]': {
      if (!Array.isArray(v)) return bad(`must be an array of strings, got ${describe(v)}`);
      for (const item of v) {
        if (typeof item !== 'string') return bad(`must hold only strings, got ${describe(item)}`);
        const p = textProblem(item);
        if (p !== null) return bad(`holds a string that ${p}`);
      }
      return { ok: true, value: [...(v as string[])] };
    }
    case 'json':
      if (v === undefined) return { ok: true, value: null };
      try {
        return { ok: true, value: canonicalJson(v, 1) };
      } catch (err) {
        if (err instanceof NotStorable) return bad(err.message);
        throw err;
      }
  }
}

/** A full row: every column present with its type, no other keys. Returns the canonical row. */
export function checkRow(table: string, def: TableDef, row: unknown): Checked<Row> {
  if (!isPlainObject(row))
    return { ok: false, message: `table ${table}: a row must be an object, got ${describe(row)}` };
  for (const k of Object.keys(row)) {
    if (!Object.hasOwn(def.columns, k))
      return { ok: false, message: `table ${table} has no column ${k}` };
  }
  const out: Row = {};
  for (const [column, type] of Object.entries(def.columns)) {
    if (!Object.hasOwn(row, column) && type !== 'json') {
      return {
        ok: false,
        message: `table ${table}: the row lacks column ${column} (${type}); put() takes every column`,
      };
    }
    const c = checkColumnValue(column, type, row[column]);
    if (!c.ok) return { ok: false, message: `table ${table}: ${c.message}` };
    out[column] = c.value;
  }
  return { ok: true, value: out };
}

/** A primary key given as an object holding exactly the key columns. Returns the key values. */
export function checkKey(table: string, def: TableDef, key: unknown): Checked<RowValue[]> {
  const wanted = `exactly its key columns (${def.key.join(', ')})`;
  if (!isPlainObject(key))
    return {
      ok: false,
      message: `table ${table}: a key must be an object with ${wanted}, got ${describe(key)}`,
    };
  const names = Object.keys(key);
  if (names.length !== def.key.length || names.some((n) => !def.key.includes(n))) {
    return {
      ok: false,
      message: `table ${table}: a key must hold ${wanted}, got (${names.join(', ')})`,
    };
  }
  const values: RowValue[] = [];
  for (const column of def.key) {
    const c = checkColumnValue(column, def.columns[column] ?? 'text', key[column]);
    if (!c.ok) return { ok: false, message: `table ${table}: ${c.message}` };
    values.push(c.value);
  }
  return { ok: true, value: values };
}

/** A find() filter: columns of the table (json columns excluded) with values of their type. */
export function checkWhere(table: string, def: TableDef, where: unknown): Checked<Row> {
  if (where === undefined || where === null) return { ok: true, value: {} };
  if (!isPlainObject(where))
    return {
      ok: false,
      message: `table ${table}: find() takes an object of column values, got ${describe(where)}`,
    };
  const out: Row = {};
  for (const [column, v] of Object.entries(where)) {
    const type = def.columns[column];
    if (type === undefined || !Object.hasOwn(def.columns, column))
      return { ok: false, message: `table ${table} has no column ${column}` };
    if (type === 'json')
      return {
        ok: false,
        message: `table ${table}: find() cannot filter on json column ${column}`,
      };
    const c = checkColumnValue(column, type, v);
    if (!c.ok) return { ok: false, message: `table ${table}: ${c.message}` };
    out[column] = c.value;
  }
  return { ok: true, value: out };
}

/** A row that came from the store, in canonical form (json values reordered). */
export function canonicalStoredRow(table: string, def: TableDef, row: Row): Row {
  const c = checkRow(table, def, row);
  if (!c.ok) throw new Error(`the store returned a row that does not fit its table: ${c.message}`);
  return c.value;
}

export function keyValuesOf(def: TableDef, row: Readonly<Row>): RowValue[] {
  return def.key.map((column) => row[column] as RowValue);
}

/** A string that identifies a key within one table (key columns have fixed scalar types). */
export function keyId(values: readonly RowValue[]): string {
  let out = '';
  for (const v of values) {
    if (typeof v === 'string') out += 's' + v.length + ':' + v;
    else if (typeof v === 'bigint') out += 'n' + v.toString() + ';';
    else out += v === true ? 't' : 'f';
  }
  return out;
}

function compareScalar(a: RowValue | undefined, b: RowValue | undefined): number {
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`key values of different types cannot be ordered: ${typeof a} and ${typeof b}`);
}

/** Orders two keys of one table (values in key column order). */
export function compareKeys(a: readonly RowValue[], b: readonly RowValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareScalar(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function equalValues(a: RowValue | undefined, b: RowValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Does `row` have every column value in `where` (scalars and text[] by equality)? */
export function rowMatches(row: Readonly<Row>, where: Readonly<Row>): boolean {
  for (const [column, v] of Object.entries(where)) if (!equalValues(row[column], v)) return false;
  return true;
}
