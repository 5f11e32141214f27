// Signature verification worker thread (one per core, started by SignaturePool). It never decodes
// payloads: hash256(chainId || bytes[4 .. L-97)) and one libsecp256k1 verify per transaction.

import { parentPort } from 'node:worker_threads';
import { utf8Encode } from '../core/bytes.js';
import { verifyTxBytesSignature } from '../chain/tx.js';

/** Words per item in the index buffer: byte offset, byte length, chain id (prefix) number. */
export const INDEX_WORDS_PER_ITEM = 3;

/** A range of one batch. Both buffers are shared, so posting a task copies nothing. */
export interface VerifyTask {
  readonly taskId: number;
  /** All transactions of the batch, one after another. */
  readonly data: SharedArrayBuffer;
  /** INDEX_WORDS_PER_ITEM u32 words per item of the batch. */
  readonly index: SharedArrayBuffer;
  readonly from: number;
  readonly to: number;
  /** Chain ids of the batch; items refer to them by position. */
  readonly prefixes: readonly string[];
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  /** One byte per item of the range: 1 = the signature verifies. */
  | { readonly type: 'result'; readonly taskId: number; readonly results: Uint8Array };

export function runTask(task: VerifyTask): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(task.data);
  const index = new Uint32Array(task.index);
  const prefixes = task.prefixes.map(utf8Encode);
  const results = new Uint8Array(task.to - task.from);
  for (let i = task.from; i < task.to; i++) {
    const start = index[i * INDEX_WORDS_PER_ITEM] ?? 0;
    const length = index[i * INDEX_WORDS_PER_ITEM + 1] ?? 0;
    const prefix = prefixes[index[i * INDEX_WORDS_PER_ITEM + 2] ?? 0];
    if (prefix === undefined) continue;
    const ok = verifyTxBytesSignature(prefix, data.subarray(start, start + length));
    results[i - task.from] = ok ? 1 : 0;
  }
  return results;
}

// The pool imports this module only for its types (erased at compile time), so this runs only
// inside a worker thread.
if (parentPort !== null) {
  const port = parentPort;
  port.on('message', (task: VerifyTask) => {
    const results = runTask(task);
    const message: WorkerMessage = { type: 'result', taskId: task.taskId, results };
    port.postMessage(message, [results.buffer]);
  });
  const ready: WorkerMessage = { type: 'ready' };
  port.postMessage(ready);
}
