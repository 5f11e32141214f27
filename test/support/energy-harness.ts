// An in-memory chain for the energy contract tests. It runs each contract's `execute` in Node,
// not in the QuickJS sandbox, but from the contract's *source text* (as the chain stores it), so a
// contract that leans on anything outside its own body fails here too. It keeps the rules of
// src/contracts/authoring/define.ts: tables honour their TableDef (full rows, column types,
// primary keys), find is equality-only and ordered by primary key, the manifest decides which
// tables a contract may read and write, the per-transaction limits on database calls and found
// rows hold, a rejected or throwing call changes nothing, and payloads are checked and converted
// by the template first (kwh -> bigint Wh, labels -> canonical string[]).

import { createHash } from 'node:crypto';
import type {
  ContractContext,
  ContractDefinition,
  ContractResult,
  RejectResult,
  SandboxRow,
  SandboxValue,
} from '../../src/contracts/authoring/define.js';
import type { ColumnType, TableDef, Template } from '../../src/chain/contract-model.js';
import { packContract } from '../../src/contracts/authoring/pack.js';
import { CONTRACT_LIMITS } from '../../src/contracts/limits.js';
import { ChainError } from '../../src/core/errors.js';
import { parseKwh } from '../../src/core/amount.js';
import { base58CheckDecode, base58CheckEncode } from '../../src/core/base58.js';
import { parseLabels } from '../../src/core/labels.js';
import { ENERGY_CONTRACTS } from '../../src/energy/index.js';

export type Outcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'rejected'; readonly code: string; readonly message: string }
  | { readonly status: 'invalid'; readonly code: string; readonly message: string };

export type Row = Record<string, SandboxValue>;

type Execute = (payload: unknown, ctx: ContractContext) => ContractResult;

interface Installed {
  readonly def: ContractDefinition;
  readonly execute: Execute;
  readonly readable: ReadonlySet<string>;
  readonly writable: ReadonlySet<string>;
}

/** A programmer error inside a contract that the platform reports with a code of its own. */
class PlatformError extends Error {
  constructor(
    readonly code: 'contract_access_denied' | 'contract_bad_row' | 'contract_error',
    message: string,
  ) {
    super(message);
  }
}

/** A stable, valid address for tests (base58check of version 0 and 20 bytes derived from `name`). */
export function testAddress(name: string): string {
  const digest = createHash('sha256').update(`hanzenet test key ${name}`).digest();
  return base58CheckEncode(Uint8Array.from([0, ...digest.subarray(0, 20)]));
}

/** What the template type `addr` accepts: a version-0 address with a correct checksum. */
function isAddress(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 26 || value.length > 35) return false;
  const payload = base58CheckDecode(value);
  return payload !== null && payload.length === 21 && payload[0] === 0;
}

/**
 * Compiles a function from its source text in the global scope, as the chain would run it: the
 * packed code, which holds the shared helpers the contract declares. Code that packContract
 * refuses (it uses a name defined outside execute) runs as execute's bare text, as such code
 * would if it reached the chain some other way.
 */
function compileFromSource(def: ContractDefinition): Execute {
  const source = packedOrBareSource(def);
  if (!source.startsWith('function'))
    throw new Error(
      `${def.type}: execute must be a function expression, got ${source.slice(0, 40)}`,
    );
  return new Function(`"use strict"; return (${source});`)() as Execute;
}

function packedOrBareSource(def: ContractDefinition): string {
  try {
    return Buffer.from(packContract(def).payload.code, 'base64').toString('utf8');
  } catch (err) {
    if (err instanceof ChainError && err.code === 'contract_create_invalid')
      return def.execute.toString();
    throw err;
  }
}

function keyOf(def: TableDef, row: SandboxRow): string {
  return JSON.stringify(
    def.key.map((column) => {
      const value = row[column];
      return typeof value === 'bigint' ? `${value}n` : value;
    }),
  );
}

function compareValues(a: SandboxValue | undefined, b: SandboxValue | undefined): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`cannot order ${typeof a} against ${typeof b}`);
}

/** The store's text order (COLLATE "C": UTF-8 bytes, which is Unicode code point order). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function compareKeys(def: TableDef, a: Row, b: Row): number {
  for (const column of def.key) {
    const c = compareValues(a[column], b[column]);
    if (c !== 0) return c;
  }
  return 0;
}

function fitsColumn(type: ColumnType, value: SandboxValue | undefined): boolean {
  switch (type) {
    case 'text':
      return typeof value === 'string';
    case 'bigint':
      return typeof value === 'bigint' && value >= -(2n ** 63n) && value < 2n ** 63n;
    case 'boolean':
      return typeof value === 'boolean';
    case 'text[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'json':
      return value !== undefined;
  }
}

function checkRow(table: string, def: TableDef, row: SandboxRow, columns: readonly string[]): void {
  const given = Object.keys(row).sort();
  const wanted = [...columns].sort();
  if (given.join(',') !== wanted.join(',')) {
    throw new PlatformError(
      'contract_bad_row',
      `${table}: expected columns ${wanted.join(',')}, got ${given.join(',')}`,
    );
  }
  for (const column of columns) {
    const type = def.columns[column];
    if (type === undefined || !fitsColumn(type, row[column])) {
      throw new PlatformError(
        'contract_bad_row',
        `${table}.${column}: ${String(row[column])} is not a ${type ?? 'known column'}`,
      );
    }
  }
}

/** Checks a payload against a template the way the platform does, converting kwh and labels. */
export function applyTemplate(
  template: Template,
  payload: Record<string, unknown>,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(payload)) {
    if (template[key] === undefined)
      return { ok: false, message: `Payload has extra key: ${key}.` };
  }
  for (const [key, field] of Object.entries(template)) {
    const optional = field.type.endsWith('?');
    const type = optional ? field.type.slice(0, -1) : field.type;
    const value = payload[key];
    if (value === undefined) {
      if (optional) continue;
      return { ok: false, message: `Payload is missing ${key} (${type}).` };
    }
    const converted = convertField(type, value);
    if (!converted.ok) return { ok: false, message: `Payload field ${key}: ${converted.message}` };
    out[key] = converted.value;
  }
  return { ok: true, value: out };
}

function convertField(
  type: string,
  value: unknown,
): { ok: true; value: unknown } | { ok: false; message: string } {
  if (type.endsWith('Array')) {
    if (!Array.isArray(value))
      return { ok: false, message: `expected an array of ${type.slice(0, -5)}` };
    const items: unknown[] = [];
    for (const item of value) {
      const c = convertField(type.slice(0, -5), item);
      if (!c.ok) return c;
      items.push(c.value);
    }
    return { ok: true, value: items };
  }
  const bad = { ok: false as const, message: `invalid ${type}: ${JSON.stringify(value)}` };
  switch (type) {
    case 'bool':
      return typeof value === 'boolean' ? { ok: true, value } : bad;
    case 'int':
      return Number.isSafeInteger(value) ? { ok: true, value } : bad;
    case 'uint':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? { ok: true, value } : bad;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? { ok: true, value } : bad;
    case 'addr':
      return isAddress(value) ? { ok: true, value } : bad;
    case 'kwh': {
      const parsed = parseKwh(value);
      return parsed.ok ? { ok: true, value: parsed.wh } : { ok: false, message: parsed.reason };
    }
    case 'labels': {
      const parsed = parseLabels(value);
      return parsed.ok ? { ok: true, value: parsed.labels } : { ok: false, message: parsed.reason };
    }
    case 'json':
      return { ok: true, value };
    default:
      return typeof value === 'string' ? { ok: true, value } : bad;
  }
}

export interface EnergyChainOptions {
  readonly contracts?: readonly ContractDefinition[];
  /** Height of the first block transactions go into (default 100, as in the thesis' example). */
  readonly height?: number;
  /** processedMs of that block (default 2026-01-01T10:00:00Z). */
  readonly processedMs?: number;
}

export class EnergyChain {
  readonly tableDefs = new Map<string, TableDef>();
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly contracts = new Map<string, Installed>();
  private clock: { height: number; processedMs: number; previousProcessedMs: number };
  private txCounter = 0;

  constructor(options: EnergyChainOptions = {}) {
    const processedMs = options.processedMs ?? Date.UTC(2026, 0, 1, 10, 0, 0);
    this.clock = {
      height: options.height ?? 100,
      processedMs,
      previousProcessedMs: processedMs - 1000,
    };
    for (const def of options.contracts ?? ENERGY_CONTRACTS) this.install(def);
  }

  get height(): number {
    return this.clock.height;
  }

  get processedMs(): number {
    return this.clock.processedMs;
  }

  /** Moves on to the next block, `advanceMs` later (blocks are strictly increasing in time). */
  nextBlock(advanceMs = 1000): void {
    this.gotoBlock(this.clock.height + 1, this.clock.processedMs + advanceMs);
  }

  /** Moves on to block `height` at `processedMs` (both must increase; skipped blocks were empty). */
  gotoBlock(height: number, processedMs: number): void {
    if (height <= this.clock.height || processedMs <= this.clock.processedMs) {
      throw new Error(
        `block ${height} at ${processedMs} does not follow block ${this.clock.height} at ${this.clock.processedMs}`,
      );
    }
    this.clock = { height, processedMs, previousProcessedMs: this.clock.processedMs };
  }

  /** Runs one contract call signed by `sender` in the current block. */
  execute(type: string, sender: string, payload: Record<string, unknown>): Outcome {
    const installed = this.contracts.get(type);
    if (installed === undefined)
      return { status: 'invalid', code: 'contract_unknown', message: `no contract ${type}` };
    const checked = applyTemplate(installed.def.template, payload);
    if (!checked.ok)
      return { status: 'invalid', code: 'payload_invalid', message: checked.message };
    this.txCounter += 1;
    const txId = this.txCounter.toString(16).padStart(32, '0');
    const journal: { table: string; key: string; before: Row | undefined }[] = [];
    const ctx = this.context(installed, sender, txId, journal);
    let result: ContractResult;
    try {
      result = installed.execute(checked.value, ctx);
    } catch (err) {
      this.rollBack(journal);
      if (err instanceof PlatformError)
        return { status: 'rejected', code: err.code, message: err.message };
      return {
        status: 'rejected',
        code: 'contract_error',
        message: err instanceof Error ? err.message : String(err),
      };
    }
    if (result === undefined || result === 'OK') return { status: 'accepted' };
    this.rollBack(journal);
    if (typeof result === 'string')
      return { status: 'rejected', code: 'contract_rejected', message: result };
    return { status: 'rejected', code: result.code, message: result.message };
  }

  /** All rows of a table, ordered by primary key (copies). */
  rows(table: string): Row[] {
    const def = this.tableDef(table);
    return [...(this.tables.get(table)?.values() ?? [])]
      .map((r) => structuredClone(r))
      .sort((a, b) => compareKeys(def, a, b));
  }

  /** Every table's rows as one deterministic text, for "nothing changed" comparisons. */
  snapshot(): string {
    const names = [...this.tableDefs.keys()].sort();
    return JSON.stringify(
      names.map((name) => [name, this.rows(name)]),
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
    );
  }

  private install(def: ContractDefinition): void {
    for (const [name, tableDef] of Object.entries(def.manifest.tables)) {
      const existing = this.tableDefs.get(name);
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(tableDef)) {
        throw new Error(`${def.type} defines table ${name} differently from an earlier contract`);
      }
      this.tableDefs.set(name, tableDef);
      if (!this.tables.has(name)) this.tables.set(name, new Map());
    }
    for (const name of def.manifest.reads) {
      if (!this.tableDefs.has(name))
        throw new Error(`${def.type} reads table ${name}, which no earlier contract defines`);
    }
    const writable = new Set(Object.keys(def.manifest.tables));
    const readable = new Set([...writable, ...def.manifest.reads]);
    this.contracts.set(def.type, { def, execute: compileFromSource(def), readable, writable });
  }

  private tableDef(table: string): TableDef {
    const def = this.tableDefs.get(table);
    if (def === undefined) throw new Error(`no table ${table}`);
    return def;
  }

  private context(
    installed: Installed,
    sender: string,
    txId: string,
    journal: { table: string; key: string; before: Row | undefined }[],
  ): ContractContext {
    let dbCalls = 0;
    let foundRows = 0;
    const access = (table: string, write: boolean): { def: TableDef; rows: Map<string, Row> } => {
      dbCalls += 1;
      if (dbCalls > CONTRACT_LIMITS.dbCallsPerTx) {
        throw new PlatformError(
          'contract_error',
          `${installed.def.type} made more than ${CONTRACT_LIMITS.dbCallsPerTx} ctx.db calls in one transaction`,
        );
      }
      const allowed = write ? installed.writable : installed.readable;
      if (!allowed.has(table)) {
        throw new PlatformError(
          'contract_access_denied',
          `${installed.def.type} may not ${write ? 'write' : 'read'} table ${table}`,
        );
      }
      return { def: this.tableDef(table), rows: this.tables.get(table) ?? new Map() };
    };
    const remember = (table: string, rows: Map<string, Row>, key: string): void => {
      const before = rows.get(key);
      journal.push({
        table,
        key,
        before: before === undefined ? undefined : structuredClone(before),
      });
    };
    const reject = (code: string, message: string): RejectResult => ({
      __reject: true,
      code,
      message,
    });
    return {
      sender,
      txId,
      contractHash: createHash('sha256').update(installed.def.execute.toString()).digest('hex'),
      contractType: installed.def.type,
      processor: testAddress('processor'),
      block: {
        height: this.clock.height,
        processedMs: this.clock.processedMs,
        previousProcessedMs: this.clock.previousProcessedMs,
        previousHash: '00'.repeat(32),
      },
      reject,
      db: {
        get: (table, key) => {
          const { def, rows } = access(table, false);
          checkRow(table, def, key, def.key);
          const row = rows.get(keyOf(def, key));
          return row === undefined ? null : structuredClone(row);
        },
        put: (table, row) => {
          const { def, rows } = access(table, true);
          checkRow(table, def, row, Object.keys(def.columns));
          const key = keyOf(def, row);
          remember(table, rows, key);
          rows.set(key, structuredClone(row));
        },
        delete: (table, key) => {
          const { def, rows } = access(table, true);
          checkRow(table, def, key, def.key);
          const k = keyOf(def, key);
          if (!rows.has(k)) return false;
          remember(table, rows, k);
          rows.delete(k);
          return true;
        },
        find: (table, where, limit = 1000) => {
          const { def, rows } = access(table, false);
          if (!Number.isSafeInteger(limit) || limit < 0 || limit > CONTRACT_LIMITS.findLimitMax) {
            throw new PlatformError(
              'contract_error',
              `find limit must be 0..${CONTRACT_LIMITS.findLimitMax}, got ${limit}`,
            );
          }
          for (const column of Object.keys(where)) {
            const type = def.columns[column];
            if (
              type === undefined ||
              type === 'json' ||
              type === 'text[]' ||
              !fitsColumn(type, where[column])
            ) {
              throw new PlatformError(
                'contract_bad_row',
                `${table}: cannot find by ${column} = ${String(where[column])}`,
              );
            }
          }
          const found = [...rows.values()]
            .filter((row) =>
              Object.entries(where).every(([column, value]) => row[column] === value),
            )
            .sort((a, b) => compareKeys(def, a, b))
            .slice(0, limit)
            .map((row) => structuredClone(row));
          foundRows += found.length;
          if (foundRows > CONTRACT_LIMITS.findRowsPerTx) {
            throw new PlatformError(
              'contract_error',
              `${installed.def.type} found more than ${CONTRACT_LIMITS.findRowsPerTx} rows in one transaction`,
            );
          }
          return found;
        },
      },
    };
  }

  private rollBack(
    journal: readonly { table: string; key: string; before: Row | undefined }[],
  ): void {
    for (let i = journal.length - 1; i >= 0; i -= 1) {
      const entry = journal[i];
      if (entry === undefined) continue;
      const rows = this.tables.get(entry.table);
      if (rows === undefined) continue;
      if (entry.before === undefined) rows.delete(entry.key);
      else rows.set(entry.key, entry.before);
    }
  }
}

/** Throws with the code and message unless the call was accepted (for setup steps in tests). */
export function mustAccept(outcome: Outcome, what = 'call'): void {
  if (outcome.status !== 'accepted')
    throw new Error(`${what} ended ${outcome.status}: ${outcome.code}: ${outcome.message}`);
}

/** Balances of a context as short rows, ordered by trader, block, label key: for readable asserts. */
export function balanceTable(
  chain: EnergyChain,
  context: string,
): { trader: string; block: number; labels: string[]; wh: bigint; startMs: number }[] {
  return chain
    .rows('energy_balances')
    .filter((r) => r['context'] === context)
    .map((r) => ({
      trader: r['trader'] as string,
      block: Number(r['block'] as bigint),
      labels: r['labels'] as string[],
      wh: r['amount_wh'] as bigint,
      startMs: Number(r['period_start_ms'] as bigint),
    }));
}
