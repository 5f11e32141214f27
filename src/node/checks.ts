// The mirror node's checks of one block, in the order docs/node.md lists them. Pure functions:
// each returns normally when the block passes and throws an AlarmError naming the block, the
// transaction and what differed when it does not.

import { decodeBlock, verifyBlockSignature } from '../core/block.js';
import { fromHex, readU16LE, readU64LE, utf8Decode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { isExpiredAt } from '../core/tx.js';
import type { Block, BlockTxOutcome, TxOutcome } from '../core/types.js';
import type { BlockExecutionResult } from '../contracts/runtime/types.js';
import type { HeadInfo } from '../store/types.js';
import { alarmError } from './alarm.js';

/** What block 0 pins: every later block is checked against it. */
export interface ChainKeys {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly processorPublicKey: Uint8Array;
}

/** hash256 of nothing: the state digest of a block that changed nothing (the genesis block). */
export const EMPTY_STATE_DIGEST = '5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456';

const HEIGHT_OFFSET = 5;
const GENESIS_LENGTH_OFFSET = 85;

/** The height a block's bytes announce, or null when they are too short to say. */
export function announcedHeight(raw: Uint8Array): number | null {
  if (raw.length < HEIGHT_OFFSET + 8) return null;
  try {
    return readU64LE(raw, HEIGHT_OFFSET);
  } catch {
    return null;
  }
}

/** The chain id a genesis block names (a block's hash depends on it, so it is read first). */
export function genesisChainIdOf(raw: Uint8Array): string | null {
  if (raw.length < GENESIS_LENGTH_OFFSET + 2) return null;
  const length = readU16LE(raw, GENESIS_LENGTH_OFFSET);
  const start = GENESIS_LENGTH_OFFSET + 2;
  if (length === 0 || raw.length < start + length) return null;
  try {
    const genesis = JSON.parse(utf8Decode(raw.subarray(start, start + length))) as unknown;
    const chainId = typeof genesis === 'object' && genesis !== null ? (genesis as Record<string, unknown>)['chainId'] : undefined;
    return typeof chainId === 'string' ? chainId : null;
  } catch {
    return null;
  }
}

/** Decodes a block for the chain; a block that does not decode is an alarm at the expected height. */
export function decodeOrAlarm(raw: Uint8Array, chainId: string, expectedHeight: number): Block {
  try {
    return decodeBlock(raw, chainId);
  } catch (err) {
    if (!(err instanceof ChainError)) throw err;
    const code = err.code === 'chain_mismatch' ? 'chain_mismatch' : 'block_malformed';
    throw alarmError(code, { height: expectedHeight }, 'bytes', `a block of chain ${JSON.stringify(chainId)} in the v1 layout`, err.message,
      `block ${expectedHeight} cannot be decoded: ${err.message}`);
  }
}

/**
 * Block 0: its genesis pins the chain id and the processor key; it must be signed by that key,
 * carry no transactions and the empty state digest, and name the configured processor (if any).
 */
export function checkGenesis(raw: Uint8Array, pinnedAddress: string | null): { block: Block; keys: ChainKeys } {
  const height = announcedHeight(raw);
  if (height !== 0) {
    throw alarmError('block_out_of_order', { height: 0 }, 'height', 0, height, `asked for block 0 (the genesis), got ${height === null ? 'a block too short to carry a height' : `block ${height}`}`);
  }
  const chainId = genesisChainIdOf(raw);
  if (chainId === null) {
    throw alarmError('block_malformed', { height: 0 }, 'genesis', 'genesis JSON naming the chain id', null, 'block 0 carries no readable genesis JSON');
  }
  const block = decodeOrAlarm(raw, chainId, 0);
  const genesis = block.genesis;
  if (genesis === null) throw alarmError('block_malformed', { height: 0, blockHash: block.hashHex }, 'genesis', 'genesis information', null, 'block 0 carries no genesis information');
  const at = { height: 0, blockHash: block.hashHex };
  if (pinnedAddress !== null && genesis.processorAddress !== pinnedAddress) {
    throw alarmError('chain_mismatch', at, 'processorAddress', pinnedAddress, genesis.processorAddress,
      `block 0 names processor ${genesis.processorAddress}, but this node is configured to follow processor ${pinnedAddress}`);
  }
  const keys: ChainKeys = { chainId, processorAddress: genesis.processorAddress, processorPublicKey: fromHex(genesis.processorPublicKeyHex, 33) };
  if (!verifyBlockSignature(block, keys.processorPublicKey)) {
    throw alarmError('block_signature_invalid', at, 'signature', `a signature by ${keys.processorAddress}`, Buffer.from(block.signature).toString('hex'),
      `block 0 is not signed by the processor key it names (${keys.processorAddress})`);
  }
  if (block.txs.length > 0) {
    throw alarmError('block_malformed', at, 'txCount', 0, block.txs.length, `block 0 carries ${block.txs.length} transactions; a genesis block carries none`);
  }
  if (block.stateDigestHex !== EMPTY_STATE_DIGEST) {
    throw alarmError('state_digest_mismatch', at, 'stateDigest', EMPTY_STATE_DIGEST, block.stateDigestHex, `block 0 claims state digest ${block.stateDigestHex}, but a genesis block changes nothing`);
  }
  return { block, keys };
}

/** Height, processor signature, link to the previous block and time, against the node's head. */
export function checkHeader(block: Block, head: HeadInfo, keys: ChainKeys): void {
  const want = head.height + 1;
  if (block.height !== want) {
    const why = block.height > want ? `block ${want} was skipped` : `block ${block.height} is repeated or out of order`;
    throw alarmError('block_out_of_order', { height: want, blockHash: block.hashHex }, 'height', want, block.height, `expected block ${want} after block ${head.height}, got block ${block.height}: ${why}`);
  }
  const at = { height: block.height, blockHash: block.hashHex };
  if (!verifyBlockSignature(block, keys.processorPublicKey)) {
    throw alarmError('block_signature_invalid', at, 'signature', `a signature by processor ${keys.processorAddress}`, Buffer.from(block.signature).toString('hex'),
      `block ${block.height} (${block.hashHex}) is not signed by processor ${keys.processorAddress}, the key pinned by block 0`);
  }
  if (block.previousHashHex !== head.hashHex) {
    throw alarmError('block_link_mismatch', at, 'previousHash', head.hashHex, block.previousHashHex,
      `block ${block.height} links to ${block.previousHashHex}, but block ${head.height} has hash ${head.hashHex}`);
  }
  if (block.processedMs <= head.processedMs) {
    throw alarmError('block_time_not_increasing', at, 'processedMs', `more than ${head.processedMs}`, block.processedMs,
      `block ${block.height} has processedMs ${block.processedMs}, not later than block ${head.height}'s ${head.processedMs}`);
  }
}

/**
 * Every transaction's signature (with the chain id), its id not seen before (`known`: ids the
 * store holds; `seen`: ids of this catch-up batch so far, updated here) and its valid-till.
 */
export function checkTransactions(block: Block, signatureOk: readonly boolean[], known: ReadonlySet<string>, seen: Set<string>, chainId: string): void {
  block.txs.forEach((tx, i) => {
    const at = { height: block.height, blockHash: block.hashHex, txId: tx.idHex };
    if (signatureOk[i] !== true) {
      throw alarmError('signature_invalid', at, 'txSignature', `a signature by ${tx.sender} for chain ${JSON.stringify(chainId)}`, Buffer.from(tx.signature).toString('hex'),
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) does not carry a valid signature of its public key for chain ${JSON.stringify(chainId)}`);
    }
    if (known.has(tx.idHex) || seen.has(tx.idHex)) {
      throw alarmError('tx_duplicate_id', at, 'txId', 'an id no earlier transaction used', tx.idHex,
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) repeats the id of an earlier transaction`);
    }
    seen.add(tx.idHex);
    if (isExpiredAt(tx, block.processedMs)) {
      throw alarmError('tx_expired', at, 'validTill', `0 or later than ${block.processedMs}`, tx.validTillMs,
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) is valid till ${tx.validTillMs}, but the block was produced at ${block.processedMs}`);
    }
  });
}

/** Re-execution must give every transaction the block's outcome, none invalid, and the block's digest. */
export function compareExecution(block: Block, result: BlockExecutionResult): void {
  block.txs.forEach((tx, i) => {
    const recorded = block.outcomes[i];
    const mine = result.outcomes[i];
    if (recorded === undefined || mine === undefined) {
      throw new ChainError('internal', `block ${block.height}: no outcome for transaction ${i} (${tx.idHex})`, { height: block.height });
    }
    const field = outcomeDifference(recorded, mine);
    if (field === null) return;
    throw alarmError('outcome_mismatch', { height: block.height, blockHash: block.hashHex, txId: tx.idHex }, field, outcomeJson(mine), outcomeJson(recorded),
      `transaction ${tx.idHex} (position ${i} of block ${block.height}): re-execution gives ${describeOutcome(mine)}, the block records ${describeOutcome(recorded)}`);
  });
  if (result.stateDigestHex !== block.stateDigestHex) {
    throw alarmError('state_digest_mismatch', { height: block.height, blockHash: block.hashHex }, 'stateDigest', result.stateDigestHex, block.stateDigestHex,
      `block ${block.height}: re-execution gives state digest ${result.stateDigestHex}, the block records ${block.stateDigestHex}`);
  }
}

/** The first field in which the outcomes differ, or null when they agree. */
function outcomeDifference(recorded: BlockTxOutcome, mine: TxOutcome): string | null {
  if (recorded.status !== mine.status) return 'outcome.status';
  if (recorded.status === 'rejected' && mine.status === 'rejected' && recorded.code !== mine.code) return 'outcome.code';
  if (recorded.message !== mine.message) return 'outcome.message';
  return null;
}

function outcomeJson(o: TxOutcome): { status: string; code: string | null; message: string } {
  return { status: o.status, code: o.status === 'accepted' ? null : o.code, message: o.message };
}

function describeOutcome(o: TxOutcome): string {
  const text = o.message.length > 200 ? `${o.message.slice(0, 200)}…` : o.message;
  return o.status === 'accepted' ? `accepted (${JSON.stringify(text)})` : `${o.status} ${o.code} (${JSON.stringify(text)})`;
}
