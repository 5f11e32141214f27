// The chain's wire views: the JSON shapes the API returns, the WebSocket pushes, and the client,
// CLI, meter gateway and mirror nodes read (docs/ARCHITECTURE.md). Built from blocks and stored
// records by projections.ts, and by the store's block reads, which fill the same types.

import type { ErrorCode, OutcomeCode, RejectCode } from '../core/errors.js';

/**
 * Validana's TxResponse plus `code`. C is the contract's reject codes where they are known
 * (TxView<EnergyRejectCodeName>); otherwise a rejected code may be any contract's.
 */
export interface TxView<C extends string = string> {
  readonly id: string;
  readonly version: number;
  readonly contractHash: string;
  readonly validTill: number;
  readonly payload: unknown;
  readonly publicKey: string;
  readonly signature: string;
  readonly status: 'new' | 'accepted' | 'rejected' | 'invalid';
  readonly code: OutcomeCode<C> | null;
  readonly message: string | null;
  readonly createTs: number;
  readonly sender: string | null;
  readonly contractType: string | null;
  readonly blockId: number | null;
  readonly positionInBlock: number | null;
  readonly processedTs: number | null;
  readonly receiver: string | null;
}

export interface BlockTxSummary<C extends string = string> {
  readonly id: string;
  readonly contractType: string | null;
  readonly sender: string;
  readonly status: 'accepted' | 'rejected';
  readonly code: RejectCode<C> | null;
  readonly message: string;
}

/** The genesis information as block views show it (block 0 only). */
export interface GenesisView {
  readonly chainId: string;
  readonly processorPublicKey: string;
  readonly processorAddress: string;
}

export interface BlockView {
  readonly height: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly processedMs: number;
  readonly stateDigest: string;
  readonly txCount: number;
  readonly transactions: readonly BlockTxSummary[];
  readonly signature: string;
  readonly genesis: GenesisView | null;
}

export interface ContractView {
  readonly hash: string;
  readonly type: string;
  readonly version: string;
  readonly description: string;
  readonly template: Record<string, { type: string; name: string; desc: string }>;
  readonly validanaVersion: number;
  readonly createdHeight: number;
}

export interface ChainInfo {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly role: 'processor' | 'node';
  readonly head: {
    readonly height: number;
    readonly hash: string;
    readonly processedMs: number;
  } | null;
  /** The time the chain uses for valid-till: the next block's time on a processor, the head's on a node. */
  readonly chainTimeMs: number | null;
  /** Mirror nodes only: null while every block checked out, else why the node stopped applying blocks. */
  readonly alarm?: ChainAlarm | null;
}

/**
 * A mirror node's alarm: the first block (and transaction) whose check failed, and what differed.
 * The node keeps every block before it and applies nothing after it (docs/node.md).
 */
export interface ChainAlarm {
  /** The catalogue code of the failed check, e.g. `state_digest_mismatch`, `signature_invalid`. */
  readonly code: ErrorCode;
  readonly message: string;
  /** Height of the block that failed (the height the node expected when the block names another). */
  readonly height: number;
  /** Hash of that block as received, null when it could not be decoded. */
  readonly blockHash: string | null;
  /** The transaction that failed, null for a block-level check. */
  readonly txId: string | null;
  /** What differed, e.g. `stateDigest`, `outcome.message`, `previousHash`, `signature`. */
  readonly field: string;
  /** What the node expected (its own result or the chain so far), and what the block or upstream said. */
  readonly expected: unknown;
  readonly got: unknown;
  /** Where the block came from. */
  readonly upstream: string;
  readonly raisedMs: number;
}

/** The error body of every failed request: `{"error": ApiError}` over HTTP, inside a WebSocket message. */
export interface ApiError {
  readonly code: ErrorCode | string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** One mirror node as the processor last checked it (GET /api/mirrors, docs/api.md). */
export interface MirrorStatusView {
  readonly url: string;
  /** Whether the last check got an answer; false before the first check too. */
  readonly reachable: boolean;
  /** The node's head height at the check; null without an answer or before its first block. */
  readonly headHeight: number | null;
  /** Blocks the node was behind the processor's head at the check (0: level; null: unknown). */
  readonly lagBlocks: number | null;
  /** The node's alarm (its /api/info): null while every block checked out. */
  readonly alarm: ChainAlarm | null;
  /** Why the last check failed, or why its answer is not this chain's mirror; null when fine. */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** When the last check was made; null before the first. */
  readonly checkedMs: number | null;
  readonly checkedAt: string | null;
}
