// Decoding a block (layout in block-layout.ts, docs/formats.md): every deviation from the layout
// is `block_malformed` with the offset or field that broke it.

import { readU16LE, readU32LE, readU64LE, toHex, utf8Decode } from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { blockHashHex } from './block-hash.js';
import {
  BLOCK_BYTES_MAX,
  BLOCK_BYTES_MIN,
  BLOCK_SIGNATURE_BYTES,
  BLOCK_VERSION,
  CODE_PATTERN,
  OUTCOME_CODE_CHARS_MAX,
  OUTCOME_MESSAGE_BYTES_MAX,
  STATUS_ACCEPTED,
  STATUS_REJECTED,
  TXS_PER_BLOCK_MAX,
  malformed,
} from './block-layout.js';
import { decodeGenesisJson } from './genesis.js';
import { genesisPlacementProblem } from './header-rules.js';
import { TX_BYTES_MIN, decodeTx } from './tx.js';
import type { Block, BlockTxOutcome, Tx } from './types.js';

/** Reads fields in order and reports exactly where a block is too short. */
class Reader {
  offset = 4;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
  ) {}

  take(n: number, what: string): Uint8Array {
    if (this.offset + n > this.end) {
      const left = this.end - this.offset;
      throw malformed(
        `truncated: ${what} needs ${n} bytes at offset ${this.offset}, ` +
          `only ${left} left before the signature`,
        { offset: this.offset },
      );
    }
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(what: string): number {
    return this.take(1, what)[0] ?? 0;
  }

  u16(what: string): number {
    return readU16LE(this.take(2, what), 0);
  }

  u32(what: string): number {
    return readU32LE(this.take(4, what), 0);
  }

  u64(what: string): number {
    const at = this.offset;
    try {
      return readU64LE(this.take(8, what), 0);
    } catch (err) {
      if (err instanceof ChainError) throw err;
      throw malformed(`${what} at offset ${at} is larger than 2^53-1`, { offset: at }, err);
    }
  }

  get remaining(): number {
    return this.end - this.offset;
  }
}

/**
 * Decodes a block and computes its hash. Does not verify the signature (verifyBlockSignature) nor
 * the link to the previous block. Throws `block_malformed` for any deviation from the layout and
 * `chain_mismatch` when a genesis block names another chain than `chainId`.
 */
export function decodeBlock(input: Uint8Array, chainId: string): Block {
  // A plain copy (Buffer#slice would be a view), so the block never changes under its holder.
  const bytes = new Uint8Array(input);
  checkOuterLength(bytes);
  const r = new Reader(bytes, bytes.length - BLOCK_SIGNATURE_BYTES);
  const version = r.u8('version');
  if (version !== BLOCK_VERSION) {
    throw malformed(`unsupported block version ${version}, expected ${BLOCK_VERSION}`, { version });
  }
  const height = r.u64('height');
  const previousHashHex = toHex(r.take(32, 'previous hash'));
  const processedMs = r.u64('processedMs');
  const stateDigestHex = toHex(r.take(32, 'state digest'));
  const genesisBytes = r.take(r.u16('genesis length'), 'genesis JSON');
  const placement = genesisPlacementProblem(height, previousHashHex, genesisBytes.length > 0);
  if (placement !== null) throw malformed(placement, { height });
  const genesis = genesisBytes.length === 0 ? null : decodeGenesisJson(genesisBytes, chainId);
  const txs = decodeTxs(r, height);
  const outcomes = txs.map((tx, i) => decodeOutcome(r, height, i, tx.idHex));
  if (r.remaining !== 0) {
    const extra = r.remaining;
    throw malformed(
      `block ${height}: ${extra} trailing bytes between the last outcome and the signature`,
      { height },
    );
  }
  return {
    bytes,
    version: BLOCK_VERSION,
    height,
    previousHashHex,
    processedMs,
    stateDigestHex,
    genesis,
    txs,
    outcomes,
    signature: bytes.slice(bytes.length - BLOCK_SIGNATURE_BYTES),
    hashHex: blockHashHex(chainId, bytes),
  };
}

function checkOuterLength(bytes: Uint8Array): void {
  const length = bytes.length;
  const details = { length };
  if (length > BLOCK_BYTES_MAX) {
    throw malformed(`a block is at most ${BLOCK_BYTES_MAX} bytes, got ${length}`, details);
  }
  if (length < BLOCK_BYTES_MIN) {
    throw malformed(
      `truncated: a block is at least ${BLOCK_BYTES_MIN} bytes, got ${length}`,
      details,
    );
  }
  const announced = readU32LE(bytes, 0);
  const follow = length - 4;
  if (announced > follow) {
    throw malformed(
      `truncated: the length prefix announces ${announced} bytes but only ${follow} follow`,
      details,
    );
  }
  if (announced < follow) {
    throw malformed(
      `trailing bytes: the length prefix announces ${announced} bytes but ${follow} follow`,
      details,
    );
  }
}

function decodeTxs(r: Reader, height: number): Tx[] {
  const count = r.u32('transaction count');
  if (count > TXS_PER_BLOCK_MAX) {
    throw malformed(`block ${height}: ${count} transactions, at most ${TXS_PER_BLOCK_MAX}`, {
      height,
      count,
    });
  }
  // Each transaction needs at least TX_BYTES_MIN bytes plus a 4-byte outcome.
  if (count * (TX_BYTES_MIN + 4) > r.remaining) {
    const left = r.remaining;
    throw malformed(`block ${height}: ${count} transactions cannot fit in the ${left} bytes left`, {
      height,
      count,
    });
  }
  const txs: Tx[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const length = 4 + r.u32(`length prefix of transaction ${i}`);
    r.offset = at;
    const raw = r.take(length, `transaction ${i}`);
    try {
      txs.push(decodeTx(raw));
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      const details = { height, index: i, txCode: err.code };
      throw malformed(
        `block ${height}: transaction ${i} at offset ${at}: ${err.message} (${err.code})`,
        details,
        err,
      );
    }
  }
  return txs;
}

function decodeOutcome(r: Reader, height: number, index: number, idHex: string): BlockTxOutcome {
  const fail = (what: string): never => {
    throw malformed(`block ${height}: outcome ${index} (tx ${idHex}): ${what}`, { height, index });
  };
  const status = r.u8(`status of outcome ${index}`);
  if (status !== STATUS_ACCEPTED && status !== STATUS_REJECTED) {
    fail(`unknown status ${status}, expected 1 or 2`);
  }
  const codeLength = r.u8(`code length of outcome ${index}`);
  if (codeLength > OUTCOME_CODE_CHARS_MAX) {
    fail(`code length ${codeLength}, at most ${OUTCOME_CODE_CHARS_MAX}`);
  }
  if (status === STATUS_ACCEPTED && codeLength !== 0) {
    fail(`an accepted outcome has no code, got ${codeLength} bytes`);
  }
  if (status === STATUS_REJECTED && codeLength === 0) fail('a rejected outcome needs a code');
  const code = String.fromCharCode(...r.take(codeLength, `code of outcome ${index}`));
  if (codeLength > 0 && !CODE_PATTERN.test(code)) {
    fail(`the code must be printable ASCII, got ${JSON.stringify(code)}`);
  }
  const messageLength = r.u16(`message length of outcome ${index}`);
  if (messageLength > OUTCOME_MESSAGE_BYTES_MAX) {
    fail(`message length ${messageLength}, at most ${OUTCOME_MESSAGE_BYTES_MAX}`);
  }
  const messageBytes = r.take(messageLength, `message of outcome ${index}`);
  let message = '';
  try {
    message = utf8Decode(messageBytes);
  } catch (err) {
    throw malformed(
      `block ${height}: outcome ${index} (tx ${idHex}): the message is not valid UTF-8`,
      { height, index },
      err,
    );
  }
  if (status === STATUS_ACCEPTED) return { status: 'accepted', message };
  return { status: 'rejected', code, message };
}
