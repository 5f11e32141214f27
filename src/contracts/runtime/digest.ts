// The state digest of a block: hash256 over a canonical encoding of the rows the block changed and
// the contracts it created and deleted. docs/contract-api.md ("State digest") specifies the bytes
// so that a mirror node in any language can recompute it:
//
//   record   = u32 little-endian byte length of `json` || json (UTF-8, no whitespace)
//   rows     ["row", table, [key values], {column: value, ...} in column order | null]
//   created  ["contract_created", hash hex]   (in the order given, i.e. block order)
//   deleted  ["contract_deleted", hash hex]   (in the order given)
//   order    rows sorted by (table UTF-8 bytes, canonical key bytes), then created, then deleted
//   digest   hash256(record || record || ...), lowercase hex

import { toHex } from '../../core/bytes.js';
import { ChainError } from '../../core/errors.js';
import { hash256 } from '../../core/hash.js';
import type { Row, RowValue, StateChange, TableDef } from '../../chain/contract-model.js';
import { checkColumnValue, checkRow, compareUtf8 } from './rows.js';

const TWO_63 = 2n ** 63n;
const encoder = new TextEncoder();

/**
 * Order-preserving bytes of a key: text as UTF-8 then 0x00 (text never holds U+0000), bigint as 8
 * bytes big-endian of value + 2^63, boolean as one byte 0x00 or 0x01.
 */
export function canonicalKeyBytes(def: TableDef, key: readonly RowValue[]): Uint8Array {
  // One buffer of the largest size the key can take (UTF-8 needs at most 3 bytes per UTF-16 unit).
  let most = 0;
  for (const v of key) most += typeof v === 'string' ? v.length * 3 + 1 : 8;
  const out = new Uint8Array(most);
  const view = new DataView(out.buffer);
  let at = 0;
  def.key.forEach((column, i) => {
    const v = key[i];
    const type = def.columns[column];
    if (type === 'text' && typeof v === 'string') {
      at += encoder.encodeInto(v, out.subarray(at)).written;
      out[at++] = 0;
    } else if (type === 'bigint' && typeof v === 'bigint') {
      // setBigUint64 takes the value modulo 2^64, as the byte-wise form did.
      view.setBigUint64(at, v + TWO_63);
      at += 8;
    } else if (type === 'boolean' && typeof v === 'boolean') {
      out[at++] = v ? 1 : 0;
    } else {
      throw new ChainError('internal', `key column ${column} (${String(type)}) holds ${typeof v}`);
    }
  });
  return out.slice(0, at);
}

/** JSON.stringify of a value with bigint as a decimal string (digits and "-" need no escaping). */
function digestJson(v: RowValue): string | undefined {
  return typeof v === 'bigint' ? `"${v}"` : JSON.stringify(v);
}

/** `"column":` for each column of a table, in column order, made once per table and block. */
type ColumnPrefixes = Map<TableDef, string[]>;

function rowJson(table: string, def: TableDef, row: Row, prefixes: ColumnPrefixes): string {
  const checked = checkRow(table, def, row);
  if (!checked.ok)
    throw new ChainError('internal', `state change does not fit its table: ${checked.message}`, {
      table,
    });
  const columns = Object.keys(def.columns);
  let names = prefixes.get(def);
  if (names === undefined) {
    names = columns.map((column) => `${JSON.stringify(column)}:`);
    prefixes.set(def, names);
  }
  let out = '{';
  columns.forEach((column, i) => {
    out += `${i === 0 ? '' : ','}${names[i]}${digestJson(checked.value[column] as RowValue)}`;
  });
  return out + '}';
}

function keyJson(table: string, def: TableDef, key: readonly RowValue[]): string {
  if (key.length !== def.key.length)
    throw new ChainError(
      'internal',
      `state change key of table ${table} has ${key.length} values, the table's key ${def.key.length}`,
      { table },
    );
  const values = def.key.map((column, i) => {
    const c = checkColumnValue(column, def.columns[column] ?? 'text', key[i]);
    if (!c.ok)
      throw new ChainError('internal', `state change key of table ${table}: ${c.message}`, {
        table,
      });
    return digestJson(c.value);
  });
  return `[${values.join(',')}]`;
}

/** The records of a block's changes, in canonical order (exported for tests and docs). */
export function stateDigestRecords(
  changes: readonly StateChange[],
  defs: ReadonlyMap<string, TableDef>,
  created: readonly string[],
  deleted: readonly string[],
): string[] {
  const sorted = changes.map((c) => {
    const def = defs.get(c.table);
    if (def === undefined)
      throw new ChainError(
        'internal',
        `state change for table ${c.table}, which has no definition`,
        { table: c.table },
      );
    return { change: c, def, keyBytes: canonicalKeyBytes(def, c.key) };
  });
  sorted.sort(
    (a, b) => compareUtf8(a.change.table, b.change.table) || Buffer.compare(a.keyBytes, b.keyBytes),
  );
  const lines: string[] = [];
  const prefixes: ColumnPrefixes = new Map();
  sorted.forEach((s, i) => {
    const prev = sorted[i - 1];
    if (
      prev !== undefined &&
      prev.change.table === s.change.table &&
      Buffer.compare(prev.keyBytes, s.keyBytes) === 0
    ) {
      throw new ChainError('internal', `two state changes for one row of table ${s.change.table}`, {
        table: s.change.table,
      });
    }
    const { table, key, row } = s.change;
    lines.push(
      `["row",${JSON.stringify(table)},${keyJson(table, s.def, key)},${row === null ? 'null' : rowJson(table, s.def, row, prefixes)}]`,
    );
  });
  for (const h of created) lines.push(`["contract_created",${JSON.stringify(h)}]`);
  for (const h of deleted) lines.push(`["contract_deleted",${JSON.stringify(h)}]`);
  return lines;
}

/** Sorts state changes canonically: by table (UTF-8 bytes), then by canonical key bytes. */
export function sortStateChanges(
  changes: readonly StateChange[],
  defs: ReadonlyMap<string, TableDef>,
): StateChange[] {
  const keyed = changes.map((c) => {
    const def = defs.get(c.table);
    if (def === undefined)
      throw new ChainError(
        'internal',
        `state change for table ${c.table}, which has no definition`,
        { table: c.table },
      );
    return { c, k: canonicalKeyBytes(def, c.key) };
  });
  keyed.sort((a, b) => compareUtf8(a.c.table, b.c.table) || Buffer.compare(a.k, b.k));
  return keyed.map((x) => x.c);
}

/** hash256 of the canonical encoding of a block's changes, lowercase hex. */
export function stateDigestHex(
  changes: readonly StateChange[],
  defs: ReadonlyMap<string, TableDef>,
  created: readonly string[],
  deleted: readonly string[],
): string {
  const records = stateDigestRecords(changes, defs, created, deleted);
  // All records in one buffer of the largest size they can take (at most 3 UTF-8 bytes per UTF-16 unit).
  const all = new Uint8Array(records.reduce((n, json) => n + 4 + json.length * 3, 0));
  const view = new DataView(all.buffer);
  let at = 0;
  for (const json of records) {
    const { written } = encoder.encodeInto(json, all.subarray(at + 4));
    view.setUint32(at, written, true);
    at += 4 + written;
  }
  return toHex(hash256(all.subarray(0, at)));
}
