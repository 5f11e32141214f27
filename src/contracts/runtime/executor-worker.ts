// The executor worker thread: holds the block engine (QuickJS, overlay, row cache) and answers
// the main thread's requests one at a time, in the order they were sent. Its state reads block
// on the main thread (sync-read.ts). Started by createExecutor (executor.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { BlockEngine } from './engine.js';
import { BlockingSource } from './sync-read.js';
import { blockFailure } from './worker-protocol.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('executor-worker.js must run as a worker thread');
  const init = workerData as WorkerInit;
  const engine = new BlockEngine(init.contracts, init.limits, init.cacheRows, init.resident);
  const source = new BlockingSource(init.requests, init.replies, init.shared);
  const send = (reply: WorkerReply): void => port.postMessage(reply);
  let queue: Promise<void> = Promise.resolve();

  const handle = async (req: WorkerRequest): Promise<void> => {
    switch (req.kind) {
      case 'open':
        await engine.openBlock(req.header, source, req.onTopOfUncommitted);
        return;
      case 'append':
        await engine.appendTxs(req.txs);
        return;
      case 'seal':
        try {
          send({ kind: 'executed', id: req.id, ok: true, result: await engine.sealBlock() });
        } catch (err) {
          const failure = blockFailure(req.height, err);
          send({
            kind: 'executed',
            id: req.id,
            ok: false,
            code: failure.code,
            message: failure.message,
          });
        }
        return;
      case 'commit':
        engine.commit();
        return;
      case 'abort':
        engine.abort();
        return;
      case 'dropLast':
        engine.dropCurrent();
        return;
      case 'close':
        send({ kind: 'closed', id: req.id });
        port.close();
        init.requests.close();
        init.replies.close();
        return;
    }
  };

  port.on('message', (req: WorkerRequest) => {
    queue = queue
      .then(() => handle(req))
      .catch((err: unknown) => {
        // commit() or appendTxs() without a block is a bug in the caller: report it and keep serving.
        send({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
      });
  });
  send({ kind: 'ready' });
}

main();
