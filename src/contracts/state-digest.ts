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

import { toHex, utf8Encode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { hash256 } from '../core/hash.js';
import type { JsonValue, Row, RowValue, StateChange, TableDef } from '../store/types.js';
import { checkColumnValue, checkRow, compareUtf8 } from './rows.js';

const TWO_63 = 2n ** 63n;

/**
 * Order-preserving bytes of a key: text as UTF-8 then 0x00 (text never holds U+0000), bigint as 8
 * bytes big-endian of value + 2^63, boolean as one byte 0x00 or 0x01.
 */
export function canonicalKeyBytes(def: TableDef, key: readonly RowValue[]): Uint8Array {
  const parts: number[] = [];
  def.key.forEach((column, i) => {
    const v = key[i];
    const type = def.columns[column];
    if (type === 'text' && typeof v === 'string') {
      for (const b of utf8Encode(v)) parts.push(b);
      parts.push(0);
    } else if (type === 'bigint' && typeof v === 'bigint') {
      let u = v + TWO_63;
      const bytes: number[] = [];
      for (let j = 0; j < 8; j++) {
        bytes.unshift(Number(u & 0xffn));
        u >>= 8n;
      }
      parts.push(...bytes);
    } else if (type === 'boolean' && typeof v === 'boolean') {
      parts.push(v ? 1 : 0);
    } else {
      throw new ChainError('internal', `key column ${column} (${String(type)}) holds ${typeof v}`);
    }
  });
  return Uint8Array.from(parts);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

function digestValue(v: RowValue): JsonValue {
  return typeof v === 'bigint' ? v.toString() : (v as JsonValue);
}

function rowJson(table: string, def: TableDef, row: Row): string {
  const checked = checkRow(table, def, row);
  if (!checked.ok) throw new ChainError('internal', `state change does not fit its table: ${checked.message}`, { table });
  const parts = Object.keys(def.columns).map((column) => `${JSON.stringify(column)}:${JSON.stringify(digestValue(checked.value[column] as RowValue))}`);
  return `{${parts.join(',')}}`;
}

function keyJson(table: string, def: TableDef, key: readonly RowValue[]): string {
  if (key.length !== def.key.length) throw new ChainError('internal', `state change key of table ${table} has ${key.length} values, the table's key ${def.key.length}`, { table });
  const values = def.key.map((column, i) => {
    const c = checkColumnValue(column, def.columns[column] ?? 'text', key[i]);
    if (!c.ok) throw new ChainError('internal', `state change key of table ${table}: ${c.message}`, { table });
    return JSON.stringify(digestValue(c.value));
  });
  return `[${values.join(',')}]`;
}

function record(json: string): Uint8Array {
  const body = utf8Encode(json);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

/** The records of a block's changes, in canonical order (exported for tests and docs). */
export function stateDigestRecords(changes: readonly StateChange[], defs: ReadonlyMap<string, TableDef>, created: readonly string[], deleted: readonly string[]): string[] {
  const sorted = changes.map((c) => {
    const def = defs.get(c.table);
    if (def === undefined) throw new ChainError('internal', `state change for table ${c.table}, which has no definition`, { table: c.table });
    return { change: c, def, keyBytes: canonicalKeyBytes(def, c.key) };
  });
  sorted.sort((a, b) => compareUtf8(a.change.table, b.change.table) || compareBytes(a.keyBytes, b.keyBytes));
  const lines: string[] = [];
  sorted.forEach((s, i) => {
    const prev = sorted[i - 1];
    if (prev !== undefined && prev.change.table === s.change.table && compareBytes(prev.keyBytes, s.keyBytes) === 0) {
      throw new ChainError('internal', `two state changes for one row of table ${s.change.table}`, { table: s.change.table });
    }
    const { table, key, row } = s.change;
    lines.push(`["row",${JSON.stringify(table)},${keyJson(table, s.def, key)},${row === null ? 'null' : rowJson(table, s.def, row)}]`);
  });
  for (const h of created) lines.push(`["contract_created",${JSON.stringify(h)}]`);
  for (const h of deleted) lines.push(`["contract_deleted",${JSON.stringify(h)}]`);
  return lines;
}

/** Sorts state changes canonically: by table (UTF-8 bytes), then by canonical key bytes. */
export function sortStateChanges(changes: readonly StateChange[], defs: ReadonlyMap<string, TableDef>): StateChange[] {
  const keyed = changes.map((c) => {
    const def = defs.get(c.table);
    if (def === undefined) throw new ChainError('internal', `state change for table ${c.table}, which has no definition`, { table: c.table });
    return { c, k: canonicalKeyBytes(def, c.key) };
  });
  keyed.sort((a, b) => compareUtf8(a.c.table, b.c.table) || compareBytes(a.k, b.k));
  return keyed.map((x) => x.c);
}

/** hash256 of the canonical encoding of a block's changes, lowercase hex. */
export function stateDigestHex(changes: readonly StateChange[], defs: ReadonlyMap<string, TableDef>, created: readonly string[], deleted: readonly string[]): string {
  const records = stateDigestRecords(changes, defs, created, deleted).map(record);
  const total = records.reduce((n, r) => n + r.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const r of records) {
    all.set(r, at);
    at += r.length;
  }
  return toHex(hash256(all));
}
