// The mirror node's transaction signature checks, spread over worker threads (one per core): a
// catch-up batch holds up to tens of thousands of transactions, and libsecp256k1 verifies about
// 18,000 per second per core. The batch is copied once into shared memory and split into ranges
// that idle workers take from one queue. (The processor has its own pool; processor and node
// never import each other.)

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { utf8Encode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { verifyTxBytesSignature } from '../chain/tx.js';
import type { SignatureTask, SignatureWorkerMessage } from './signature-worker.js';

/** Below this many transactions a round trip to a worker costs more than verifying here. */
export const SIGNATURES_INLINE_BELOW = 64;
export const SIGNATURE_WORKERS_MAX = 64;

interface Task {
  readonly message: SignatureTask;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  task: Task | null;
}

export class SignaturePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private closed = false;
  private nextTaskId = 1;

  private constructor(private readonly workerUrl: URL) {}

  static async start(opts: { readonly workers?: number; readonly workerUrl?: URL } = {}): Promise<SignaturePool> {
    const count = opts.workers ?? availableParallelism();
    if (!Number.isSafeInteger(count) || count < 1 || count > SIGNATURE_WORKERS_MAX) {
      throw new RangeError(`workers must be an integer from 1 to ${SIGNATURE_WORKERS_MAX}, got ${String(count)}`);
    }
    const pool = new SignaturePool(opts.workerUrl ?? new URL('./signature-worker.js', import.meta.url));
    try {
      for (let i = 0; i < count; i++) pool.slots.push(await pool.spawn());
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** One boolean per transaction, same order: does its signature verify for this chain id? */
  async verify(chainId: string, txs: readonly Uint8Array[]): Promise<boolean[]> {
    if (this.closed) throw new ChainError('shutting_down', 'the signature pool is closed');
    if (txs.length < SIGNATURES_INLINE_BELOW || this.slots.length === 0) {
      const prefix = utf8Encode(chainId);
      return txs.map((bytes) => verifyTxBytesSignature(prefix, bytes));
    }
    const { data, index } = pack(txs);
    const results = new SharedArrayBuffer(txs.length);
    const chunk = Math.max(SIGNATURES_INLINE_BELOW, Math.ceil(txs.length / (this.slots.length * 2)));
    const parts: Promise<void>[] = [];
    for (let from = 0; from < txs.length; from += chunk) {
      const message: SignatureTask = { taskId: this.nextTaskId++, chainId, data, index, results, from, to: Math.min(txs.length, from + chunk) };
      parts.push(new Promise<void>((resolve, reject) => this.queue.push({ message, resolve, reject })));
    }
    this.pump();
    await Promise.all(parts);
    return [...new Uint8Array(results)].map((r) => r === 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new ChainError('shutting_down', 'the signature pool was closed before the batch was verified');
    for (const task of this.queue.splice(0)) task.reject(stopped);
    for (const slot of this.slots) slot.task?.reject(stopped);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.task !== null) continue;
      const task = this.queue.shift();
      if (task === undefined) return;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.message);
    }
  }

  private spawn(): Promise<Slot> {
    const worker = new Worker(this.workerUrl);
    const slot: Slot = { worker, task: null };
    return new Promise((resolve, reject) => {
      const failed = (why: string): void => reject(new ChainError('internal', `a signature worker failed to start: ${why}`));
      const onError = (err: Error): void => failed(err.message);
      const onExit = (code: number): void => failed(`it exited with code ${code}`);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (m: SignatureWorkerMessage) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (m.type !== 'ready') {
          failed(`its first message was ${m.type}`);
          return;
        }
        // An idle pool must not keep the process alive; pump() refs a worker while it works.
        worker.unref();
        this.attach(slot);
        resolve(slot);
      });
    });
  }

  private attach(slot: Slot): void {
    slot.worker.on('message', (m: SignatureWorkerMessage) => {
      const task = slot.task;
      if (m.type !== 'done' || task === null || m.taskId !== task.message.taskId) return;
      slot.task = null;
      slot.worker.unref();
      task.resolve();
      this.pump();
    });
    slot.worker.on('error', () => undefined);
    slot.worker.on('exit', (code) => void this.replace(slot, code));
  }

  /** A worker died: its range fails (the caller retries the batch) and a fresh worker takes its place. */
  private async replace(slot: Slot, code: number): Promise<void> {
    if (this.closed) return;
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.task?.reject(new ChainError('internal', `a signature worker died (exit code ${code}) while verifying a batch`));
    slot.task = null;
    try {
      const fresh = await this.spawn();
      if (this.closed) await fresh.worker.terminate();
      else this.slots.push(fresh);
    } catch (err) {
      // Without a replacement the pool runs on fewer workers; with none left, later batches are
      // verified inline, and what is queued now fails (the caller retries it).
      if (this.slots.length === 0) {
        const why = new ChainError('internal', `no signature worker is left: ${(err as Error).message}`);
        for (const task of this.queue.splice(0)) task.reject(why);
      }
    }
    this.pump();
  }
}

function pack(txs: readonly Uint8Array[]): { data: SharedArrayBuffer; index: SharedArrayBuffer } {
  let total = 0;
  for (const tx of txs) total += tx.length;
  const data = new SharedArrayBuffer(total);
  const index = new SharedArrayBuffer(txs.length * 8);
  const bytes = new Uint8Array(data);
  const words = new Uint32Array(index);
  let at = 0;
  txs.forEach((tx, i) => {
    bytes.set(tx, at);
    words[2 * i] = at;
    words[2 * i + 1] = tx.length;
    at += tx.length;
  });
  return { data, index };
}
