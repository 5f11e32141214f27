// The contract executor the processor and the mirror node use: executeBlock, then commit() or
// abort() depending on whether the block's writes were committed to the store.
//
// By default the engine (QuickJS, overlay, row cache) runs in a worker thread whose state reads
// block on this thread's StateReader (sync-read.ts). With `inWorker: false` it runs here instead;
// since a synchronous read cannot wait for an async store on the same thread, a block then runs
// speculatively: reads the cache cannot answer are collected (and answered "absent" for the
// moment), fetched in one batch, and the block is run again from scratch in a fresh sandbox until a
// run needs nothing new. Only that last run's results count, and it is the very same computation
// the worker would do, so both modes give the same outcomes.

import { Worker, MessageChannel } from 'node:worker_threads';
import { ChainError, isErrorCode } from '../../core/errors.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../../chain/types.js';
import type { Tx, TxOutcome } from '../../chain/types.js';
import type { ContractRecord, Row } from '../../chain/contract-model.js';
import { BlockEngine, engineHeaderOf, engineInputOf, engineTxOf, refuseCall } from './engine.js';
import type { EngineHeader, EngineInput, EngineTx, ResidentState } from './engine.js';
import { checkCreate, checkDelete } from './lifecycle.js';
import { tableDefsOf } from '../manifest.js';
import { DEFAULT_CACHE_ROWS } from './overlay.js';
import { serveReads } from './sync-read.js';
import { Prefetch, SpeculativeSource } from './speculative-source.js';
import { DEFAULT_EXECUTION_LIMITS } from '../limits.js';
import type { ExecutionLimits } from '../limits.js';
import type { StateReader } from './ports.js';
import type { BlockExecutionInput, BlockExecutionResult, BlockHeaderInput } from './types.js';
import { blockFailure } from './worker-protocol.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

export interface Executor {
  /**
   * Executes a block. A block executed before and neither committed nor aborted is dropped,
   * unless `onTopOfUncommitted`: then this block runs on top of it as if it were committed, and
   * commit() confirms them oldest first (the processor commits one block while it executes the
   * next). At most two blocks can be uncommitted.
   */
  executeBlock(
    input: BlockExecutionInput,
    opts?: { readonly onTopOfUncommitted?: boolean },
  ): Promise<BlockExecutionResult>;
  /**
   * The same in parts, for a block executed while it fills: openBlock, then appendTxs as
   * transactions arrive (in block order), then sealBlock for the result of them all. openBlock and
   * appendTxs return at once; any failure is reported by sealBlock. dropLast() drops an open block.
   */
  openBlock(header: BlockHeaderInput, opts?: { readonly onTopOfUncommitted?: boolean }): void;
  appendTxs(txs: readonly Tx[]): void;
  sealBlock(): Promise<BlockExecutionResult>;
  /** The oldest executed block was committed: fold its changes into the cache. */
  commit(): void;
  /** Drop every executed block that is not committed, and the cached rows they touched. */
  abort(): void;
  /** Drop the open block, else the block executed last (it will not be committed); an older uncommitted one stays. */
  dropLast(): void;
  /** Active contracts as the executor knows them, including ones created in committed blocks. */
  contracts(): ContractRecord[];
  close(): Promise<void>;
}

export interface ExecutorOptions {
  readonly reader: StateReader;
  /** Run the engine in a worker thread (default true). */
  readonly inWorker?: boolean;
  readonly limits?: Partial<ExecutionLimits>;
  /** Committed rows kept in the executor's cache (default 200,000). */
  readonly cacheRows?: number;
  /**
   * Rows of whole tables the executor may hold in memory (default 0: none). Tables that fit are
   * loaded at the start; reads of keys they lack then need no store round trip. Only for an
   * executor whose store nobody else writes to (the processor's, a node's).
   */
  readonly residentRows?: number;
}

/** The resident budget the processor and mirror nodes use. */
export const DEFAULT_RESIDENT_ROWS = 100_000;

/** Stack of the worker thread: far beyond what QuickJS's own stack limit lets a contract use. */
const WORKER_STACK_MB = 64;
/**
 * Young generation of the worker's heap. Executing a block allocates many short-lived strings and
 * objects (the values crossing the sandbox boundary); a larger nursery means fewer scavenges.
 */
const WORKER_YOUNG_GENERATION_MB = 64;
/** In-process speculative runs of one block before giving up (each run fetches all it missed). */
const SPECULATIVE_RUNS_MAX = 64;

export async function createExecutor(opts: ExecutorOptions): Promise<Executor> {
  const limits: ExecutionLimits = { ...DEFAULT_EXECUTION_LIMITS, ...definedLimits(opts.limits) };
  const cacheRows = opts.cacheRows ?? DEFAULT_CACHE_ROWS;
  const contracts = await opts.reader.listContracts();
  const resident = await loadResident(opts.reader, contracts, opts.residentRows ?? 0);
  if (opts.inWorker === false)
    return new InProcessExecutor(
      opts.reader,
      new BlockEngine(contracts, limits, cacheRows, resident),
    );
  return WorkerExecutor.start(opts.reader, contracts, limits, cacheRows, resident);
}

/** The tables that fit the resident budget together, with all their rows. */
async function loadResident(
  reader: StateReader,
  contracts: readonly ContractRecord[],
  rowsMax: number,
): Promise<ResidentState> {
  const tables: { table: string; rows: Row[] }[] = [];
  let left = rowsMax;
  if (rowsMax > 0) {
    for (const [table, def] of tableDefsOf(contracts)) {
      const rows = await reader.scanTable(table, def, left);
      if (rows === null) continue;
      tables.push({ table, rows });
      left -= rows.length;
    }
  }
  return { rowsMax, tables };
}

function definedLimits(l: Partial<ExecutionLimits> | undefined): Partial<ExecutionLimits> {
  const out: { -readonly [K in keyof ExecutionLimits]?: ExecutionLimits[K] } = {};
  if (l?.gasInterruptsPerTx !== undefined) out.gasInterruptsPerTx = l.gasInterruptsPerTx;
  if (l?.memoryBytesPerBlock !== undefined) out.memoryBytesPerBlock = l.memoryBytesPerBlock;
  return out;
}

/**
 * The processor's check at submission time: null when the transaction may be queued, else its
 * `invalid` outcome. `contracts` are the active contracts by hash (Executor.contracts()). What a
 * transaction queued earlier may still change (a table a create reads, the contract a delete
 * names) is left to the block executor, which decides in block order.
 */
export function checkAdmission(
  contracts: ReadonlyMap<string, ContractRecord>,
  tx: Tx,
  processorAddress: string,
): TxOutcome | null {
  if (tx.contractHashHex === CREATE_CONTRACT_HASH) {
    const c = checkCreate(tx, processorAddress, contracts, tableDefsOf(contracts.values()), {
      pending: true,
    });
    return c.ok ? null : c.outcome;
  }
  if (tx.contractHashHex === DELETE_CONTRACT_HASH) {
    const d = checkDelete(tx, processorAddress, contracts, { pending: true });
    return d.ok ? null : d.outcome;
  }
  const refused = refuseCall(contracts, tx);
  return 'status' in refused ? refused : null;
}

const activeOf = (all: Iterable<ContractRecord>): ContractRecord[] =>
  [...all].filter((c) => c.deletedHeight === null);

// ---------------------------------------------------------------------------------------------
// In process.

class InProcessExecutor implements Executor {
  /** A block being filled: run whole when sealed (each run may have to start over, see above). */
  private opened: { header: EngineHeader; onTopOfUncommitted: boolean; txs: EngineTx[] } | null =
    null;

  constructor(
    private readonly reader: StateReader,
    private readonly engine: BlockEngine,
  ) {}

  executeBlock(
    input: BlockExecutionInput,
    opts: { readonly onTopOfUncommitted?: boolean } = {},
  ): Promise<BlockExecutionResult> {
    this.opened = null;
    return this.run(engineInputOf(input), opts.onTopOfUncommitted === true);
  }

  openBlock(header: BlockHeaderInput, opts: { readonly onTopOfUncommitted?: boolean } = {}): void {
    this.opened = {
      header: engineHeaderOf(header),
      onTopOfUncommitted: opts.onTopOfUncommitted === true,
      txs: [],
    };
  }

  appendTxs(txs: readonly Tx[]): void {
    if (this.opened === null) throw new ChainError('internal', 'appendTxs() without an open block');
    for (const tx of txs) this.opened.txs.push(engineTxOf(tx));
  }

  sealBlock(): Promise<BlockExecutionResult> {
    const opened = this.opened;
    if (opened === null)
      return Promise.reject(new ChainError('internal', 'sealBlock() without an open block'));
    this.opened = null;
    return this.run({ ...opened.header, txs: opened.txs }, opened.onTopOfUncommitted);
  }

  private async run(
    input: EngineInput,
    onTopOfUncommitted: boolean,
  ): Promise<BlockExecutionResult> {
    const prefetch = new Prefetch();
    for (let run = 1; ; run++) {
      const source = new SpeculativeSource(prefetch);
      let result: BlockExecutionResult;
      try {
        result = await this.engine.executeBlock(input, source, onTopOfUncommitted);
      } catch (err) {
        throw blockFailure(input.height, err);
      }
      if (!source.missed) return result;
      this.engine.dropCurrent();
      if (run >= SPECULATIVE_RUNS_MAX)
        throw new ChainError(
          'internal',
          `block ${input.height}: still reading new rows after ${run} speculative runs`,
          { height: input.height },
        );
      try {
        await source.fetchMissed(this.reader);
      } catch (err) {
        throw new ChainError(
          'retry',
          `block ${input.height}: a state read failed: ${err instanceof Error ? err.message : String(err)}`,
          { height: input.height },
          { cause: err },
        );
      }
    }
  }

  commit(): void {
    this.engine.commit();
  }

  dropLast(): void {
    if (this.opened !== null) this.opened = null;
    else this.engine.dropCurrent();
  }

  abort(): void {
    this.opened = null;
    this.engine.abort();
  }

  contracts(): ContractRecord[] {
    return activeOf(this.engine.allContracts());
  }

  async close(): Promise<void> {
    this.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// Worker thread.

class WorkerExecutor implements Executor {
  private seq = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }
  >();
  private readonly all: Map<string, ContractRecord>;
  /** Executed blocks not yet committed or aborted, oldest first. */
  private uncommitted: { height: number; result: BlockExecutionResult }[] = [];
  /** Height of the open block (openBlock, not yet sealed or dropped). */
  private opened: number | null = null;
  private dead: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly closePorts: () => void,
    contracts: readonly ContractRecord[],
  ) {
    this.all = new Map(contracts.map((c) => [c.hashHex, c]));
  }

  static async start(
    reader: StateReader,
    contracts: readonly ContractRecord[],
    limits: ExecutionLimits,
    cacheRows: number,
    resident: ResidentState,
  ): Promise<WorkerExecutor> {
    const shared = new SharedArrayBuffer(8);
    const requests = new MessageChannel();
    const replies = new MessageChannel();
    const init: WorkerInit = {
      contracts,
      limits,
      cacheRows,
      resident,
      requests: requests.port1,
      replies: replies.port2,
      shared,
    };
    const worker = new Worker(new URL('./executor-worker.js', import.meta.url), {
      workerData: init,
      transferList: [requests.port1, replies.port2],
      resourceLimits: {
        stackSizeMb: WORKER_STACK_MB,
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
      },
    });
    serveReads(reader, requests.port2, replies.port1, shared);
    const closePorts = (): void => {
      requests.port2.close();
      replies.port1.close();
    };
    const executor = new WorkerExecutor(worker, closePorts, contracts);
    await executor.listen();
    return executor;
  }

  /** Wires the worker's messages; resolves when the worker is ready. */
  private listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') resolve();
        else if (reply.kind === 'failed')
          this.fail(new ChainError('internal', `executor worker: ${reply.message}`));
        else this.waiting.get(reply.id)?.resolve(reply);
      });
      const die = (err: Error): void => {
        reject(err);
        this.fail(err);
      };
      this.worker.on('error', (err) =>
        die(
          new ChainError(
            'internal',
            `the executor worker failed: ${err.message}`,
            {},
            { cause: err },
          ),
        ),
      );
      this.worker.on('exit', (code) =>
        die(new ChainError('internal', `the executor worker exited with code ${code}`)),
      );
    });
  }

  private fail(err: Error): void {
    if (this.dead === null) this.dead = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.closePorts();
  }

  private ask(request: (id: number) => WorkerRequest): Promise<WorkerReply> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (r) => {
          this.waiting.delete(id);
          resolve(r);
        },
        reject,
      });
      this.worker.postMessage(request(id));
    });
  }

  executeBlock(
    input: BlockExecutionInput,
    opts: { readonly onTopOfUncommitted?: boolean } = {},
  ): Promise<BlockExecutionResult> {
    this.openBlock(input, opts);
    this.appendTxs(input.txs);
    return this.sealBlock();
  }

  openBlock(header: BlockHeaderInput, opts: { readonly onTopOfUncommitted?: boolean } = {}): void {
    const onTopOfUncommitted = opts.onTopOfUncommitted === true && this.uncommitted.length > 0;
    if (!onTopOfUncommitted) this.uncommitted = [];
    this.opened = header.height;
    this.postUnlessDead({ kind: 'open', header: engineHeaderOf(header), onTopOfUncommitted });
  }

  appendTxs(txs: readonly Tx[]): void {
    if (this.opened === null) throw new ChainError('internal', 'appendTxs() without an open block');
    this.postUnlessDead({ kind: 'append', txs: txs.map(engineTxOf) });
  }

  async sealBlock(): Promise<BlockExecutionResult> {
    const height = this.opened;
    if (height === null) throw new ChainError('internal', 'sealBlock() without an open block');
    this.opened = null;
    const reply = await this.ask((id) => ({ kind: 'seal', id, height }));
    if (reply.kind !== 'executed')
      throw new ChainError('internal', `executor worker answered ${reply.kind} to seal`);
    if (!reply.ok)
      throw new ChainError(isErrorCode(reply.code) ? reply.code : 'internal', reply.message, {
        height,
      });
    this.uncommitted.push({ height, result: reply.result });
    return reply.result;
  }

  commit(): void {
    const last = this.uncommitted.shift();
    if (last === undefined) throw new ChainError('internal', 'commit() without an executed block');
    this.post({ kind: 'commit' });
    for (const c of last.result.createdContracts) this.all.set(c.hashHex, c);
    for (const hash of last.result.deletedContracts) {
      const c = this.all.get(hash);
      if (c !== undefined) this.all.set(hash, { ...c, deletedHeight: last.height });
    }
  }

  dropLast(): void {
    if (this.opened !== null) {
      this.opened = null;
      this.postUnlessDead({ kind: 'dropLast' });
    } else if (this.uncommitted.pop() !== undefined) {
      this.post({ kind: 'dropLast' });
    }
  }

  abort(): void {
    this.opened = null;
    this.uncommitted = [];
    // A dead worker holds no block to drop; the next executeBlock reports why it died.
    if (this.dead === null) this.post({ kind: 'abort' });
  }

  private post(req: WorkerRequest): void {
    if (this.dead !== null) throw this.dead;
    this.worker.postMessage(req);
  }

  /** For the parts of an open block: a dead worker is reported by sealBlock. */
  private postUnlessDead(req: WorkerRequest): void {
    if (this.dead === null) this.worker.postMessage(req);
  }

  contracts(): ContractRecord[] {
    return activeOf(this.all.values());
  }

  async close(): Promise<void> {
    if (this.dead === null) {
      // The worker may exit before it answers; either way it is gone afterwards.
      await this.ask((id) => ({ kind: 'close', id })).catch(() => undefined);
    }
    this.dead ??= new ChainError('shutting_down', 'the executor is closed');
    this.closePorts();
    await this.worker.terminate();
  }
}
