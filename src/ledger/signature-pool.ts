// Transaction signature verification over worker threads, for both roles: the processor's hottest
// path (admission), and a mirror node's catch-up batches of tens of thousands of transactions.
// libsecp256k1 verifies about 18,000 per second per core, so one worker per core. A batch is copied
// once into shared memory and split into ranges; idle workers take ranges from one queue. A range
// whose worker dies is tried once more on a fresh worker.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { utf8Encode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { TX_BYTES_MAX, TX_BYTES_MIN, verifyTxBytesSignature } from '../chain/tx.js';
import type { VerifyTask, WorkerMessage } from './signature-worker.js';

export interface VerifyItem {
  readonly chainId: string;
  readonly txBytes: Uint8Array;
}

export interface SignaturePoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  readonly workers?: number;
  /** The worker script; tests pass another one to simulate crashes. */
  readonly workerUrl?: URL;
  /**
   * Batches smaller than this are verified in the calling thread. Default VERIFY_INLINE_BELOW
   * (the processor: admission batches are small and latency counts); a mirror node passes
   * SIGNATURES_INLINE_BELOW, since it verifies whole blocks and its thread is busy committing.
   */
  readonly inlineBelow?: number;
}

export interface SignaturePoolStats {
  readonly workers: number;
  /** Workers that died and were replaced since start. */
  readonly restarts: number;
  readonly queuedTasks: number;
}

/** Below this many items a round trip to a worker costs more than verifying in this thread. */
export const VERIFY_INLINE_BELOW = 16;
/** The mirror node's threshold (see SignaturePoolOptions.inlineBelow). */
export const SIGNATURES_INLINE_BELOW = 64;
export const VERIFY_BATCH_MAX = 100_000;
export const VERIFY_WORKERS_MAX = 256;
/** Must match INDEX_WORDS_PER_ITEM in signature-worker.ts (imported there as a value, here not). */
const INDEX_WORDS_PER_ITEM = 3;
/** A range is tried on a fresh worker once more if its worker dies; twice means a real bug. */
const TASK_ATTEMPTS_MAX = 2;

interface Task {
  readonly message: VerifyTask;
  attempts: number;
  readonly resolve: (results: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  lastError: Error | null;
}

export class SignaturePool {
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  readonly #workerUrl: URL;
  readonly #inlineBelow: number;
  #closed = false;
  #restarts = 0;
  #respawning = 0;
  #nextTaskId = 1;

  private constructor(workerUrl: URL, inlineBelow: number) {
    this.#workerUrl = workerUrl;
    this.#inlineBelow = inlineBelow;
  }

  /** Starts the workers and resolves once every one has loaded its code. */
  static async start(opts: SignaturePoolOptions = {}): Promise<SignaturePool> {
    const count = opts.workers ?? availableParallelism();
    if (!Number.isSafeInteger(count) || count < 1 || count > VERIFY_WORKERS_MAX) {
      const max = VERIFY_WORKERS_MAX;
      throw new RangeError(`workers must be an integer from 1 to ${max}, got ${String(count)}`);
    }
    const inlineBelow = opts.inlineBelow ?? VERIFY_INLINE_BELOW;
    if (!Number.isSafeInteger(inlineBelow) || inlineBelow < 1)
      throw new RangeError(`inlineBelow must be a positive integer, got ${String(inlineBelow)}`);
    const pool = new SignaturePool(
      opts.workerUrl ?? new URL('./signature-worker.js', import.meta.url),
      inlineBelow,
    );
    try {
      for (let i = 0; i < count; i++) pool.#slots.push(await pool.#spawn());
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /**
   * A pool without worker threads that verifies every batch in the calling thread: for the
   * deterministic simulator (src/sim), which runs every process in one thread and must not depend
   * on how threads are scheduled. Verification gives the same answers as with workers.
   */
  static inThread(): SignaturePool {
    return new SignaturePool(
      new URL('./signature-worker.js', import.meta.url),
      VERIFY_BATCH_MAX + 1,
    );
  }

  stats(): SignaturePoolStats {
    return {
      workers: this.#slots.length,
      restarts: this.#restarts,
      queuedTasks: this.#queue.length,
    };
  }

  /**
   * One boolean per item, same order: does the transaction's signature verify for its chain id?
   * Malformed bytes give false, never an error.
   */
  async verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (this.#closed) throw new ChainError('shutting_down', 'the verification pool is closed');
    if (items.length > VERIFY_BATCH_MAX) {
      throw new ChainError(
        'batch_too_large',
        `at most ${VERIFY_BATCH_MAX} transactions per verification batch, got ${items.length}`,
      );
    }
    if (items.length < this.#inlineBelow) return verifyInline(items);
    if (this.#slots.length === 0 && this.#respawning === 0) {
      throw new ChainError(
        'internal',
        'no signature worker is running (every replacement failed to start)',
      );
    }
    const batch = packBatch(items);
    const workers = Math.max(1, this.#slots.length);
    const chunk = Math.max(this.#inlineBelow, Math.ceil(items.length / (workers * 4)));
    const parts: Promise<Uint8Array>[] = [];
    for (let from = 0; from < items.length; from += chunk) {
      const to = Math.min(items.length, from + chunk);
      parts.push(this.#enqueue({ taskId: this.#nextTaskId++, ...batch, from, to }));
    }
    const results = await Promise.all(parts);
    const out: boolean[] = [];
    for (const r of results) for (const v of r) out.push(v === 1);
    return out;
  }

  /** verify() for transactions that are all of one chain (a mirror node's blocks). */
  verifyOnChain(chainId: string, txs: readonly Uint8Array[]): Promise<boolean[]> {
    return this.verify(txs.map((txBytes) => ({ chainId, txBytes })));
  }

  /** Stops every worker; pending and later verify calls fail with `shutting_down`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stopped = new ChainError(
      'shutting_down',
      'the verification pool was closed before the batch finished',
    );
    for (const task of this.#queue.splice(0)) task.reject(stopped);
    for (const slot of this.#slots) slot.task?.reject(stopped);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #enqueue(message: VerifyTask): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, attempts: 0, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (slot.task !== null) continue;
      const task = this.#queue.shift();
      if (task === undefined) return;
      task.attempts++;
      slot.task = task;
      // Keep the process alive only while a worker has work (see #spawn).
      slot.worker.ref();
      slot.worker.postMessage(task.message);
    }
  }

  #spawn(): Promise<Slot> {
    const worker = new Worker(this.#workerUrl);
    const slot: Slot = { worker, task: null, lastError: null };
    return new Promise((resolve, reject) => {
      const onStartFailure = (err: Error): void => {
        const message = `a signature worker failed to start: ${err.message}`;
        reject(new ChainError('internal', message, {}, { cause: err }));
      };
      const onEarlyExit = (code: number): void => {
        onStartFailure(new Error(`it exited with code ${code}`));
      };
      worker.once('error', onStartFailure);
      worker.once('exit', onEarlyExit);
      worker.once('message', (m: WorkerMessage) => {
        worker.off('error', onStartFailure);
        worker.off('exit', onEarlyExit);
        if (m.type !== 'ready') {
          onStartFailure(new Error(`its first message was ${m.type}, expected ready`));
          return;
        }
        // An idle pool must not keep the process alive; #pump refs a worker while it works.
        worker.unref();
        this.#attach(slot);
        resolve(slot);
      });
    });
  }

  #attach(slot: Slot): void {
    const { worker } = slot;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type !== 'result' || slot.task === null || m.taskId !== slot.task.message.taskId)
        return;
      const task = slot.task;
      slot.task = null;
      worker.unref();
      task.resolve(m.results);
      this.#pump();
    });
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', (code) => void this.#onExit(slot, code));
  }

  async #onExit(slot: Slot, code: number): Promise<void> {
    if (this.#closed) return;
    // Out of the rotation at once, so #pump never posts to a dead worker.
    this.#slots.splice(this.#slots.indexOf(slot), 1);
    const task = slot.task;
    slot.task = null;
    if (task !== null) {
      if (task.attempts < TASK_ATTEMPTS_MAX) this.#queue.unshift(task);
      else task.reject(workerDied(task, slot, code));
    }
    this.#respawning++;
    try {
      const fresh = await this.#spawn();
      this.#restarts++;
      if (this.#closed) await fresh.worker.terminate();
      else this.#slots.push(fresh);
    } catch (err) {
      // Without a replacement the pool runs on fewer workers; with none left, nothing can finish.
      if (this.#slots.length === 0) this.#failQueued(err as Error);
    } finally {
      this.#respawning--;
    }
    this.#pump();
  }

  #failQueued(cause: Error): void {
    const message = `no signature worker is left: ${cause.message}`;
    const err = new ChainError('internal', message, {}, { cause });
    for (const task of this.#queue.splice(0)) task.reject(err);
  }
}

function workerDied(task: Task, slot: Slot, code: number): ChainError {
  const why = slot.lastError?.message ?? `exit code ${code}`;
  const options = slot.lastError === null ? undefined : { cause: slot.lastError };
  return new ChainError(
    'internal',
    `signature verification failed twice because its worker died (${why})`,
    { taskId: task.message.taskId },
    options,
  );
}

function verifyInline(items: readonly VerifyItem[]): boolean[] {
  const prefixes = new Map<string, Uint8Array>();
  return items.map(({ chainId, txBytes }) => {
    let prefix = prefixes.get(chainId);
    if (prefix === undefined) prefixes.set(chainId, (prefix = utf8Encode(chainId)));
    return verifyTxBytesSignature(prefix, txBytes);
  });
}

/** Copies the batch into shared memory once; items of impossible length get length 0 (false). */
function packBatch(items: readonly VerifyItem[]): Pick<VerifyTask, 'data' | 'index' | 'prefixes'> {
  const prefixes: string[] = [];
  const prefixIndex = new Map<string, number>();
  const usable = (b: Uint8Array): boolean =>
    b instanceof Uint8Array && b.length >= TX_BYTES_MIN && b.length <= TX_BYTES_MAX;
  let total = 0;
  for (const item of items) if (usable(item.txBytes)) total += item.txBytes.length;
  const data = new SharedArrayBuffer(total);
  const index = new SharedArrayBuffer(items.length * INDEX_WORDS_PER_ITEM * 4);
  const bytes = new Uint8Array(data);
  const words = new Uint32Array(index);
  let at = 0;
  items.forEach((item, i) => {
    let p = prefixIndex.get(item.chainId);
    if (p === undefined) {
      p = prefixes.push(item.chainId) - 1;
      prefixIndex.set(item.chainId, p);
    }
    words[i * INDEX_WORDS_PER_ITEM + 2] = p;
    if (!usable(item.txBytes)) return;
    bytes.set(item.txBytes, at);
    words[i * INDEX_WORDS_PER_ITEM] = at;
    words[i * INDEX_WORDS_PER_ITEM + 1] = item.txBytes.length;
    at += item.txBytes.length;
  });
  return { data, index, prefixes };
}
