// HanzeNet block format v1 (docs/formats.md): the layout every block module shares. Our own
// format: unlike Validana's (PROTOCOL.md section 6) a block also commits to every transaction's
// outcome and to a digest of the state changes, so a mirror node can check its re-execution
// against the processor's.
//
// | u32 length of the rest | u8 version | u64 height | 32 previous hash | u64 processedMs |
// | 32 state digest | u16 G + G bytes genesis JSON | u32 N | N transactions (own length prefix) |
// | N outcomes: u8 status, u8 codeLen + code, u16 msgLen + message | 64 signature |
//
// hash = hash256(utf8(chainId) || bytes[4 .. L-64)); the signature is over that same hash.

import { readU64LE } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import type { BlockTxOutcome, GenesisInfo, Tx } from './types.js';

export const BLOCK_VERSION = 1;
export const TXS_PER_BLOCK_MAX = 50_000;
export const BLOCK_BYTES_MAX = 64 * 1024 * 1024;
export const OUTCOME_CODE_CHARS_MAX = 64;
export const OUTCOME_MESSAGE_BYTES_MAX = 1024;
export const BLOCK_SIGNATURE_BYTES = 64;
/** Everything but genesis, transactions and outcomes, length prefix included. */
export const BLOCK_BYTES_MIN = 4 + 1 + 8 + 32 + 8 + 32 + 2 + 4 + BLOCK_SIGNATURE_BYTES;
export const GENESIS_JSON_BYTES_MAX = 0xffff;

/** Byte offsets of the header fields, from the start of the encoding (length prefix included). */
export const VERSION_OFFSET = 4;
export const HEIGHT_OFFSET = 5;
export const PREVIOUS_HASH_OFFSET = 13;
export const PROCESSED_MS_OFFSET = 45;
export const STATE_DIGEST_OFFSET = 53;
export const GENESIS_LENGTH_OFFSET = 85;
export const GENESIS_OFFSET = 87;

export const STATUS_ACCEPTED = 1;
export const STATUS_REJECTED = 2;
/** Printable ASCII without space: codes are identifiers such as `contract_rejected`. */
export const CODE_PATTERN = /^[\x21-\x7e]+$/;

export interface BlockFields {
  readonly height: number;
  readonly previousHashHex: string;
  readonly processedMs: number;
  readonly stateDigestHex: string;
  /** Required on block 0, null on every other block. */
  readonly genesis: GenesisInfo | null;
  readonly txs: readonly Tx[];
  /** One per transaction, same order. */
  readonly outcomes: readonly BlockTxOutcome[];
}

export function malformed(
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): ChainError {
  return new ChainError(
    'block_malformed',
    message,
    details,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The height a block's bytes announce, or null when they are too short to say. A mirror node
 * reads it before decoding, to name the block an alarm is about.
 */
export function announcedHeight(raw: Uint8Array): number | null {
  if (raw.length < HEIGHT_OFFSET + 8) return null;
  try {
    return readU64LE(raw, HEIGHT_OFFSET);
  } catch {
    return null;
  }
}
