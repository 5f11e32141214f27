// Admission: what happens to submitted bytes before they may wait for a block. Every check that
// does not depend on execution runs here, so a client hears about bad input at once and nothing
// is stored: decode, duplicate id, contract and template, expiry, signature (in worker threads).

import { ChainError } from '../core/errors.js';
import { decodeTx } from '../chain/tx.js';
import type { Tx, TxOutcome } from '../chain/types.js';
import type { ApiError, SubmitResult } from '../api/types.js';

export interface AdmissionCandidate {
  readonly index: number;
  readonly tx: Tx;
}

export type Decoded = { ok: true; tx: Tx } | { ok: false; error: ApiError };

export function decodeSubmitted(bytes: Uint8Array): Decoded {
  try {
    return { ok: true, tx: decodeTx(bytes) };
  } catch (err) {
    if (err instanceof ChainError) return { ok: false, error: apiErrorOf(err.code, err.message, err.details) };
    throw err;
  }
}

export function apiErrorOf(code: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return { code, message, details };
}

export function refusal(id: string | null, code: string, message: string, details: Record<string, unknown> = {}): SubmitResult {
  return { ok: false, id, error: apiErrorOf(code, message, details) };
}

export function refusalOfOutcome(tx: Tx, outcome: Extract<TxOutcome, { code: string }>): SubmitResult {
  return refusal(tx.idHex, outcome.code, outcome.message, { id: tx.idHex });
}

export function expiredMessage(tx: Tx, chainTimeMs: number): string {
  return `transaction ${tx.idHex} is valid till ${tx.validTillMs} (${new Date(tx.validTillMs).toISOString()}) but the chain time is already ${chainTimeMs}`;
}

export { isExpiredAt as isExpired } from '../chain/tx.js';

export function duplicateMessage(idHex: string): string {
  return `a transaction with id ${idHex} was already submitted; an id is accepted at most once`;
}
