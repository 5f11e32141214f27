// A block's hash and its processor signature: hash256(utf8(chainId) || bytes[4 .. L-64)), and a
// signature over that same hash (docs/formats.md).

import { fromHex, toHex, utf8Encode } from '../core/bytes.js';
import { hash256Parts } from '../core/hash.js';
import { verifyDigest } from '../core/keys.js';
import { BLOCK_BYTES_MIN, BLOCK_SIGNATURE_BYTES, malformed } from './block-layout.js';
import type { Block } from './types.js';

/** The 32-byte hash of an encoded block whose signature bytes may still be empty. */
export function blockHashOf(chainId: string, bytes: Uint8Array): Uint8Array {
  return hash256Parts(utf8Encode(chainId), bytes.subarray(4, bytes.length - BLOCK_SIGNATURE_BYTES));
}

/** hash256(utf8(chainId) || bytes[4 .. L-64)) of an encoded block, lowercase hex. */
export function blockHashHex(chainId: string, bytes: Uint8Array): string {
  if (bytes.length < BLOCK_BYTES_MIN) {
    throw malformed(`a block is at least ${BLOCK_BYTES_MIN} bytes, got ${bytes.length}`);
  }
  return toHex(blockHashOf(chainId, bytes));
}

/** True when the block's signature is the given processor key's signature of its hash. */
export function verifyBlockSignature(block: Block, processorPublicKey: Uint8Array): boolean {
  return verifyDigest(fromHex(block.hashHex, 32), block.signature, processorPublicKey);
}
