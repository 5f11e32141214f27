// Contract manifests: the tables a contract defines (and may write) and the tables of other
// contracts it may read. A manifest travels as JSON in the `init` field of a create payload
// (base64). A table may be defined by several contracts only with an identical definition, so a
// table has exactly one shape whoever writes it.

import type {
  ColumnType,
  ContractManifest,
  ContractRecord,
  TableDef,
} from '../chain/contract-model.js';

export const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const TABLES_PER_CONTRACT_MAX = 16;
export const COLUMNS_PER_TABLE_MAX = 32;
export const KEY_COLUMNS_MAX = 8;
export const INDEXES_PER_TABLE_MAX = 8;
export const READS_PER_CONTRACT_MAX = 32;

export const EMPTY_MANIFEST: ContractManifest = { tables: {}, reads: [] };

const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>([
  'text',
  'bigint',
  'boolean',
  'text[]',
  'json',
]);
const KEY_TYPES: ReadonlySet<ColumnType> = new Set<ColumnType>(['text', 'bigint', 'boolean']);

/** Whether a column of this type may be part of a primary key (scalars with a total order). */
export function isKeyType(type: ColumnType | undefined): boolean {
  return type !== undefined && KEY_TYPES.has(type);
}

export type ManifestCheck =
  | { ok: true; manifest: ContractManifest }
  | { ok: false; message: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(v: Record<string, unknown>, allowed: readonly string[]): string | null {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) return k;
  return null;
}

/** Parses manifest JSON text ("" means a contract without tables). */
export function parseManifest(text: string): ManifestCheck {
  if (text === '') return { ok: true, manifest: EMPTY_MANIFEST };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the manifest (init) is not JSON' };
  }
  return checkManifest(value);
}

/** Validates a parsed manifest and returns a fresh, plain copy of it. */
export function checkManifest(value: unknown): ManifestCheck {
  if (!isObject(value))
    return {
      ok: false,
      message: 'the manifest must be a JSON object {"tables": {...}, "reads": [...]}',
    };
  const extra = onlyKeys(value, ['tables', 'reads', 'budget']);
  if (extra !== null)
    return {
      ok: false,
      message: `the manifest has an unknown key ${JSON.stringify(extra)}; allowed are tables, reads and budget`,
    };
  const budget = value['budget'];
  if (budget !== undefined && budget !== 'settlement')
    return {
      ok: false,
      message: `manifest.budget must be "settlement" or left out, got ${JSON.stringify(budget)}`,
    };
  const tablesValue = value['tables'] ?? {};
  if (!isObject(tablesValue))
    return { ok: false, message: 'manifest.tables must be an object of table definitions' };
  const names = Object.keys(tablesValue);
  if (names.length > TABLES_PER_CONTRACT_MAX)
    return {
      ok: false,
      message: `the manifest defines ${names.length} tables, at most ${TABLES_PER_CONTRACT_MAX} are allowed`,
    };
  const tables: Record<string, TableDef> = {};
  for (const name of names) {
    if (!TABLE_NAME_PATTERN.test(name))
      return {
        ok: false,
        message: `table name ${JSON.stringify(name)} must match ${TABLE_NAME_PATTERN.source}`,
      };
    const def = checkTableDef(name, tablesValue[name]);
    if (typeof def === 'string') return { ok: false, message: def };
    tables[name] = def;
  }
  const readsValue = value['reads'] ?? [];
  if (!Array.isArray(readsValue))
    return { ok: false, message: 'manifest.reads must be an array of table names' };
  if (readsValue.length > READS_PER_CONTRACT_MAX)
    return {
      ok: false,
      message: `manifest.reads names ${readsValue.length} tables, at most ${READS_PER_CONTRACT_MAX} are allowed`,
    };
  const reads: string[] = [];
  for (const r of readsValue) {
    if (typeof r !== 'string' || !TABLE_NAME_PATTERN.test(r))
      return {
        ok: false,
        message: `manifest.reads holds ${JSON.stringify(r)}, which is not a table name`,
      };
    if (reads.includes(r)) return { ok: false, message: `manifest.reads names table ${r} twice` };
    if (Object.hasOwn(tables, r))
      return {
        ok: false,
        message: `table ${r} is both defined and listed under reads; defining it already grants reading`,
      };
    reads.push(r);
  }
  return {
    ok: true,
    manifest: budget === undefined ? { tables, reads } : { tables, reads, budget },
  };
}

function checkColumnList(
  table: string,
  what: string,
  list: unknown,
  columns: Record<string, ColumnType>,
): string[] | string {
  if (!Array.isArray(list) || list.length === 0)
    return `table ${table}: ${what} must be a non-empty array of column names`;
  const out: string[] = [];
  for (const c of list) {
    if (typeof c !== 'string' || !Object.hasOwn(columns, c))
      return `table ${table}: ${what} names ${JSON.stringify(c)}, which is not a column`;
    if (out.includes(c)) return `table ${table}: ${what} names column ${c} twice`;
    out.push(c);
  }
  return out;
}

/** A validated copy of one table definition, or a message saying what is wrong. */
function checkTableDef(table: string, value: unknown): TableDef | string {
  if (!isObject(value))
    return `table ${table}: the definition must be an object {columns, key, indexes?}`;
  const extra = onlyKeys(value, ['columns', 'key', 'indexes']);
  if (extra !== null)
    return `table ${table}: unknown key ${JSON.stringify(extra)}; allowed are columns, key and indexes`;
  const columnsValue = value['columns'];
  if (!isObject(columnsValue))
    return `table ${table}: columns must be an object of column name -> type`;
  const entries = Object.entries(columnsValue);
  if (entries.length === 0 || entries.length > COLUMNS_PER_TABLE_MAX)
    return `table ${table}: has ${entries.length} columns, expected 1 to ${COLUMNS_PER_TABLE_MAX}`;
  const columns: Record<string, ColumnType> = {};
  for (const [name, type] of entries) {
    if (!TABLE_NAME_PATTERN.test(name))
      return `table ${table}: column name ${JSON.stringify(name)} must match ${TABLE_NAME_PATTERN.source}`;
    if (typeof type !== 'string' || !COLUMN_TYPES.has(type))
      return `table ${table}: column ${name} has type ${JSON.stringify(type)}, expected text, bigint, boolean, text[] or json`;
    columns[name] = type as ColumnType;
  }
  const key = checkColumnList(table, 'key', value['key'], columns);
  if (typeof key === 'string') return key;
  if (key.length > KEY_COLUMNS_MAX)
    return `table ${table}: the key has ${key.length} columns, at most ${KEY_COLUMNS_MAX} are allowed`;
  for (const c of key)
    if (!isKeyType(columns[c]))
      return `table ${table}: key column ${c} is ${columns[c]}; key columns must be text, bigint or boolean`;
  if (value['indexes'] === undefined) return { columns, key };
  if (!Array.isArray(value['indexes']))
    return `table ${table}: indexes must be an array of column lists`;
  if (value['indexes'].length > INDEXES_PER_TABLE_MAX)
    return `table ${table}: has ${value['indexes'].length} indexes, at most ${INDEXES_PER_TABLE_MAX} are allowed`;
  const indexes: string[][] = [];
  for (const index of value['indexes'] as unknown[]) {
    const cols = checkColumnList(table, 'an index', index, columns);
    if (typeof cols === 'string') return cols;
    for (const c of cols)
      if (columns[c] === 'json')
        return `table ${table}: index column ${c} is json, which cannot be indexed`;
    indexes.push(cols);
  }
  return { columns, key, indexes };
}

/** The canonical JSON text of a table definition (columns in their order). */
export function tableDefJson(def: TableDef): string {
  return JSON.stringify({
    columns: def.columns,
    key: def.key,
    ...(def.indexes === undefined ? {} : { indexes: def.indexes }),
  });
}

/** The canonical JSON text of a manifest, as packContract puts it in `init`. */
export function manifestJson(m: ContractManifest): string {
  const tables = Object.entries(m.tables).map(
    ([name, def]) => `${JSON.stringify(name)}:${tableDefJson(def)}`,
  );
  const budget = m.budget === undefined ? '' : `,"budget":${JSON.stringify(m.budget)}`;
  return `{"tables":{${tables.join(',')}},"reads":${JSON.stringify(m.reads)}${budget}}`;
}

/** Identical definitions: same columns in the same order with the same types, same key, same indexes. */
export function sameTableDef(a: TableDef, b: TableDef): boolean {
  return (
    tableDefJson({ columns: a.columns, key: a.key, indexes: a.indexes ?? [] }) ===
    tableDefJson({ columns: b.columns, key: b.key, indexes: b.indexes ?? [] })
  );
}

/** Table definitions of these contracts (deleted ones included: their tables remain). First definer wins. */
export function tableDefsOf(
  contracts: Iterable<Pick<ContractRecord, 'manifest'>>,
): Map<string, TableDef> {
  const defs = new Map<string, TableDef>();
  for (const c of contracts)
    for (const [name, def] of Object.entries(c.manifest.tables))
      if (!defs.has(name)) defs.set(name, def);
  return defs;
}

/**
 * Checks a new manifest against the tables that already exist: a table defined before must be
 * defined identically, and every table under `reads` must exist. Returns a message or null.
 */
export function checkManifestAgainst(
  m: ContractManifest,
  existing: ReadonlyMap<string, TableDef>,
): string | null {
  for (const [name, def] of Object.entries(m.tables)) {
    const old = existing.get(name);
    if (old !== undefined && !sameTableDef(old, def)) {
      return `table ${name} already exists with a different definition: ${tableDefJson(old)}, the manifest gives ${tableDefJson(def)}`;
    }
  }
  for (const r of m.reads)
    if (!existing.has(r)) return `manifest.reads names table ${r}, which no contract defines`;
  return null;
}
