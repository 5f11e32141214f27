// Messages between the executor (main thread, executor.ts) and its worker (executor-worker.ts).
// Kept apart from the worker's entry module, which starts serving as soon as it is imported.

import type { MessagePort } from 'node:worker_threads';
import { ChainError } from '../../core/errors.js';
import type { ContractRecord } from '../../chain/contract-model.js';
import type { EngineHeader, EngineTx, ResidentState } from './engine.js';
import { ReadFailed } from './sync-read.js';
import type { ExecutionLimits } from '../limits.js';
import type { BlockExecutionResult } from './types.js';

export interface WorkerInit {
  readonly contracts: readonly ContractRecord[];
  readonly limits: ExecutionLimits;
  readonly cacheRows: number;
  readonly resident: ResidentState;
  readonly requests: MessagePort;
  readonly replies: MessagePort;
  readonly shared: SharedArrayBuffer;
}

export type WorkerRequest =
  | { readonly kind: 'open'; readonly header: EngineHeader; readonly onTopOfUncommitted: boolean }
  | { readonly kind: 'append'; readonly txs: readonly EngineTx[] }
  | { readonly kind: 'seal'; readonly id: number; readonly height: number }
  | { readonly kind: 'commit' }
  | { readonly kind: 'dropLast' }
  | { readonly kind: 'abort' }
  | { readonly kind: 'close'; readonly id: number };

export type WorkerReply =
  | { readonly kind: 'ready' }
  | {
      readonly kind: 'executed';
      readonly id: number;
      readonly ok: true;
      readonly result: BlockExecutionResult;
    }
  | {
      readonly kind: 'executed';
      readonly id: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
    }
  | { readonly kind: 'closed'; readonly id: number }
  | { readonly kind: 'failed'; readonly message: string };

/** A failure of the whole block, as the main thread should report it. */
export function blockFailure(height: number, err: unknown): ChainError {
  if (err instanceof ChainError) return err;
  if (err instanceof ReadFailed)
    return new ChainError(
      'retry',
      `block ${height}: a state read failed: ${err.message}`,
      { height },
      { cause: err },
    );
  const message = err instanceof Error ? err.message : String(err);
  return new ChainError(
    'internal',
    `block ${height}: execution failed: ${message}`,
    { height },
    { cause: err },
  );
}
