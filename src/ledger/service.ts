// What a ledger role offers the API server: the processor implements it, and so does a mirror
// node (which forwards submissions to the processor). The composition root hands one to the
// server; the JSON shapes are the chain's wire views (chain/views.ts, docs/ARCHITECTURE.md).

import type { Block } from '../chain/types.js';
import type {
  ApiError,
  BlockView,
  ChainAlarm,
  ChainInfo,
  ContractView,
  TxView,
} from '../chain/views.js';
import type { Sql } from '../store/types.js';

export type { ApiError };

export type SubmitResult =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly id: string | null; readonly error: ApiError };

export interface LedgerService {
  info(): Promise<ChainInfo>;
  /** Admits transactions (decode, verify, dedupe, template); one result per input, same order. */
  submit(
    txs: readonly Uint8Array[],
    opts?: { readonly createMs?: number },
  ): Promise<SubmitResult[]>;
  /** Pending ('new') or final; null when unknown. */
  getTransaction(idHex: string): Promise<TxView | null>;
  /**
   * getTransaction for many ids in one go (one database query), keyed by the ids as given;
   * unknown ids are left out. Optional: without it, callers ask id by id.
   */
  getTransactions?(ids: readonly string[]): Promise<Map<string, TxView>>;
  /** Calls `listener` once with the final view (accepted, rejected or invalid) of each id, after commit. */
  onTxFinal(listener: (view: TxView) => void): () => void;
  listContracts(): Promise<ContractView[]>;
  getBlocks(fromHeight: number, limit: number): Promise<BlockView[]>;
  getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]>;
  /** Called after each block commits, with the decoded block and its view. */
  onBlock(listener: (block: Block, view: BlockView) => void): () => void;
  /**
   * Mirror nodes: called once when the node raises its alarm (the block feed pushes it, so a page
   * hears of it without asking). Absent on the processor.
   */
  onAlarm?(listener: (alarm: ChainAlarm) => void): () => void;
  /**
   * Read access to the chain's database for query routes (energy balances, members, history).
   * Callers only read. Absent on services without a database (test fakes): those routes answer 404.
   */
  querySql?(): Sql;
  /**
   * Prometheus text exposition served at `GET /metrics` (a mirror node's head, lag and alarm).
   * Absent: the route answers 404.
   */
  metrics?(): Promise<string>;
}
