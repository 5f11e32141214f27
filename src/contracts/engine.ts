// The block engine: executes one block's transactions in order against the state overlay and a
// fresh BlockSandbox. It runs wherever the executor puts it (its worker thread, or in process);
// all of its state reads are synchronous through a SyncStateSource.

import { ChainError } from '../core/errors.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../core/types.js';
import type { BlockTxOutcome, Tx, TxOutcome } from '../core/types.js';
import type { ContractRecord, Row, RowValue, TableDef } from '../store/types.js';
import { checkContractCode, checkCreate, checkDelete, recordOf } from './lifecycle.js';
import { tableDefsOf } from './manifest.js';
import { ContractDb, StateOverlay } from './overlay.js';
import type { SyncStateSource } from './overlay.js';
import { BlockSandbox } from './sandbox.js';
import type { CallInfo } from './sandbox.js';
import { sortStateChanges, stateDigestHex } from './state-digest.js';
import { checkPayload } from './template.js';
import type { BlockExecutionInput, BlockExecutionResult, ExecutionLimits } from './types.js';

/** The parts of a transaction the engine uses (what crosses to the worker thread). */
export type EngineTx = Pick<Tx, 'idHex' | 'contractHashHex' | 'payloadText' | 'sender'>;

export interface EngineInput extends Omit<BlockExecutionInput, 'txs'> {
  readonly txs: readonly EngineTx[];
}

export function engineInputOf(input: BlockExecutionInput): EngineInput {
  return {
    chainId: input.chainId,
    processorAddress: input.processorAddress,
    height: input.height,
    processedMs: input.processedMs,
    previousHashHex: input.previousHashHex,
    previousProcessedMs: input.previousProcessedMs,
    txs: input.txs.map((tx) => ({ idHex: tx.idHex, contractHashHex: tx.contractHashHex, payloadText: tx.payloadText, sender: tx.sender })),
  };
}

const invalid = (code: string, message: string): TxOutcome => ({ status: 'invalid', code, message });
const OK: BlockTxOutcome = { status: 'accepted', message: 'OK' };

/** Contracts and tables as one block sees them: committed ones plus this block's changes. */
interface BlockView {
  readonly known: Map<string, ContractRecord>;
  readonly defs: Map<string, TableDef>;
  readonly created: ContractRecord[];
  readonly deleted: string[];
}

/** The outcome for a transaction to a normal contract that is refused before its code runs. */
export function refuseCall(contracts: ReadonlyMap<string, ContractRecord>, tx: EngineTx): TxOutcome | { contract: ContractRecord; payload: Record<string, unknown> } {
  const contract = contracts.get(tx.contractHashHex);
  if (contract === undefined) return invalid('contract_unknown', `Contract ${tx.contractHashHex} does not exist.`);
  if (contract.deletedHeight !== null) return invalid('contract_unknown', `Contract ${tx.contractHashHex} (${contract.type}) was deleted at height ${contract.deletedHeight}.`);
  const checked = checkPayload(contract.template, tx.payloadText, { validanaVersion: contract.validanaVersion });
  if (!checked.ok) return invalid('payload_invalid', `${checked.message} (contract ${contract.type})`);
  return { contract, payload: checked.payload };
}

/** Tables to hold in memory whole from the start (StateOverlay.makeResident), and the row budget. */
export interface ResidentState {
  readonly rowsMax: number;
  readonly tables: readonly { readonly table: string; readonly rows: readonly Row[] }[];
}

/** Counts the reads that reach the store and the time spent waiting for them. */
class CountingSource implements SyncStateSource {
  reads = 0;
  readMs = 0;

  constructor(private readonly inner: SyncStateSource) {}

  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] | null {
    const started = performance.now();
    try {
      return this.inner.readRows(table, def, keys);
    } finally {
      this.reads += 1;
      this.readMs += performance.now() - started;
    }
  }

  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] | null {
    const started = performance.now();
    try {
      return this.inner.findRows(table, def, where, limit);
    } finally {
      this.reads += 1;
      this.readMs += performance.now() - started;
    }
  }
}

export class BlockEngine {
  private readonly known: Map<string, ContractRecord>;
  private defs: Map<string, TableDef>;
  /** Executed blocks not yet committed or aborted, oldest first: at most a held one and the current one. */
  private uncommitted: BlockView[] = [];
  readonly overlay: StateOverlay;

  constructor(
    contracts: readonly ContractRecord[],
    private readonly limits: ExecutionLimits,
    cacheRows?: number,
    resident: ResidentState = { rowsMax: 0, tables: [] },
  ) {
    this.known = new Map(contracts.map((c) => [c.hashHex, c]));
    this.defs = tableDefsOf(contracts);
    this.overlay = new StateOverlay(cacheRows, resident.rowsMax);
    for (const { table, rows } of resident.tables) {
      const def = this.defs.get(table);
      if (def !== undefined) this.overlay.makeResident(table, def, rows);
    }
  }

  /**
   * Executes the block. A previous block that was neither committed nor aborted is dropped first,
   * unless `onTopOfUncommitted`: then the block runs on top of it, as if it were committed (the
   * processor commits one block while it executes the next), and commit() takes them in order.
   */
  async executeBlock(input: EngineInput, source: SyncStateSource, onTopOfUncommitted = false): Promise<BlockExecutionResult> {
    const startedMs = performance.now();
    const below = onTopOfUncommitted ? this.uncommitted[this.uncommitted.length - 1] : undefined;
    if (below === undefined) this.abort(this.uncommitted.length > 0);
    else if (this.uncommitted.length > 1) throw new ChainError('internal', `block ${input.height}: two executed blocks already wait for their commit`);
    else this.overlay.holdBlock();
    const counting = new CountingSource(source);
    this.overlay.beginBlock(counting);
    const base = below ?? { known: this.known, defs: this.defs };
    const view: BlockView = { known: new Map(base.known), defs: new Map(base.defs), created: [], deleted: [] };
    const sandbox = await BlockSandbox.create(this.limits);
    try {
      const outcomes: TxOutcome[] = [];
      for (const tx of input.txs) outcomes.push(await this.executeTx(input, tx, view, sandbox));
      const stateChanges = sortStateChanges(this.overlay.blockChanges(), view.defs);
      const createdHashes = view.created.map((c) => c.hashHex);
      this.uncommitted.push(view);
      return {
        outcomes,
        stateChanges,
        stateDigestHex: stateDigestHex(stateChanges, view.defs, createdHashes, view.deleted),
        createdContracts: view.created,
        deletedContracts: view.deleted,
        stats: { executeMs: performance.now() - startedMs, storeReads: counting.reads, storeReadMs: counting.readMs },
      };
    } catch (err) {
      this.overlay.dropCurrent();
      throw err;
    } finally {
      sandbox.dispose();
    }
  }

  /**
   * Forgets the block just executed (a speculative run, or one whose result will not be used);
   * an uncommitted block below it stays as it was.
   */
  dropCurrent(): void {
    if (this.uncommitted.pop() === undefined) return;
    this.overlay.dropCurrent();
  }

  private async executeTx(input: EngineInput, tx: EngineTx, view: BlockView, sandbox: BlockSandbox): Promise<TxOutcome> {
    if (tx.contractHashHex === CREATE_CONTRACT_HASH) return this.create(input, tx, view);
    if (tx.contractHashHex === DELETE_CONTRACT_HASH) return this.delete(input, tx, view);
    const refused = refuseCall(view.known, tx);
    if ('status' in refused) return refused;
    const { contract, payload } = refused;
    const info: CallInfo = {
      sender: tx.sender,
      txId: tx.idHex,
      contractHash: contract.hashHex,
      contractType: contract.type,
      processor: input.processorAddress,
      height: input.height,
      processedMs: input.processedMs,
      previousProcessedMs: input.previousProcessedMs,
      previousHash: input.previousHashHex,
    };
    let outcome: BlockTxOutcome;
    try {
      outcome = sandbox.call(contract, payload, info, new ContractDb(this.overlay, contract.type, contract.manifest, view.defs));
    } catch (err) {
      this.overlay.discardTx();
      throw err;
    }
    if (outcome.status === 'accepted') this.overlay.commitTx();
    else this.overlay.discardTx();
    return outcome;
  }

  private async create(input: EngineInput, tx: EngineTx, view: BlockView): Promise<TxOutcome> {
    const checked = checkCreate(tx, input.processorAddress, view.known, view.defs);
    if (!checked.ok) return checked.outcome;
    const { draft } = checked;
    const problem = await checkContractCode(draft.code);
    if (problem !== null) return invalid('contract_create_invalid', `Invalid code for contract ${draft.type}: ${problem}.`);
    const record = recordOf(draft, tx.sender, input.height);
    view.known.set(record.hashHex, record);
    for (const [name, def] of Object.entries(record.manifest.tables)) if (!view.defs.has(name)) view.defs.set(name, def);
    view.created.push(record);
    return OK;
  }

  private delete(input: EngineInput, tx: EngineTx, view: BlockView): TxOutcome {
    const checked = checkDelete(tx, input.processorAddress, view.known);
    if (!checked.ok) return checked.outcome;
    const record = view.known.get(checked.hashHex);
    if (record === undefined) throw new ChainError('internal', `contract ${checked.hashHex} passed the delete check but is unknown`);
    view.known.set(record.hashHex, { ...record, deletedHeight: input.height });
    view.deleted.push(record.hashHex);
    return OK;
  }

  /** The oldest uncommitted block was committed: its contracts and rows become committed state. */
  commit(): void {
    const view = this.uncommitted.shift();
    if (view === undefined) throw new ChainError('internal', 'commit() without an executed block');
    for (const [hash, record] of view.known) this.known.set(hash, record);
    // A table this block created was empty before it: it can be held whole from the start.
    for (const [table, def] of view.defs) if (!this.defs.has(table)) this.overlay.makeResident(table, def, []);
    this.defs = view.defs;
    this.overlay.commitOldest();
  }

  /**
   * The last executed block was not committed: forget it. `evict` (the default) also drops the
   * cached values of the rows it touched, in case the store committed it after all; a speculative
   * rerun (executor.ts) keeps them, since nothing was ever committed.
   */
  abort(evict = true): void {
    this.uncommitted = [];
    this.overlay.endBlock(evict);
  }

  /** Every contract the engine knows, deleted ones included. */
  allContracts(): ContractRecord[] {
    return [...this.known.values()];
  }
}
