// Submitting transactions whose ids are derived from what they do, so that sending them again
// (a second run, a retry after a crash) never books anything twice: the chain refuses a known id
// (tx_duplicate_id), and the outcome of the earlier submission is looked up instead.

import type { Tx } from '../chain/types.js';
import type { BatchItemResult, HanzenetClient } from './client.js';

/** Most transactions in one batch request (the server's limit). */
const BATCH_MAX = 1000;

export type OnceStatus =
  /** Accepted now. */
  | 'accepted'
  /** Accepted by an earlier submission of the same id. */
  | 'already_accepted'
  | 'rejected'
  /** Rejected (or invalid) when the same id was submitted before. */
  | 'previously_rejected'
  | 'invalid'
  /** Stored, but not final within the wait: submitting again later tells the outcome. */
  | 'pending'
  /** Refused by the server before it was stored (the code says why). */
  | 'failed';

export interface OnceOutcome {
  readonly id: string;
  readonly status: OnceStatus;
  readonly code: string | null;
  readonly message: string | null;
}

/** Submits `txs` in batches, waiting up to `timeoutMs` per batch; one outcome per transaction. */
export async function submitOnce(
  client: HanzenetClient,
  txs: readonly Tx[],
  timeoutMs: number,
): Promise<OnceOutcome[]> {
  const out: OnceOutcome[] = [];
  for (let i = 0; i < txs.length; i += BATCH_MAX) {
    const chunk = txs.slice(i, i + BATCH_MAX);
    const results = await client.submitBatch(chunk, { wait: true, timeoutMs });
    for (let j = 0; j < chunk.length; j++)
      out.push(await outcomeOf(client, (chunk[j] as Tx).idHex, results[j]));
  }
  return out;
}

async function outcomeOf(
  client: HanzenetClient,
  id: string,
  r: BatchItemResult | undefined,
): Promise<OnceOutcome> {
  if (r === undefined)
    return { id, status: 'failed', code: null, message: 'no answer for this transaction' };
  if ('error' in r) {
    if (r.error.code !== 'tx_duplicate_id')
      return { id, status: 'failed', code: r.error.code, message: r.error.message };
    // Sent before: the earlier submission's outcome decides.
    const view = await client.getTransaction(id, { wait: true, timeoutMs: 30_000 });
    if (view.status === 'new')
      return { id, status: 'pending', code: null, message: 'submitted before, not final yet' };
    return {
      id,
      status: view.status === 'accepted' ? 'already_accepted' : 'previously_rejected',
      code: view.code,
      message: view.message,
    };
  }
  if (r.status === 'new')
    return {
      id,
      status: 'pending',
      code: null,
      message:
        'not final within the wait; submit again to learn the outcome (the same id is never booked twice)',
    };
  return { id, status: r.status, code: r.code, message: r.message };
}
