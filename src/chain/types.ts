// Shared value types of the ledger. Pure data: no I/O here.

import type { InvalidCode, RejectCode } from '../core/errors.js';

/** A decoded Validana v1 transaction (see docs/formats.md and shared PROTOCOL.md section 2). */
export interface Tx {
  /** The full encoding including the 4-byte length prefix, exactly as received. */
  readonly bytes: Uint8Array;
  readonly version: 1;
  /** 16 bytes, lowercase hex (32 chars). The transaction's identity. */
  readonly idHex: string;
  /** 32 bytes, lowercase hex. 00..00 = create contract, ff..ff = delete contract. */
  readonly contractHashHex: string;
  /** Milliseconds since the Unix epoch; 0 = never expires. At most 2^53-1. */
  readonly validTillMs: number;
  /** The exact UTF-8 payload text that was signed. Never re-serialise it. */
  readonly payloadText: string;
  /** 64 bytes r||s, big-endian each, as signed (s may be high). */
  readonly signature: Uint8Array;
  /** 33-byte compressed public key of the signer. */
  readonly publicKey: Uint8Array;
  /** The signer's address (base58check), derived from publicKey. */
  readonly sender: string;
}

export type TxStatus = 'new' | 'accepted' | 'rejected' | 'invalid';

/**
 * Outcome of one transaction after the processor handled it. C is the contract's reject codes
 * where they are known (TxOutcome<EnergyRejectCodeName>); otherwise any contract code.
 */
export type TxOutcome<C extends string = string> =
  | { status: 'accepted'; message: string }
  | { status: 'rejected'; code: RejectCode<C>; message: string }
  | { status: 'invalid'; code: InvalidCode; message: string };

/** The outcome stored in a block: only accepted or rejected transactions are in blocks. */
export type BlockTxOutcome<C extends string = string> = Extract<
  TxOutcome<C>,
  { status: 'accepted' | 'rejected' }
>;

/** Genesis information, carried by block 0 only. */
export interface GenesisInfo {
  /** The chain id, which is also the sign prefix of every transaction and block. */
  readonly chainId: string;
  /** Hex of the processor's 33-byte compressed public key. */
  readonly processorPublicKeyHex: string;
  /** The processor's address (derived from the key, stored for readability). */
  readonly processorAddress: string;
}

export interface Block {
  /** Full encoding including the 4-byte length prefix. */
  readonly bytes: Uint8Array;
  readonly version: 1;
  readonly height: number;
  /** 32 bytes lowercase hex; all zeros for block 0. */
  readonly previousHashHex: string;
  /** When the processor produced the block, ms since the Unix epoch; strictly increasing. */
  readonly processedMs: number;
  /** hash256 of the canonical encoding of the state changes this block caused (docs/formats.md). */
  readonly stateDigestHex: string;
  /** Present on block 0 only. */
  readonly genesis: GenesisInfo | null;
  readonly txs: readonly Tx[];
  /** One per transaction, same order. */
  readonly outcomes: readonly BlockTxOutcome[];
  /** 64 bytes r||s (low-s), over hash256(chainId || bytes[4 .. L-64)). */
  readonly signature: Uint8Array;
  /** hash256(chainId || bytes[4 .. L-64)), lowercase hex. */
  readonly hashHex: string;
}

export const CREATE_CONTRACT_HASH = '00'.repeat(32);
export const DELETE_CONTRACT_HASH = 'ff'.repeat(32);
