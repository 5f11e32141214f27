// Encoding and signing a block (layout in block-layout.ts, docs/formats.md). The processor builds
// every block through buildBlock, which refuses fields that break the format before anything is
// signed.

import {
  fromHex,
  isHex,
  toHex,
  truncateUtf8,
  utf8Encode,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from '../core/bytes.js';
import type { PrivateKey } from '../core/keys.js';
import { blockHashOf } from './block-hash.js';
import {
  BLOCK_BYTES_MAX,
  BLOCK_BYTES_MIN,
  BLOCK_SIGNATURE_BYTES,
  BLOCK_VERSION,
  type BlockFields,
  CODE_PATTERN,
  GENESIS_LENGTH_OFFSET,
  GENESIS_OFFSET,
  HEIGHT_OFFSET,
  OUTCOME_CODE_CHARS_MAX,
  OUTCOME_MESSAGE_BYTES_MAX,
  PREVIOUS_HASH_OFFSET,
  PROCESSED_MS_OFFSET,
  STATE_DIGEST_OFFSET,
  STATUS_ACCEPTED,
  STATUS_REJECTED,
  TXS_PER_BLOCK_MAX,
  VERSION_OFFSET,
  malformed,
} from './block-layout.js';
import { genesisBuildProblem, genesisJson } from './genesis.js';
import { genesisPlacementProblem } from './header-rules.js';
import { withCorrectLengthPrefix } from './tx.js';
import type { Block, BlockTxOutcome } from './types.js';

/**
 * The outcome with its message cut to OUTCOME_MESSAGE_BYTES_MAX bytes of UTF-8. Contract messages
 * can quote payload data of any length; the executor applies this before the outcome is stored, so
 * the processor and every mirror node record the same text and buildBlock never refuses it.
 */
export function fitOutcome(o: BlockTxOutcome): BlockTxOutcome {
  const message = truncateUtf8(o.message, OUTCOME_MESSAGE_BYTES_MAX);
  if (message === o.message) return o;
  if (o.status === 'accepted') return { status: 'accepted', message };
  return { status: 'rejected', code: o.code, message };
}

/**
 * Encodes and signs a block. Transactions whose length prefix was wrong (Validana clients may send
 * any value there) are written with the correct prefix, since blocks are split by it; the prefix is
 * not signed, so their signatures still verify. Throws `block_malformed` for fields that break the
 * format: a processor bug, so nothing is signed.
 */
export function buildBlock(fields: BlockFields, key: PrivateKey, chainId: string): Block {
  assertBuildable(fields, key, chainId);
  const txBytes = fields.txs.map((tx) => withCorrectLengthPrefix(tx.bytes));
  const genesis =
    fields.genesis === null ? new Uint8Array(0) : utf8Encode(genesisJson(fields.genesis));
  const outcomes = fields.outcomes.map(encodeOutcome);
  let length = BLOCK_BYTES_MIN + genesis.length;
  for (const b of txBytes) length += b.length;
  for (const o of outcomes) length += o.length;
  if (length > BLOCK_BYTES_MAX) {
    throw malformed(`block ${fields.height} would be ${length} bytes, at most ${BLOCK_BYTES_MAX}`, {
      height: fields.height,
    });
  }
  const bytes = new Uint8Array(length);
  let at = writeHeader(bytes, fields, genesis);
  writeU32LE(bytes, at, txBytes.length);
  at += 4;
  for (const part of [...txBytes, ...outcomes]) {
    bytes.set(part, at);
    at += part.length;
  }
  const hash = blockHashOf(chainId, bytes);
  const signature = key.signDigest(hash);
  bytes.set(signature, length - BLOCK_SIGNATURE_BYTES);
  return {
    bytes,
    version: BLOCK_VERSION,
    height: fields.height,
    previousHashHex: fields.previousHashHex.toLowerCase(),
    processedMs: fields.processedMs,
    stateDigestHex: fields.stateDigestHex.toLowerCase(),
    genesis: fields.genesis === null ? null : { ...fields.genesis },
    txs: fields.txs.map((tx, i) => {
      const bytes = txBytes[i] ?? tx.bytes;
      return bytes === tx.bytes ? tx : { ...tx, bytes };
    }),
    outcomes: fields.outcomes.map(copyOutcome),
    signature,
    hashHex: toHex(hash),
  };
}

/** Writes everything up to and including the genesis; returns the offset after it. */
function writeHeader(bytes: Uint8Array, fields: BlockFields, genesis: Uint8Array): number {
  writeU32LE(bytes, 0, bytes.length - 4);
  bytes[VERSION_OFFSET] = BLOCK_VERSION;
  writeU64LE(bytes, HEIGHT_OFFSET, fields.height);
  bytes.set(fromHex(fields.previousHashHex, 32), PREVIOUS_HASH_OFFSET);
  writeU64LE(bytes, PROCESSED_MS_OFFSET, fields.processedMs);
  bytes.set(fromHex(fields.stateDigestHex, 32), STATE_DIGEST_OFFSET);
  writeU16LE(bytes, GENESIS_LENGTH_OFFSET, genesis.length);
  bytes.set(genesis, GENESIS_OFFSET);
  return GENESIS_OFFSET + genesis.length;
}

function copyOutcome(o: BlockTxOutcome): BlockTxOutcome {
  if (o.status === 'accepted') return { status: 'accepted', message: o.message };
  return { status: 'rejected', code: o.code, message: o.message };
}

function encodeOutcome(o: BlockTxOutcome): Uint8Array {
  const code = utf8Encode(o.status === 'accepted' ? '' : o.code);
  const message = utf8Encode(o.message);
  const out = new Uint8Array(1 + 1 + code.length + 2 + message.length);
  out[0] = o.status === 'accepted' ? STATUS_ACCEPTED : STATUS_REJECTED;
  out[1] = code.length;
  out.set(code, 2);
  writeU16LE(out, 2 + code.length, message.length);
  out.set(message, 4 + code.length);
  return out;
}

function assertBuildable(fields: BlockFields, key: PrivateKey, chainId: string): void {
  const problem = headerProblem(fields) ?? contentProblem(fields, key, chainId);
  if (problem !== null) {
    throw malformed(`cannot build block ${fields.height}: ${problem}`, { height: fields.height });
  }
}

/** Why the header fields cannot be encoded, or null when they can. */
function headerProblem(f: BlockFields): string | null {
  if (!Number.isSafeInteger(f.height) || f.height < 0) {
    return `height must be an integer >= 0, got ${String(f.height)}`;
  }
  if (!Number.isSafeInteger(f.processedMs) || f.processedMs < 0) {
    return `processedMs must be an integer >= 0, got ${String(f.processedMs)}`;
  }
  if (!isHex(f.previousHashHex, 32)) {
    return `previousHashHex must be 32 bytes of hex, got ${JSON.stringify(f.previousHashHex)}`;
  }
  if (!isHex(f.stateDigestHex, 32)) {
    return `stateDigestHex must be 32 bytes of hex, got ${JSON.stringify(f.stateDigestHex)}`;
  }
  return genesisPlacementProblem(f.height, f.previousHashHex, f.genesis !== null);
}

/** Why the genesis, transactions or outcomes cannot be stored, or null when they can. */
function contentProblem(f: BlockFields, key: PrivateKey, chainId: string): string | null {
  if (f.genesis !== null) {
    const problem = genesisBuildProblem(f.genesis, key, chainId);
    if (problem !== null) return problem;
  }
  if (f.txs.length !== f.outcomes.length) {
    return `${f.txs.length} transactions but ${f.outcomes.length} outcomes`;
  }
  if (f.txs.length > TXS_PER_BLOCK_MAX) {
    return `${f.txs.length} transactions, at most ${TXS_PER_BLOCK_MAX}`;
  }
  for (const [i, o] of f.outcomes.entries()) {
    const problem = outcomeProblem(o);
    if (problem !== null) return `outcome ${i} (tx ${f.txs[i]?.idHex ?? '?'}): ${problem}`;
  }
  return null;
}

/** Why an outcome cannot be stored, or null when it can. */
function outcomeProblem(o: BlockTxOutcome): string | null {
  if (o.status !== 'accepted' && o.status !== 'rejected') {
    return `status must be accepted or rejected, got ${String((o as { status: unknown }).status)}`;
  }
  const max = OUTCOME_CODE_CHARS_MAX;
  if (o.status === 'rejected' && (o.code.length > max || !CODE_PATTERN.test(o.code))) {
    return `code must be 1 to ${max} printable ASCII characters, got ${JSON.stringify(o.code)}`;
  }
  if (typeof o.message !== 'string') return `message must be a string, got ${typeof o.message}`;
  const messageBytes = utf8Encode(o.message).length;
  if (messageBytes > OUTCOME_MESSAGE_BYTES_MAX) {
    const max = OUTCOME_MESSAGE_BYTES_MAX;
    return `message is ${messageBytes} bytes of UTF-8, at most ${max} (cut it with truncateUtf8)`;
  }
  return null;
}
