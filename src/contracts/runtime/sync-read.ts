// Synchronous state reads for the executor worker. QuickJS calls ctx.db synchronously, but the
// store is async and lives in the main thread. The worker posts {id, method, args} on one port and
// blocks in Atomics.wait; the main thread runs the StateReader call, posts the reply on a second
// port and wakes the worker (Atomics.store + notify); the worker takes the reply with
// receiveMessageOnPort. Values travel by structured clone, which keeps BigInt.

import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Row, RowValue, TableDef } from '../../chain/contract-model.js';
import type { StateReader, SyncStateSource } from './ports.js';

/** How long the worker waits for one read before the block fails (the store is down, say). */
export const READ_TIMEOUT_MS = 60_000;

const IDLE = 0;
const REPLIED = 1;

export type ReadMethod = 'readRows' | 'findRows';

export interface ReadRequest {
  readonly id: number;
  readonly method: ReadMethod;
  readonly table: string;
  readonly def: TableDef;
  readonly keys?: readonly (readonly RowValue[])[];
  readonly where?: Readonly<Row>;
  readonly limit?: number;
}

export type ReadReply =
  | { readonly id: number; readonly ok: true; readonly rows: Row[] }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** A state read the main thread could not answer: the block fails and is retried, no outcome is decided. */
export class ReadFailed extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReadFailed';
  }
}

/** The worker's side: blocking reads. */
export class BlockingSource implements SyncStateSource {
  private readonly flag: Int32Array;
  private seq = 0;

  constructor(
    private readonly requests: MessagePort,
    private readonly replies: MessagePort,
    shared: SharedArrayBuffer,
  ) {
    this.flag = new Int32Array(shared);
  }

  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] {
    return this.request({ id: ++this.seq, method: 'readRows', table, def, keys });
  }

  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] {
    return this.request({ id: ++this.seq, method: 'findRows', table, def, where, limit });
  }

  private request(req: ReadRequest): Row[] {
    Atomics.store(this.flag, 0, IDLE);
    this.requests.postMessage(req);
    const deadline = Date.now() + READ_TIMEOUT_MS;
    for (;;) {
      const waited = Atomics.wait(this.flag, 0, IDLE, Math.max(1, deadline - Date.now()));
      const got = receiveMessageOnPort(this.replies);
      if (got !== undefined) {
        const reply = got.message as ReadReply;
        if (reply.id !== req.id) continue;
        if (!reply.ok)
          throw new ReadFailed(
            `${req.method} on table ${req.table} failed in the main thread: ${reply.message}`,
          );
        return reply.rows;
      }
      if (waited === 'timed-out' && Date.now() >= deadline)
        throw new ReadFailed(
          `${req.method} on table ${req.table} got no answer within ${READ_TIMEOUT_MS} ms`,
        );
      // The flag is set but the reply is not visible yet: wait for it without spinning hard.
      if (waited === 'not-equal') Atomics.wait(this.flag, 1, 0, 1);
    }
  }
}

/** The main thread's side: answers the worker's reads from the StateReader. */
export function serveReads(
  reader: StateReader,
  requests: MessagePort,
  replies: MessagePort,
  shared: SharedArrayBuffer,
): void {
  const flag = new Int32Array(shared);
  requests.on('message', (req: ReadRequest) => {
    void answer(reader, req).then((reply) => {
      replies.postMessage(reply);
      Atomics.store(flag, 0, REPLIED);
      Atomics.notify(flag, 0);
    });
  });
}

async function answer(reader: StateReader, req: ReadRequest): Promise<ReadReply> {
  try {
    const rows =
      req.method === 'readRows'
        ? await reader.readRows(req.table, req.def, req.keys ?? [])
        : await reader.findRows(req.table, req.def, req.where ?? {}, req.limit ?? 0);
    return { id: req.id, ok: true, rows };
  } catch (err) {
    return { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
