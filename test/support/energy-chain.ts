// The energy contracts on the real engine, one call at a time, for the energy contract and property
// tests: a TestChain (real executor, ChainStore on PGlite) with the contracts installed as
// src/app/install-energy.ts does, and a block that stays open while calls go into it. Each call is
// a real signed transaction: the open block is executed again with it appended (the executor runs
// whole blocks, so this is how one call's outcome and the state after it are seen), its outcome is
// the last one, and the state the tests read is the committed tables with the open block's final
// row values on top. nextBlock() and gotoBlock() commit the open block and open the next one.
// Senders are keys; an address made by testAddress() stands for the key of that name.

import type { Row, RowValue, StateChange, TableDef } from '../../src/chain/contract-model.js';
import type { Tx, TxOutcome } from '../../src/chain/types.js';
import type { ContractDefinition } from '../../src/contracts/authoring/define.js';
import type { BlockExecutionResult, BlockHeaderInput } from '../../src/contracts/runtime/types.js';
import type { PrivateKey } from '../../src/core/keys.js';
import { ENERGY_CONTRACTS } from '../../src/energy/index.js';
import { openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/types.js';
import { TestChain, namedKey } from './test-chain.js';
import { resetDatabase } from './test-db.js';

export type Outcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'rejected'; readonly code: string; readonly message: string }
  | { readonly status: 'invalid'; readonly code: string; readonly message: string };

export type { Row };

const keysByAddress = new Map<string, PrivateKey>();

// Opening an embedded database takes a second or more, emptying one a few ms: a chain takes an
// idle database of this file's process when there is one, and gives it back when closed.
const idleDatabases: Database[] = [];
const openChains = new Set<EnergyChain>();

async function takeDatabase(): Promise<Database> {
  const db = idleDatabases.pop();
  if (db === undefined) return openDatabase({ memory: true });
  await resetDatabase(db);
  return db;
}

/** Closes the chains a test left open and the idle databases (call it in the file's after()). */
export async function closeEnergyChains(): Promise<void> {
  for (const chain of [...openChains]) await chain.close();
  for (const db of idleDatabases.splice(0)) await db.close();
}

/** The key of a name (namedKey), remembered so that its address can be given as a sender. */
export function testKey(name: string): PrivateKey {
  const key = namedKey(name);
  keysByAddress.set(key.address, key);
  return key;
}

/** The address of testKey(name). */
export function testAddress(name: string): string {
  return testKey(name).address;
}

export interface EnergyCall {
  readonly type: string;
  /** A key, or an address made by testAddress(). */
  readonly sender: string | PrivateKey;
  readonly payload: Record<string, unknown>;
}

export interface EnergyChainOptions {
  readonly contracts?: readonly ContractDefinition[];
  /** Height of the first block calls go into (default 100; at least 2: block 1 installs). */
  readonly height?: number;
  /** processedMs of that block (default 2026-01-01T10:00:00Z); the block below is 1 s earlier. */
  readonly processedMs?: number;
}

export class EnergyChain {
  private readonly hashes: Map<string, string>;
  private header: BlockHeaderInput;
  private txs: Tx[] = [];
  private result: BlockExecutionResult | null = null;
  private callCounter = 0;

  private constructor(
    readonly chain: TestChain,
    hashes: Map<string, string>,
    private readonly db: Database,
  ) {
    this.hashes = hashes;
    this.header = chain.headerAfter();
    openChains.add(this);
  }

  static async open(options: EnergyChainOptions = {}): Promise<EnergyChain> {
    const processedMs = options.processedMs ?? Date.UTC(2026, 0, 1, 10, 0, 0);
    const height = options.height ?? 100;
    if (height < 2) throw new Error(`the first block for calls must be at least 2, got ${height}`);
    // Block 1 installs; it and the empty blocks below `height` end 1 s before `processedMs`.
    const db = await takeDatabase();
    const chain = await TestChain.open({ genesisMs: processedMs - 1000 - height, db });
    let hashes: Map<string, string>;
    try {
      hashes = await chain.install(
        options.contracts ?? ENERGY_CONTRACTS,
        chain.headerAfter(height === 2 ? processedMs - 1000 : chain.head.processedMs + 1),
      );
      if (height > 2) {
        await chain.emptyBlocksUntil(height - 2);
        await chain.runBlock([], chain.headerAfter(processedMs - 1000));
      }
    } catch (err) {
      // A chain that never opened must not keep its executor's worker (and the process) alive.
      await chain.close();
      idleDatabases.push(db);
      throw err;
    }
    const energy = new EnergyChain(chain, hashes, db);
    energy.header = chain.headerAfter(processedMs);
    return energy;
  }

  get height(): number {
    return this.header.height;
  }

  get processedMs(): number {
    return this.header.processedMs;
  }

  /** The id of the last call that went into a block (calls get ids 1, 2, ... as 32 hex digits). */
  get lastTxId(): string {
    if (this.callCounter === 0) throw new Error('no call went into a block yet');
    return this.callCounter.toString(16).padStart(32, '0');
  }

  /** The hash of an installed contract type. */
  hashOf(type: string): string {
    const hash = this.hashes.get(type);
    if (hash === undefined) throw new Error(`no contract ${type}`);
    return hash;
  }

  /** Commits the open block and opens the next, `advanceMs` later. */
  async nextBlock(advanceMs = 1000): Promise<void> {
    await this.gotoBlock(this.header.height + 1, this.header.processedMs + advanceMs);
  }

  /**
   * Commits the open block and opens block `height` at `processedMs`; the blocks in between are
   * empty, 1 ms apart after the open one.
   */
  async gotoBlock(height: number, processedMs: number): Promise<void> {
    const gap = height - this.header.height - 1;
    if (gap < 0 || processedMs <= this.header.processedMs + gap) {
      throw new Error(
        `block ${height} at ${processedMs} does not follow block ${this.header.height} at ${this.header.processedMs}`,
      );
    }
    // The executor still holds the open block as last executed (or nothing, when it is empty).
    if (this.result === null) await this.chain.runBlock(this.txs, this.header);
    else await this.chain.commitExecuted(this.txs, this.header, this.result);
    this.txs = [];
    this.result = null;
    await this.chain.emptyBlocksUntil(height - 1);
    this.header = this.chain.headerAfter(processedMs);
  }

  /** Runs one contract call signed by `sender` (a key, or an address from testAddress) in the open block. */
  async execute(
    type: string,
    sender: string | PrivateKey,
    payload: Record<string, unknown>,
  ): Promise<Outcome> {
    const [outcome] = await this.executeAll([{ type, sender, payload }]);
    if (outcome === undefined) throw new Error('no outcome');
    return outcome;
  }

  /**
   * Runs calls one after the other in the open block, executing it once (a long series of calls
   * one by one would execute the growing block again for each). Calls get consecutive ids
   * 1, 2, ... in the chain; an invalid call stays out of the block and takes no id.
   */
  async executeAll(calls: readonly EnergyCall[]): Promise<Outcome[]> {
    const outcomes: (Outcome | null)[] = calls.map((c) =>
      this.hashes.has(c.type)
        ? null
        : { status: 'invalid', code: 'contract_unknown', message: `no contract ${c.type}` },
    );
    let known = calls.filter((_, i) => outcomes[i] === null);
    let run = await this.tryCalls(known);
    if (run.outcomes.some((o) => o.status === 'invalid')) {
      // Sign the valid calls again with consecutive ids and execute the block once more.
      const valid: EnergyCall[] = [];
      let k = 0;
      calls.forEach((call, i) => {
        if (outcomes[i] !== null) return;
        const o = run.outcomes[k++];
        if (o?.status === 'invalid') outcomes[i] = o;
        else valid.push(call);
      });
      known = valid;
      run = await this.tryCalls(known);
    }
    let k = 0;
    const final = outcomes.map((o) => o ?? run.outcomes[k++] ?? null);
    return this.take(run.txs, run.result, final);
  }

  /** Runs transactions signed elsewhere (with the contract hashes of hashOf) in the open block. */
  async executeTxs(txs: readonly Tx[]): Promise<Outcome[]> {
    const result = await this.chain.executor.executeBlock({
      ...this.header,
      txs: [...this.txs, ...txs],
    });
    const outcomes = result.outcomes.slice(this.txs.length);
    const kept = txs.filter((_, i) => outcomes[i]?.status !== 'invalid');
    if (kept.length === txs.length) return this.take(kept, result, outcomes);
    const again = await this.chain.executor.executeBlock({
      ...this.header,
      txs: [...this.txs, ...kept],
    });
    return this.take(kept, again, outcomes);
  }

  /** Executes the open block with `calls` appended, signed with the next ids. */
  private async tryCalls(
    calls: readonly EnergyCall[],
  ): Promise<{ txs: Tx[]; result: BlockExecutionResult; outcomes: readonly TxOutcome[] }> {
    const txs = calls.map((call, i) => {
      const key = typeof call.sender === 'string' ? keysByAddress.get(call.sender) : call.sender;
      if (key === undefined)
        throw new Error(`no key for sender ${String(call.sender)}: make it with testKey()`);
      const idHex = (this.callCounter + 1 + i).toString(16).padStart(32, '0');
      return this.chain.sign(key, this.hashOf(call.type), call.payload, idHex);
    });
    // The executor drops the block it executed before (the open block without these calls).
    const result = await this.chain.executor.executeBlock({
      ...this.header,
      txs: [...this.txs, ...txs],
    });
    return { txs, result, outcomes: result.outcomes.slice(this.txs.length) };
  }

  /** Keeps `txs` (none invalid) in the open block, whose execution with them is `result`. */
  private take(
    txs: readonly Tx[],
    result: BlockExecutionResult,
    outcomes: readonly (Outcome | TxOutcome | null | undefined)[],
  ): Outcome[] {
    this.callCounter += txs.length;
    this.txs.push(...txs);
    this.result = result;
    return outcomes.map((o) => {
      if (o === null || o === undefined) throw new Error('the executor returned too few outcomes');
      if (o.status === 'accepted') return { status: 'accepted' };
      return { status: o.status, code: o.code, message: o.message };
    });
  }

  /** All rows of a table as they stand in the open block, ordered by primary key. */
  async rows(table: string): Promise<Row[]> {
    const defs = await this.chain.tableDefs();
    const def = defs.get(table);
    if (def === undefined) throw new Error(`no table ${table}`);
    const byKey = new Map<string, Row>();
    for (const row of await this.chain.rows(table)) byKey.set(keyText(def, row), row);
    for (const change of this.changes())
      if (change.table === table) {
        const id = JSON.stringify(change.key, bigintText);
        if (change.row === null) byKey.delete(id);
        else byKey.set(id, structuredClone(change.row));
      }
    return [...byKey.values()].sort((a, b) => compareKeys(def, a, b));
  }

  /** Every table's rows as one deterministic text, for "nothing changed" comparisons. */
  async snapshot(): Promise<string> {
    const names = [...(await this.chain.tableDefs()).keys()].sort();
    const tables: [string, Row[]][] = [];
    for (const name of names) tables.push([name, await this.rows(name)]);
    return JSON.stringify(tables, bigintText);
  }

  /** Closes the executor and gives the database back (a chain closed twice is closed once). */
  async close(): Promise<void> {
    if (!openChains.delete(this)) return;
    await this.chain.close();
    idleDatabases.push(this.db);
  }

  private changes(): readonly StateChange[] {
    return this.result?.stateChanges ?? [];
  }
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

function keyText(def: TableDef, row: Row): string {
  return JSON.stringify(
    def.key.map((column) => row[column]),
    bigintText,
  );
}

/** The store's order: text as UTF-8 bytes (COLLATE "C"), numbers and booleans by value. */
function compareValues(a: RowValue | undefined, b: RowValue | undefined): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string')
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`cannot order ${typeof a} against ${typeof b}`);
}

function compareKeys(def: TableDef, a: Row, b: Row): number {
  for (const column of def.key) {
    const c = compareValues(a[column], b[column]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Throws with the code and message unless the call was accepted (for setup steps in tests). */
export function mustAccept(outcome: Outcome, what = 'call'): void {
  if (outcome.status !== 'accepted')
    throw new Error(`${what} ended ${outcome.status}: ${outcome.code}: ${outcome.message}`);
}

/** Balances of a context as short rows, ordered by trader, block, label key: for readable asserts. */
export async function balanceTable(
  chain: EnergyChain,
  context: string,
): Promise<{ trader: string; block: number; labels: string[]; wh: bigint; startMs: number }[]> {
  return (await chain.rows('energy_balances'))
    .filter((r) => r['context'] === context)
    .map((r) => ({
      trader: r['trader'] as string,
      block: Number(r['block'] as bigint),
      labels: r['labels'] as string[],
      wh: r['amount_wh'] as bigint,
      startMs: Number(r['period_start_ms'] as bigint),
    }));
}
