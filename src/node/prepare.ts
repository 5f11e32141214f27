// The part of applying blocks that does not depend on the node's head, so the follower runs it
// for the next batch while the current one is re-executed and committed: decoding, and checking
// every transaction signature of the batch in one go on the signature pool's workers.

import type { Block } from '../chain/types.js';
import type { SignaturePool } from '../ledger/signature-pool.js';
import { AlarmError } from './alarm.js';
import { decodeOrAlarm } from './checks.js';

/** Raw blocks as fetched: `raws[i]` should be the block at `fromHeight + i`. */
export interface RawBatch {
  readonly fromHeight: number;
  readonly raws: readonly Uint8Array[];
}

export interface PreparedItem {
  readonly raw: Uint8Array;
  /** Null when the bytes do not decode; then `failure` says why. */
  readonly block: Block | null;
  readonly failure: AlarmError | null;
  readonly signatureOk: readonly boolean[];
}

/** A batch decoded and with its transaction signatures checked: all that can run ahead of apply. */
export interface PreparedBatch {
  readonly fromHeight: number;
  readonly items: readonly PreparedItem[];
}

export async function prepareBatch(
  batch: RawBatch,
  chainId: string,
  signatures: SignaturePool,
): Promise<PreparedBatch> {
  const items = batch.raws.map((raw, i) => {
    try {
      return { raw, block: decodeOrAlarm(raw, chainId, batch.fromHeight + i), failure: null };
    } catch (err) {
      if (err instanceof AlarmError) return { raw, block: null, failure: err };
      throw err;
    }
  });
  const txBytes: Uint8Array[] = [];
  for (const item of items) for (const tx of item.block?.txs ?? []) txBytes.push(tx.bytes);
  const verified = txBytes.length === 0 ? [] : await signatures.verifyOnChain(chainId, txBytes);
  let at = 0;
  return {
    fromHeight: batch.fromHeight,
    items: items.map((item) => {
      const count = item.block?.txs.length ?? 0;
      const signatureOk = verified.slice(at, at + count);
      at += count;
      return { ...item, signatureOk };
    }),
  };
}
