// Admission: what happens to submitted bytes before they may wait for a block. Every check that
// does not depend on execution runs here, so a client hears about bad input at once and nothing
// is stored: decode, duplicate id, contract and template, expiry, signature (in worker threads).

import type { ApiError, SubmitResult } from '../ledger/service.js';
import { checkAdmission } from '../contracts/runtime/executor.js';
import { ChainError } from '../core/errors.js';
import type { Scheduler } from '../core/scheduler.js';
import { decodeTx, isExpiredAt } from '../chain/tx.js';
import type { Tx, TxOutcome } from '../chain/types.js';
import type { SignaturePool } from '../ledger/signature-pool.js';
import type { ChainStore } from '../store/chain-store.js';
import type { ContractRecord } from '../chain/contract-model.js';
import type { PendingQueue } from './pending-queue.js';

export interface AdmissionCandidate {
  readonly index: number;
  readonly tx: Tx;
}

export type Decoded = { ok: true; tx: Tx } | { ok: false; error: ApiError };

export function decodeSubmitted(bytes: Uint8Array): Decoded {
  try {
    return { ok: true, tx: decodeTx(bytes) };
  } catch (err) {
    if (err instanceof ChainError)
      return { ok: false, error: apiErrorOf(err.code, err.message, err.details) };
    throw err;
  }
}

export function apiErrorOf(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): ApiError {
  return { code, message, details };
}

export function refusal(
  id: string | null,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): SubmitResult {
  return { ok: false, id, error: apiErrorOf(code, message, details) };
}

export function refusalOfOutcome(
  tx: Tx,
  outcome: Extract<TxOutcome, { code: string }>,
): SubmitResult {
  return refusal(tx.idHex, outcome.code, outcome.message, { id: tx.idHex });
}

export function expiredMessage(tx: Tx, chainTimeMs: number): string {
  return `transaction ${tx.idHex} is valid till ${tx.validTillMs} (${new Date(tx.validTillMs).toISOString()}) but the chain time is already ${chainTimeMs}`;
}

export { isExpiredAt as isExpired } from '../chain/tx.js';

export function duplicateMessage(idHex: string): string {
  return `a transaction with id ${idHex} was already submitted; an id is accepted at most once`;
}

/** How many recent blocks' ids are kept to close the race between the id lookup and a commit. */
const RECENT_BLOCKS_KEPT = 8;

export interface AdmissionDeps {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly scheduler: Scheduler;
  readonly verifier: SignaturePool;
  readonly store: ChainStore;
  readonly pending: PendingQueue;
  /** Pending, or taken for a block whose commit is under way or in doubt. */
  isKnownLocally(idHex: string): boolean;
  contracts(): ReadonlyMap<string, ContractRecord>;
  chainTimeMs(): number;
  /** Transactions were added to the pending queue. */
  admitted(): void;
}

interface AdmissionJob {
  readonly candidates: AdmissionCandidate[];
  readonly results: (SubmitResult | null)[];
  readonly createMs: number | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Admits submissions into the pending queue. Submissions that arrive together (one transaction
 * per WebSocket message or HTTP request, say) are admitted together: one signature batch for the
 * workers and one id lookup, in arrival order.
 */
export class Admission {
  private readonly jobs: AdmissionJob[] = [];
  private readonly recentBlockIds: Set<string>[] = [];
  private commitGeneration = 0;
  private seq = 0;

  constructor(private readonly deps: AdmissionDeps) {}

  async submit(
    raw: readonly Uint8Array[],
    opts: { readonly createMs?: number } = {},
  ): Promise<SubmitResult[]> {
    const results: (SubmitResult | null)[] = raw.map(() => null);
    const candidates: AdmissionCandidate[] = [];
    const seenInBatch = new Set<string>();
    const contracts = this.deps.contracts();
    const chainTime = this.deps.chainTimeMs();
    raw.forEach((bytes, index) => {
      const decoded = decodeSubmitted(bytes);
      if (!decoded.ok) {
        results[index] = { ok: false, id: null, error: decoded.error };
        return;
      }
      const tx = decoded.tx;
      if (seenInBatch.has(tx.idHex) || this.deps.isKnownLocally(tx.idHex)) {
        results[index] = refusal(tx.idHex, 'tx_duplicate_id', duplicateMessage(tx.idHex), {
          id: tx.idHex,
        });
        return;
      }
      seenInBatch.add(tx.idHex);
      const refused = checkAdmission(contracts, tx, this.deps.processorAddress);
      if (refused && refused.status !== 'accepted') {
        results[index] = refusalOfOutcome(tx, refused);
        return;
      }
      if (isExpiredAt(tx, chainTime)) {
        results[index] = refusal(tx.idHex, 'tx_expired', expiredMessage(tx, chainTime), {
          id: tx.idHex,
          validTill: tx.validTillMs,
          chainTimeMs: chainTime,
        });
        return;
      }
      candidates.push({ index, tx });
    });
    if (candidates.length > 0) await this.admitVerified(candidates, results, opts.createMs);
    return results.map((r, i) => r ?? refusal(null, 'internal', `submission ${i} was not decided`));
  }

  /** The ids of a committed block: the store's answer to a lookup asked before it may miss them. */
  noteCommitted(ids: readonly string[]): void {
    this.commitGeneration++;
    this.recentBlockIds.push(new Set(ids));
    if (this.recentBlockIds.length > RECENT_BLOCKS_KEPT) this.recentBlockIds.shift();
  }

  /** Queues decoded candidates for the signature checks and the duplicate lookup of the next batch. */
  private admitVerified(
    candidates: AdmissionCandidate[],
    results: (SubmitResult | null)[],
    createMs?: number,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.jobs.push({ candidates, results, createMs, resolve, reject });
      if (this.jobs.length === 1) this.deps.scheduler.defer(() => void this.admitQueued());
    });
  }

  private async admitQueued(): Promise<void> {
    const jobs = this.jobs.splice(0);
    const all = jobs.flatMap((job) => job.candidates.map((c) => ({ job, c })));
    const { chainId, pending } = this.deps;
    try {
      const seqBase = this.seq;
      this.seq += all.length;
      const verified = await this.deps.verifier.verify(
        all.map(({ c }) => ({ chainId, txBytes: c.tx.bytes })),
      );
      const generation = this.commitGeneration;
      const known = await this.deps.store.knownTxIds(all.map(({ c }) => c.tx.idHex));
      const recentlyCommitted = this.idsCommittedSince(generation);
      const now = this.deps.scheduler.nowMs();
      all.forEach(({ job, c }, i) => {
        const { tx } = c;
        const results = job.results;
        if (!verified[i]) {
          results[c.index] = refusal(
            tx.idHex,
            'signature_invalid',
            `the signature of transaction ${tx.idHex} does not verify for chain id "${chainId}" and public key ${Buffer.from(tx.publicKey).toString('hex')}`,
            { id: tx.idHex, chainId },
          );
        } else if (
          known.has(tx.idHex) ||
          recentlyCommitted.has(tx.idHex) ||
          this.deps.isKnownLocally(tx.idHex)
        ) {
          results[c.index] = refusal(tx.idHex, 'tx_duplicate_id', duplicateMessage(tx.idHex), {
            id: tx.idHex,
          });
        } else if (pending.freeSlots() === 0) {
          results[c.index] = refusal(
            tx.idHex,
            'queue_full',
            `the processor holds ${pending.size} pending transactions, its limit; try again shortly`,
            { id: tx.idHex },
          );
        } else {
          pending.add({ tx, seq: seqBase + i, createMs: job.createMs ?? now });
          results[c.index] = { ok: true, id: tx.idHex };
        }
      });
      this.deps.admitted();
      for (const job of jobs) job.resolve();
    } catch (err) {
      for (const job of jobs) job.reject(err);
    }
  }

  /** Ids committed after `generation`; if too many blocks passed to know, every recent one. */
  private idsCommittedSince(generation: number): Set<string> {
    const passed = this.commitGeneration - generation;
    const out = new Set<string>();
    if (passed === 0) return out;
    for (const ids of this.recentBlockIds.slice(-Math.min(passed, RECENT_BLOCKS_KEPT)))
      for (const id of ids) out.add(id);
    return out;
  }
}
