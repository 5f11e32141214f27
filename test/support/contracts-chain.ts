// Test support for the contract runtime: an in-memory StateReader (with an optional delay and
// injected failures) and a tiny chain that executes blocks with a real executor and commits them
// into that reader, as the processor does with the store.

import { setTimeout as sleep } from 'node:timers/promises';
import { PrivateKey } from '../../src/core/keys.js';
import { signTx } from '../../src/chain/tx.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../../src/chain/types.js';
import type { Tx } from '../../src/chain/types.js';
import { utf8Encode } from '../../src/core/bytes.js';
import type { ContractRecord, Row, RowValue, TableDef } from '../../src/chain/contract-model.js';
import type { ContractDefinition } from '../../src/contracts/authoring/define.js';
import { createExecutor } from '../../src/contracts/runtime/executor.js';
import type { Executor } from '../../src/contracts/runtime/executor.js';
import { packContract } from '../../src/contracts/authoring/pack.js';
import { contractHashHex } from '../../src/contracts/create-payload.js';
import type { BlockExecutionResult } from '../../src/contracts/runtime/types.js';
import type { ExecutionLimits } from '../../src/contracts/limits.js';
import type { StateReader } from '../../src/contracts/runtime/ports.js';

export const CHAIN_ID = 'hanzenet-test';
export const processorKey = PrivateKey.generateNonRandom(
  utf8Encode('contracts test processor'),
  utf8Encode('salt'),
);
export const aliceKey = PrivateKey.generateNonRandom(
  utf8Encode('contracts test alice'),
  utf8Encode('salt'),
);
export const bobKey = PrivateKey.generateNonRandom(
  utf8Encode('contracts test bob'),
  utf8Encode('salt'),
);

/** Byte order of UTF-8, written independently of src/contracts/runtime/rows.ts. */
function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function compareValue(a: RowValue | undefined, b: RowValue | undefined): number {
  if (typeof a === 'string' && typeof b === 'string') return compareText(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`);
}

function idOf(_def: TableDef, values: readonly RowValue[]): string {
  return JSON.stringify(values.map((v) => (typeof v === 'bigint' ? `${v}n` : v)));
}

function sameValue(a: RowValue | undefined, b: RowValue | undefined): boolean {
  return (
    JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ===
    JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
  );
}

/** An in-memory store of contract rows and contracts. */
export class MemoryReader implements StateReader {
  readonly tables = new Map<string, Map<string, Row>>();
  contractList: ContractRecord[] = [];
  delayMs = 0;
  failReads = false;
  /**
   * Like the real store: reading a table that no committed contract declared (and nothing was
   * seeded into) fails, as "relation does not exist" does in PostgreSQL.
   */
  strictTables = false;
  reads = 0;
  finds = 0;
  scans = 0;

  private async pause(table: string): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.failReads) throw new Error('the test store is down');
    if (this.strictTables && !this.tables.has(table) && !this.defs().has(table))
      throw new Error(`relation "state.${table}" does not exist`);
  }

  async readRows(
    table: string,
    def: TableDef,
    keys: readonly (readonly RowValue[])[],
  ): Promise<Row[]> {
    this.reads += 1;
    await this.pause(table);
    const t = this.tables.get(table);
    const out: Row[] = [];
    for (const key of keys) {
      const row = t?.get(idOf(def, key));
      if (row !== undefined) out.push(structuredClone(row));
    }
    return out;
  }

  async findRows(
    table: string,
    def: TableDef,
    where: Readonly<Row>,
    limit: number,
  ): Promise<Row[]> {
    this.finds += 1;
    await this.pause(table);
    const rows = [...(this.tables.get(table)?.values() ?? [])].filter((r) =>
      Object.entries(where).every(([c, v]) => sameValue(r[c], v)),
    );
    rows.sort((a, b) => {
      for (const c of def.key) {
        const d = compareValue(a[c], b[c]);
        if (d !== 0) return d;
      }
      return 0;
    });
    return rows.slice(0, limit).map((r) => structuredClone(r));
  }

  async scanTable(table: string, _def: TableDef, limit: number): Promise<Row[] | null> {
    this.scans += 1;
    await this.pause(table);
    const rows = [...(this.tables.get(table)?.values() ?? [])];
    return rows.length > limit ? null : rows.map((r) => structuredClone(r));
  }

  async listContracts(): Promise<ContractRecord[]> {
    return structuredClone(this.contractList);
  }

  /** Stores a row directly (test setup). */
  seed(table: string, def: TableDef, row: Row): void {
    let t = this.tables.get(table);
    if (t === undefined) {
      t = new Map();
      this.tables.set(table, t);
    }
    t.set(
      idOf(
        def,
        def.key.map((c) => row[c] as RowValue),
      ),
      structuredClone(row),
    );
  }

  /** Commits a block's result, as the store does. */
  apply(result: BlockExecutionResult, height: number, defs: ReadonlyMap<string, TableDef>): void {
    for (const c of result.stateChanges) {
      const def = defs.get(c.table);
      if (def === undefined) throw new Error(`no definition for ${c.table}`);
      const id = idOf(def, c.key);
      let t = this.tables.get(c.table);
      if (t === undefined) {
        t = new Map();
        this.tables.set(c.table, t);
      }
      if (c.row === null) t.delete(id);
      else t.set(id, structuredClone(c.row));
    }
    this.contractList.push(...result.createdContracts);
    this.contractList = this.contractList.map((c) =>
      result.deletedContracts.includes(c.hashHex) ? { ...c, deletedHeight: height } : c,
    );
  }

  defs(): Map<string, TableDef> {
    const defs = new Map<string, TableDef>();
    for (const c of this.contractList)
      for (const [n, d] of Object.entries(c.manifest.tables)) if (!defs.has(n)) defs.set(n, d);
    return defs;
  }

  /** Every row of every table, for comparing two chains. */
  dump(): string {
    const tables = [...this.tables.keys()].sort();
    return JSON.stringify(
      tables.map((t) => [
        t,
        [...(this.tables.get(t)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ]),
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
    );
  }
}

let txCounter = 0;

/** A signed transaction with a deterministic id (tests must not depend on random ids). */
export function makeTx(
  key: PrivateKey,
  contractHashHex: string,
  payload: unknown,
  idHex?: string,
): Tx {
  txCounter += 1;
  const id = idHex ?? txCounter.toString(16).padStart(32, '0');
  return signTx(
    {
      idHex: id,
      contractHashHex,
      validTillMs: 0,
      payloadText: typeof payload === 'string' ? payload : JSON.stringify(payload),
    },
    key,
    CHAIN_ID,
  );
}

export function createTx<P>(
  def: ContractDefinition<P>,
  key: PrivateKey = processorKey,
): { tx: Tx; hashHex: string } {
  const packed = packContract(def);
  return { tx: makeTx(key, CREATE_CONTRACT_HASH, packed.payload), hashHex: packed.hashHex };
}

export function deleteTx(hashHex: string, key: PrivateKey = processorKey): Tx {
  return makeTx(key, DELETE_CONTRACT_HASH, { hash: hashHex });
}

export interface TestChain {
  readonly reader: MemoryReader;
  readonly executor: Executor;
  height: number;
  processedMs: number;
  previousHashHex: string;
  /** Executes and commits one block (or aborts it with commit=false). */
  run(txs: readonly Tx[], commit?: boolean): Promise<BlockExecutionResult>;
  close(): Promise<void>;
}

export async function createTestChain(
  opts: {
    inWorker?: boolean;
    limits?: Partial<ExecutionLimits>;
    reader?: MemoryReader;
    cacheRows?: number;
  } = {},
): Promise<TestChain> {
  const reader = opts.reader ?? new MemoryReader();
  const executor = await createExecutor({
    reader,
    inWorker: opts.inWorker ?? false,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.cacheRows !== undefined ? { cacheRows: opts.cacheRows } : {}),
  });
  const chain: TestChain = {
    reader,
    executor,
    height: 0,
    processedMs: 1_700_000_000_000,
    previousHashHex: '00'.repeat(32),
    async run(txs, commit = true) {
      chain.height += 1;
      chain.processedMs += 1000;
      const result = await executor.executeBlock({
        chainId: CHAIN_ID,
        processorAddress: processorKey.address,
        height: chain.height,
        processedMs: chain.processedMs,
        previousHashHex: chain.previousHashHex,
        previousProcessedMs: chain.processedMs - 1000,
        txs,
      });
      if (commit) {
        const defs = new Map([...reader.defs(), ...defsOf(result.createdContracts)]);
        reader.apply(result, chain.height, defs);
        executor.commit();
        chain.previousHashHex = result.stateDigestHex;
      } else {
        executor.abort();
        chain.height -= 1;
        chain.processedMs -= 1000;
      }
      return result;
    },
    close: () => executor.close(),
  };
  return chain;
}

function defsOf(contracts: readonly ContractRecord[]): Map<string, TableDef> {
  const defs = new Map<string, TableDef>();
  for (const c of contracts)
    for (const [n, d] of Object.entries(c.manifest.tables)) if (!defs.has(n)) defs.set(n, d);
  return defs;
}

export interface RawContract {
  readonly type: string;
  readonly code: string;
  readonly template?: Record<string, { type: string; name: string; desc: string }>;
  readonly manifest?: unknown;
}

/** A create transaction for contract code written as a string (no packContract). */
export function rawCreateTx(
  c: RawContract,
  key: PrivateKey = processorKey,
): { tx: Tx; hashHex: string } {
  const payload = {
    type: c.type,
    version: '1',
    description: c.type,
    template: JSON.stringify(c.template ?? {}),
    init: Buffer.from(c.manifest === undefined ? '' : JSON.stringify(c.manifest), 'utf8').toString(
      'base64',
    ),
    code: Buffer.from(c.code, 'utf8').toString('base64'),
  };
  return { tx: makeTx(key, CREATE_CONTRACT_HASH, payload), hashHex: contractHashHex(c.code, 1) };
}

/** Outcomes, changes and digest of a block as comparable text (BigInt written as "123n"). */
export function resultText(r: BlockExecutionResult): string {
  return JSON.stringify(
    {
      outcomes: r.outcomes,
      stateChanges: r.stateChanges,
      digest: r.stateDigestHex,
      created: r.createdContracts.map((c) => c.hashHex),
      deleted: r.deletedContracts,
    },
    (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}
