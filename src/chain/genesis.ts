// Block 0 in one place: the genesis information it carries (chain id and processor key), how
// that is written and read in the block, and the checks that make a block a valid genesis. The
// processor creates it; a mirror node checks it before it trusts the key it pins.

import { equalBytes, fromHex, readU16LE, toHex, utf8Decode, utf8Encode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { type PrivateKey, addressFromPublicKey, isValidPublicKey } from '../core/keys.js';
import { verifyBlockSignature } from './block-hash.js';
import {
  type BlockFields,
  GENESIS_JSON_BYTES_MAX,
  GENESIS_LENGTH_OFFSET,
  GENESIS_OFFSET,
  malformed,
} from './block-layout.js';
import { ZERO_HASH_HEX } from './header-rules.js';
import type { Block, GenesisInfo } from './types.js';

/** What a chain id may be (the processor's rule; MarketParent and MarketMember write it as a literal). */
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** hash256 of nothing: the state digest of a block that changed nothing (the genesis block). */
export const EMPTY_STATE_DIGEST_HEX =
  '5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456';

/** What block 0 pins: every later block is checked against it. */
export interface ChainKeys {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly processorPublicKey: Uint8Array;
}

/** The exact genesis JSON text: these three keys in this order, no whitespace. */
export function genesisJson(genesis: GenesisInfo): string {
  return JSON.stringify({
    chainId: genesis.chainId,
    processorPublicKey: genesis.processorPublicKeyHex,
    processorAddress: genesis.processorAddress,
  });
}

/** The fields of block 0 of a new chain produced by `key`: no transactions, nothing changed. */
export function genesisBlockFields(
  key: PrivateKey,
  chainId: string,
  processedMs: number,
): BlockFields {
  return {
    height: 0,
    previousHashHex: ZERO_HASH_HEX,
    processedMs,
    stateDigestHex: EMPTY_STATE_DIGEST_HEX,
    genesis: {
      chainId,
      processorPublicKeyHex: toHex(key.publicKey),
      processorAddress: key.address,
    },
    txs: [],
    outcomes: [],
  };
}

/** Why `genesis` cannot go into a block signed by `key` for `chainId`, or null when it can. */
export function genesisBuildProblem(
  genesis: GenesisInfo,
  key: PrivateKey,
  chainId: string,
): string | null {
  if (genesis.chainId !== chainId) {
    const [named, signed] = [JSON.stringify(genesis.chainId), JSON.stringify(chainId)];
    return `genesis names chain ${named} but the block is signed for ${signed}`;
  }
  if (genesis.chainId.length === 0) return 'the chain id must not be empty';
  const keyHex = toHex(key.publicKey);
  if (genesis.processorPublicKeyHex !== keyHex) {
    const named = genesis.processorPublicKeyHex;
    return `genesis names processor key ${named} but the signing key is ${keyHex}`;
  }
  if (genesis.processorAddress !== key.address) {
    const named = genesis.processorAddress;
    return `genesis names processor address ${named} but the signing key's is ${key.address}`;
  }
  const bytes = utf8Encode(genesisJson(genesis)).length;
  if (bytes > GENESIS_JSON_BYTES_MAX) {
    return `the genesis JSON is ${bytes} bytes, at most ${GENESIS_JSON_BYTES_MAX}`;
  }
  return null;
}

/**
 * Reads the genesis JSON of block 0. Throws `block_malformed` unless it is the canonical JSON of
 * a valid key and its address, and `chain_mismatch` when it names another chain than `chainId`.
 */
export function decodeGenesisJson(raw: Uint8Array, chainId: string): GenesisInfo {
  const at = { height: 0 };
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(raw));
  } catch (err) {
    throw malformed('block 0: the genesis is not UTF-8 JSON', at, err);
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { chainId: id, processorPublicKey: pkHex, processorAddress: address } = v;
  if (typeof id !== 'string' || typeof pkHex !== 'string' || typeof address !== 'string') {
    const want = 'the strings chainId, processorPublicKey and processorAddress';
    throw malformed(`block 0: the genesis must hold ${want}`, at);
  }
  const genesis: GenesisInfo = {
    chainId: id,
    processorPublicKeyHex: pkHex,
    processorAddress: address,
  };
  if (!equalBytes(utf8Encode(genesisJson(genesis)), raw)) {
    throw malformed(
      `block 0: the genesis JSON is not canonical; expected ${genesisJson(genesis)}`,
      at,
    );
  }
  const pk = /^[0-9a-f]{66}$/.test(pkHex) ? fromHex(pkHex, 33) : null;
  if (pk === null || !isValidPublicKey(pk)) {
    const got = JSON.stringify(pkHex);
    throw malformed(
      `block 0: processorPublicKey must be a lowercase hex compressed public key, got ${got}`,
      at,
    );
  }
  const keyAddress = addressFromPublicKey(pk);
  if (keyAddress !== address) {
    const why = `does not belong to processorPublicKey (expected ${keyAddress})`;
    throw malformed(`block 0: processorAddress ${address} ${why}`, at);
  }
  if (id !== chainId) {
    const [named, wanted] = [JSON.stringify(id), JSON.stringify(chainId)];
    throw new ChainError(
      'chain_mismatch',
      `block 0 is the genesis of chain ${named}, but was decoded for chain ${wanted}`,
      at,
    );
  }
  return genesis;
}

/**
 * The chain id the genesis JSON of raw block bytes names, or null when there is none to read. A
 * block's hash depends on the chain id, so a node that knows no chain yet reads it first.
 */
export function genesisChainIdOf(raw: Uint8Array): string | null {
  if (raw.length < GENESIS_OFFSET) return null;
  const length = readU16LE(raw, GENESIS_LENGTH_OFFSET);
  if (length === 0 || raw.length < GENESIS_OFFSET + length) return null;
  try {
    const genesis = JSON.parse(
      utf8Decode(raw.subarray(GENESIS_OFFSET, GENESIS_OFFSET + length)),
    ) as unknown;
    const chainId =
      typeof genesis === 'object' && genesis !== null
        ? (genesis as Record<string, unknown>)['chainId']
        : undefined;
    return typeof chainId === 'string' ? chainId : null;
  } catch {
    return null;
  }
}

/** A decoded block 0 that is not a valid genesis: which field, and what was expected. */
export interface GenesisFault {
  readonly code:
    | 'block_malformed'
    | 'chain_mismatch'
    | 'block_signature_invalid'
    | 'state_digest_mismatch';
  readonly field: string;
  readonly expected: unknown;
  readonly got: unknown;
  readonly message: string;
}

/**
 * The keys a decoded block 0 pins, or the first reason it is not a valid genesis: it must carry
 * genesis information, name `pinnedAddress` as processor when one is given, be signed by the key
 * it names, carry no transactions and the empty state digest.
 */
export function checkGenesisBlock(
  block: Block,
  pinnedAddress: string | null,
):
  | { readonly keys: ChainKeys; readonly fault: null }
  | { readonly keys: null; readonly fault: GenesisFault } {
  const fail = (fault: GenesisFault): { keys: null; fault: GenesisFault } => ({
    keys: null,
    fault,
  });
  const genesis = block.genesis;
  if (block.height !== 0 || genesis === null) {
    return fail({
      code: 'block_malformed',
      field: 'genesis',
      expected: 'genesis information',
      got: null,
      message: `block ${block.height} carries no genesis information`,
    });
  }
  if (pinnedAddress !== null && genesis.processorAddress !== pinnedAddress) {
    return fail({
      code: 'chain_mismatch',
      field: 'processorAddress',
      expected: pinnedAddress,
      got: genesis.processorAddress,
      message: `block 0 names processor ${genesis.processorAddress}, but this node is configured to follow processor ${pinnedAddress}`,
    });
  }
  const keys: ChainKeys = {
    chainId: genesis.chainId,
    processorAddress: genesis.processorAddress,
    processorPublicKey: fromHex(genesis.processorPublicKeyHex, 33),
  };
  if (!verifyBlockSignature(block, keys.processorPublicKey)) {
    return fail({
      code: 'block_signature_invalid',
      field: 'signature',
      expected: `a signature by ${keys.processorAddress}`,
      got: toHex(block.signature),
      message: `block 0 is not signed by the processor key it names (${keys.processorAddress})`,
    });
  }
  if (block.txs.length > 0) {
    return fail({
      code: 'block_malformed',
      field: 'txCount',
      expected: 0,
      got: block.txs.length,
      message: `block 0 carries ${block.txs.length} transactions; a genesis block carries none`,
    });
  }
  if (block.stateDigestHex !== EMPTY_STATE_DIGEST_HEX) {
    return fail({
      code: 'state_digest_mismatch',
      field: 'stateDigest',
      expected: EMPTY_STATE_DIGEST_HEX,
      got: block.stateDigestHex,
      message: `block 0 claims state digest ${block.stateDigestHex}, but a genesis block changes nothing`,
    });
  }
  return { keys, fault: null };
}
