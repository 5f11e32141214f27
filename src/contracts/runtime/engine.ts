// The block engine: executes one block's transactions in order against the state overlay and a
// fresh BlockSandbox. It runs wherever the executor puts it (its worker thread, or in process);
// all of its state reads are synchronous through a SyncStateSource.

import { ChainError } from '../../core/errors.js';
import type { InvalidCode } from '../../core/errors.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../../chain/types.js';
import type { BlockTxOutcome, Tx, TxOutcome } from '../../chain/types.js';
import type { ContractRecord, Row, RowValue, TableDef } from '../../chain/contract-model.js';
import { checkContractCode, checkCreate, checkDelete, recordOf } from './lifecycle.js';
import { tableDefsOf } from '../manifest.js';
import { ContractDb } from './contract-db.js';
import { StateOverlay } from './overlay.js';
import type { SyncStateSource } from './ports.js';
import { BlockSandbox } from './sandbox.js';
import type { CallInfo } from './sandbox.js';
import { sortStateChanges, stateDigestHex } from './digest.js';
import { checkPayload } from '../template.js';
import type { ExecutionLimits } from '../limits.js';
import type { BlockExecutionInput, BlockExecutionResult, BlockHeaderInput } from './types.js';

/** The parts of a transaction the engine uses (what crosses to the worker thread). */
export type EngineTx = Pick<Tx, 'idHex' | 'contractHashHex' | 'payloadText' | 'sender'>;

export type EngineHeader = BlockHeaderInput;

export interface EngineInput extends EngineHeader {
  readonly txs: readonly EngineTx[];
}

/** The block being filled (openBlock, appendTxs), until sealBlock. */
interface OpenBlock {
  readonly header: EngineHeader;
  readonly counting: CountingSource;
  readonly view: BlockView;
  /** Null until created, and after a failure. */
  sandbox: BlockSandbox | null;
  readonly outcomes: TxOutcome[];
  /** Time spent executing it so far, ms. */
  busyMs: number;
  /** What made it fail; sealBlock reports it. */
  failure: unknown;
  /** Whether its changes are the overlay's current block (to drop when it fails or is dropped). */
  layered: boolean;
}

/** The header fields alone (an input may carry more, which must not cross to the worker). */
export function engineHeaderOf(h: BlockHeaderInput): EngineHeader {
  return {
    chainId: h.chainId,
    processorAddress: h.processorAddress,
    height: h.height,
    processedMs: h.processedMs,
    previousHashHex: h.previousHashHex,
    previousProcessedMs: h.previousProcessedMs,
  };
}

export const engineTxOf = (tx: EngineTx): EngineTx => ({
  idHex: tx.idHex,
  contractHashHex: tx.contractHashHex,
  payloadText: tx.payloadText,
  sender: tx.sender,
});

/** What crosses to the worker of a whole block. */
export function engineInputOf(input: BlockExecutionInput): EngineInput {
  return { ...engineHeaderOf(input), txs: input.txs.map(engineTxOf) };
}

const invalid = (code: InvalidCode, message: string): TxOutcome => ({
  status: 'invalid',
  code,
  message,
});
const OK: BlockTxOutcome = { status: 'accepted', message: 'OK' };

/** Contracts and tables as one block sees them: committed ones plus this block's changes. */
interface BlockView {
  readonly known: Map<string, ContractRecord>;
  readonly defs: Map<string, TableDef>;
  readonly created: ContractRecord[];
  readonly deleted: string[];
}

/** The outcome for a transaction to a normal contract that is refused before its code runs. */
export function refuseCall(
  contracts: ReadonlyMap<string, ContractRecord>,
  tx: EngineTx,
): TxOutcome | { contract: ContractRecord; payload: Record<string, unknown> } {
  const contract = contracts.get(tx.contractHashHex);
  if (contract === undefined)
    return invalid('contract_unknown', `Contract ${tx.contractHashHex} does not exist.`);
  if (contract.deletedHeight !== null)
    return invalid(
      'contract_unknown',
      `Contract ${tx.contractHashHex} (${contract.type}) was deleted at height ${contract.deletedHeight}.`,
    );
  const checked = checkPayload(contract.template, tx.payloadText, {
    validanaVersion: contract.validanaVersion,
  });
  if (!checked.ok)
    return invalid('payload_invalid', `${checked.message} (contract ${contract.type})`);
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
  private open: OpenBlock | null = null;
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
   * Executes the block: openBlock, appendTxs, sealBlock in one step. A previous block that was
   * neither committed nor aborted is dropped first, unless `onTopOfUncommitted`: then the block
   * runs on top of it, as if it were committed (the processor commits one block while it executes
   * the next), and commit() takes them in order.
   */
  async executeBlock(
    input: EngineInput,
    source: SyncStateSource,
    onTopOfUncommitted = false,
  ): Promise<BlockExecutionResult> {
    await this.openBlock(engineHeaderOf(input), source, onTopOfUncommitted);
    await this.appendTxs(input.txs);
    return this.sealBlock();
  }

  /**
   * Starts a block whose transactions arrive in parts (appendTxs) while it fills, so that they are
   * executed by the time the block is sealed. A block still open is dropped first. Failures are
   * kept and reported by sealBlock, so that a caller can send the parts without waiting.
   */
  async openBlock(
    header: EngineHeader,
    source: SyncStateSource,
    onTopOfUncommitted = false,
  ): Promise<void> {
    if (this.open !== null) this.dropCurrent();
    const startedMs = performance.now();
    const below = onTopOfUncommitted ? this.uncommitted[this.uncommitted.length - 1] : undefined;
    const counting = new CountingSource(source);
    const base = below ?? { known: this.known, defs: this.defs };
    const view: BlockView = {
      known: new Map(base.known),
      defs: new Map(base.defs),
      created: [],
      deleted: [],
    };
    const open: OpenBlock = {
      header,
      counting,
      view,
      sandbox: null,
      outcomes: [],
      busyMs: 0,
      failure: null,
      layered: false,
    };
    try {
      if (below === undefined) this.abort(this.uncommitted.length > 0);
      else if (this.uncommitted.length > 1)
        throw new ChainError(
          'internal',
          `block ${header.height}: two executed blocks already wait for their commit`,
        );
      else this.overlay.holdBlock();
      // Tables of contracts not committed yet are not in the store: their committed rows are none.
      this.overlay.beginBlock(counting, (table) => this.defs.has(table));
      open.layered = true;
      this.open = open;
      open.sandbox = await BlockSandbox.create(this.limits);
    } catch (err) {
      this.open = open;
      this.fail(open, err);
    }
    open.busyMs += performance.now() - startedMs;
  }

  /** Executes the next transactions of the open block, in order. */
  async appendTxs(txs: readonly EngineTx[]): Promise<void> {
    const open = this.open;
    if (open === null) throw new ChainError('internal', 'appendTxs() without an open block');
    if (open.failure !== null || open.sandbox === null) return;
    const startedMs = performance.now();
    try {
      for (const tx of txs)
        open.outcomes.push(await this.executeTx(open.header, tx, open.view, open.sandbox));
    } catch (err) {
      this.fail(open, err);
    }
    open.busyMs += performance.now() - startedMs;
  }

  /** Ends the open block: its outcomes (one per appended transaction), state changes and digest. */
  async sealBlock(): Promise<BlockExecutionResult> {
    const open = this.open;
    if (open === null) throw new ChainError('internal', 'sealBlock() without an open block');
    this.open = null;
    if (open.failure !== null) throw open.failure;
    if (!open.layered) throw new ChainError('internal', `block ${open.header.height} is not open`);
    const startedMs = performance.now();
    const { view } = open;
    try {
      const stateChanges = sortStateChanges(this.overlay.blockChanges(), view.defs);
      const createdHashes = view.created.map((c) => c.hashHex);
      const stateDigest = stateDigestHex(stateChanges, view.defs, createdHashes, view.deleted);
      this.uncommitted.push(view);
      return {
        outcomes: open.outcomes,
        stateChanges,
        stateDigestHex: stateDigest,
        createdContracts: view.created,
        deletedContracts: view.deleted,
        stats: {
          executeMs: open.busyMs + performance.now() - startedMs,
          storeReads: open.counting.reads,
          storeReadMs: open.counting.readMs,
        },
      };
    } catch (err) {
      this.overlay.dropCurrent();
      throw err;
    } finally {
      open.sandbox?.dispose();
    }
  }

  /** The open block failed: its changes are dropped at once, and sealBlock reports the failure. */
  private fail(open: OpenBlock, err: unknown): void {
    if (open.failure !== null) return;
    open.failure = err;
    open.sandbox?.dispose();
    open.sandbox = null;
    if (open.layered) this.overlay.dropCurrent();
    open.layered = false;
  }

  /**
   * Forgets the open block, if any, else the block just executed (a speculative run, or one whose
   * result will not be used); an uncommitted block below it stays as it was.
   */
  dropCurrent(): void {
    const open = this.open;
    if (open !== null) {
      this.open = null;
      open.sandbox?.dispose();
      // A failed block dropped its changes when it failed.
      if (open.layered) this.overlay.dropCurrent();
      return;
    }
    if (this.uncommitted.pop() === undefined) return;
    this.overlay.dropCurrent();
  }

  private async executeTx(
    input: EngineHeader,
    tx: EngineTx,
    view: BlockView,
    sandbox: BlockSandbox,
  ): Promise<TxOutcome> {
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
      outcome = sandbox.call(
        contract,
        payload,
        info,
        new ContractDb(this.overlay, contract.type, contract.manifest, view.defs),
      );
    } catch (err) {
      this.overlay.discardTx();
      throw err;
    }
    if (outcome.status === 'accepted') this.overlay.commitTx();
    else this.overlay.discardTx();
    return outcome;
  }

  private async create(input: EngineHeader, tx: EngineTx, view: BlockView): Promise<TxOutcome> {
    const checked = checkCreate(tx, input.processorAddress, view.known, view.defs);
    if (!checked.ok) return checked.outcome;
    const { draft } = checked;
    const problem = await checkContractCode(draft.code);
    if (problem !== null)
      return invalid(
        'contract_create_invalid',
        `Invalid code for contract ${draft.type}: ${problem}.`,
      );
    const record = recordOf(draft, tx.sender, input.height);
    view.known.set(record.hashHex, record);
    for (const [name, def] of Object.entries(record.manifest.tables))
      if (!view.defs.has(name)) view.defs.set(name, def);
    view.created.push(record);
    return OK;
  }

  private delete(input: EngineHeader, tx: EngineTx, view: BlockView): TxOutcome {
    const checked = checkDelete(tx, input.processorAddress, view.known);
    if (!checked.ok) return checked.outcome;
    const record = view.known.get(checked.hashHex);
    if (record === undefined)
      throw new ChainError(
        'internal',
        `contract ${checked.hashHex} passed the delete check but is unknown`,
      );
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
    for (const [table, def] of view.defs)
      if (!this.defs.has(table)) this.overlay.makeResident(table, def, []);
    this.defs = view.defs;
    this.overlay.commitOldest();
  }

  /**
   * The last executed block was not committed: forget it. `evict` (the default) also drops the
   * cached values of the rows it touched, in case the store committed it after all; a speculative
   * rerun (executor.ts) keeps them, since nothing was ever committed.
   */
  abort(evict = true): void {
    this.open?.sandbox?.dispose();
    this.open = null;
    this.uncommitted = [];
    this.overlay.endBlock(evict);
  }

  /** Every contract the engine knows, deleted ones included. */
  allContracts(): ContractRecord[] {
    return [...this.known.values()];
  }
}
