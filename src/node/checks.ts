// The mirror node's checks of one block, in the order docs/node.md lists them. Pure functions:
// each returns normally when the block passes and throws an AlarmError naming the block, the
// transaction and what differed when it does not.

import { decodeBlock } from '../chain/block-decode.js';
import { verifyBlockSignature } from '../chain/block-hash.js';
import { announcedHeight } from '../chain/block-layout.js';
import { type ChainKeys, checkGenesisBlock, genesisChainIdOf } from '../chain/genesis.js';
import { type HeadInfo, headerFault } from '../chain/header-rules.js';
import { isExpiredAt } from '../chain/tx.js';
import type { Block, BlockTxOutcome, TxOutcome } from '../chain/types.js';
import { toHex } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import type { BlockExecutionResult } from '../contracts/runtime/types.js';
import { alarmError } from './alarm.js';

/** Decodes a block for the chain; a block that does not decode is an alarm at the expected height. */
export function decodeOrAlarm(raw: Uint8Array, chainId: string, expectedHeight: number): Block {
  try {
    return decodeBlock(raw, chainId);
  } catch (err) {
    if (!(err instanceof ChainError)) throw err;
    const code = err.code === 'chain_mismatch' ? 'chain_mismatch' : 'block_malformed';
    throw alarmError(
      code,
      { height: expectedHeight },
      'bytes',
      `a block of chain ${JSON.stringify(chainId)} in the v1 layout`,
      err.message,
      `block ${expectedHeight} cannot be decoded: ${err.message}`,
    );
  }
}

/**
 * Block 0: decoded for the chain it names, then checked as a genesis (chain/genesis.ts): it pins
 * the chain id and the processor key, and must name the configured processor (if any).
 */
export function checkGenesis(
  raw: Uint8Array,
  pinnedAddress: string | null,
): { block: Block; keys: ChainKeys } {
  const height = announcedHeight(raw);
  if (height !== 0) {
    throw alarmError(
      'block_out_of_order',
      { height: 0 },
      'height',
      0,
      height,
      `asked for block 0 (the genesis), got ${height === null ? 'a block too short to carry a height' : `block ${height}`}`,
    );
  }
  const chainId = genesisChainIdOf(raw);
  if (chainId === null) {
    throw alarmError(
      'block_malformed',
      { height: 0 },
      'genesis',
      'genesis JSON naming the chain id',
      null,
      'block 0 carries no readable genesis JSON',
    );
  }
  const block = decodeOrAlarm(raw, chainId, 0);
  const checked = checkGenesisBlock(block, pinnedAddress);
  if (checked.fault !== null) {
    const { code, field, expected, got, message } = checked.fault;
    throw alarmError(code, { height: 0, blockHash: block.hashHex }, field, expected, got, message);
  }
  return { block, keys: checked.keys };
}

/**
 * The header rules (chain/header-rules.ts) against the node's head, and the processor signature.
 * The height is checked before the signature, the link and the time after it.
 */
export function checkHeader(block: Block, head: HeadInfo, keys: ChainKeys): void {
  const fault = headerFault(block, head);
  if (fault?.field === 'height') {
    throw alarmError(
      fault.code,
      { height: head.height + 1, blockHash: block.hashHex },
      fault.field,
      fault.expected,
      fault.got,
      fault.message,
    );
  }
  const at = { height: block.height, blockHash: block.hashHex };
  if (!verifyBlockSignature(block, keys.processorPublicKey)) {
    throw alarmError(
      'block_signature_invalid',
      at,
      'signature',
      `a signature by processor ${keys.processorAddress}`,
      toHex(block.signature),
      `block ${block.height} (${block.hashHex}) is not signed by processor ${keys.processorAddress}, the key pinned by block 0`,
    );
  }
  if (fault !== null)
    throw alarmError(fault.code, at, fault.field, fault.expected, fault.got, fault.message);
}

/**
 * Every transaction's signature (with the chain id), its id not seen before (`known`: ids the
 * store holds; `seen`: ids of this catch-up batch so far, updated here) and its valid-till.
 */
export function checkTransactions(
  block: Block,
  signatureOk: readonly boolean[],
  known: ReadonlySet<string>,
  seen: Set<string>,
  chainId: string,
): void {
  block.txs.forEach((tx, i) => {
    const at = { height: block.height, blockHash: block.hashHex, txId: tx.idHex };
    if (signatureOk[i] !== true) {
      throw alarmError(
        'signature_invalid',
        at,
        'txSignature',
        `a signature by ${tx.sender} for chain ${JSON.stringify(chainId)}`,
        Buffer.from(tx.signature).toString('hex'),
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) does not carry a valid signature of its public key for chain ${JSON.stringify(chainId)}`,
      );
    }
    if (known.has(tx.idHex) || seen.has(tx.idHex)) {
      throw alarmError(
        'tx_duplicate_id',
        at,
        'txId',
        'an id no earlier transaction used',
        tx.idHex,
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) repeats the id of an earlier transaction`,
      );
    }
    seen.add(tx.idHex);
    if (isExpiredAt(tx, block.processedMs)) {
      throw alarmError(
        'tx_expired',
        at,
        'validTill',
        `0 or later than ${block.processedMs}`,
        tx.validTillMs,
        `transaction ${tx.idHex} (position ${i} of block ${block.height}) is valid till ${tx.validTillMs}, but the block was produced at ${block.processedMs}`,
      );
    }
  });
}

/** Re-execution must give every transaction the block's outcome, none invalid, and the block's digest. */
export function compareExecution(block: Block, result: BlockExecutionResult): void {
  block.txs.forEach((tx, i) => {
    const recorded = block.outcomes[i];
    const mine = result.outcomes[i];
    if (recorded === undefined || mine === undefined) {
      throw new ChainError(
        'internal',
        `block ${block.height}: no outcome for transaction ${i} (${tx.idHex})`,
        { height: block.height },
      );
    }
    const field = outcomeDifference(recorded, mine);
    if (field === null) return;
    throw alarmError(
      'outcome_mismatch',
      { height: block.height, blockHash: block.hashHex, txId: tx.idHex },
      field,
      outcomeJson(mine),
      outcomeJson(recorded),
      `transaction ${tx.idHex} (position ${i} of block ${block.height}): re-execution gives ${describeOutcome(mine)}, the block records ${describeOutcome(recorded)}`,
    );
  });
  if (result.stateDigestHex !== block.stateDigestHex) {
    throw alarmError(
      'state_digest_mismatch',
      { height: block.height, blockHash: block.hashHex },
      'stateDigest',
      result.stateDigestHex,
      block.stateDigestHex,
      `block ${block.height}: re-execution gives state digest ${result.stateDigestHex}, the block records ${block.stateDigestHex}`,
    );
  }
}

/** The first field in which the outcomes differ, or null when they agree. */
function outcomeDifference(recorded: BlockTxOutcome, mine: TxOutcome): string | null {
  if (recorded.status !== mine.status) return 'outcome.status';
  if (recorded.status === 'rejected' && mine.status === 'rejected' && recorded.code !== mine.code)
    return 'outcome.code';
  if (recorded.message !== mine.message) return 'outcome.message';
  return null;
}

function outcomeJson(o: TxOutcome): { status: string; code: string | null; message: string } {
  return { status: o.status, code: o.status === 'accepted' ? null : o.code, message: o.message };
}

function describeOutcome(o: TxOutcome): string {
  const text = o.message.length > 200 ? `${o.message.slice(0, 200)}…` : o.message;
  return o.status === 'accepted'
    ? `accepted (${JSON.stringify(text)})`
    : `${o.status} ${o.code} (${JSON.stringify(text)})`;
}
