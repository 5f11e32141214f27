// Transaction signature verification inside a mirror node's worker thread (one per core, started
// by SignaturePool). The batch sits in shared memory: the worker reads its range and writes one
// result byte per transaction into the shared result buffer, so posting a task copies nothing.

import { parentPort } from 'node:worker_threads';
import { utf8Encode } from '../core/bytes.js';
import { verifyTxBytesSignature } from '../chain/tx.js';

export interface SignatureTask {
  readonly taskId: number;
  readonly chainId: string;
  /** All transactions of the batch, one after another. */
  readonly data: SharedArrayBuffer;
  /** Two u32 words per transaction: byte offset and byte length in `data`. */
  readonly index: SharedArrayBuffer;
  /** One byte per transaction; the worker sets 1 where the signature verifies. */
  readonly results: SharedArrayBuffer;
  readonly from: number;
  readonly to: number;
}

export type SignatureWorkerMessage = { readonly type: 'ready' } | { readonly type: 'done'; readonly taskId: number };

export function runSignatureTask(task: SignatureTask): void {
  const data = new Uint8Array(task.data);
  const index = new Uint32Array(task.index);
  const results = new Uint8Array(task.results);
  const prefix = utf8Encode(task.chainId);
  for (let i = task.from; i < task.to; i++) {
    const start = index[2 * i] ?? 0;
    const length = index[2 * i + 1] ?? 0;
    results[i] = verifyTxBytesSignature(prefix, data.subarray(start, start + length)) ? 1 : 0;
  }
}

// The pool imports this module only for its types, so this runs only inside a worker thread.
if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (task: SignatureTask) => {
    runSignatureTask(task);
    const done: SignatureWorkerMessage = { type: 'done', taskId: task.taskId };
    port.postMessage(done);
  });
  const ready: SignatureWorkerMessage = { type: 'ready' };
  port.postMessage(ready);
}
