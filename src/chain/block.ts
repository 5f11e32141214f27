// HanzeNet block format v1 (docs/formats.md). Our own format: unlike Validana's (PROTOCOL.md
// section 6) a block also commits to every transaction's outcome and to a digest of the state
// changes, so a mirror node can check its re-execution against the processor's.
//
// | u32 length of the rest | u8 version | u64 height | 32 previous hash | u64 processedMs |
// | 32 state digest | u16 G + G bytes genesis JSON | u32 N | N transactions (own length prefix) |
// | N outcomes: u8 status, u8 codeLen + code, u16 msgLen + message | 64 signature |
//
// hash = hash256(utf8(chainId) || bytes[4 .. L-64)); the signature is over that same hash.

import {
  equalBytes,
  fromHex,
  isHex,
  readU16LE,
  readU32LE,
  readU64LE,
  toHex,
  truncateUtf8,
  utf8Decode,
  utf8Encode,
  writeU16LE,
  writeU32LE,
  writeU64LE,
} from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { hash256Parts } from '../core/hash.js';
import { type PrivateKey, addressFromPublicKey, isValidPublicKey, verifyDigest } from '../core/keys.js';
import { TX_BYTES_MIN, decodeTx, withCorrectLengthPrefix } from './tx.js';
import type { Block, BlockTxOutcome, GenesisInfo, Tx } from './types.js';

export const BLOCK_VERSION = 1;
export const TXS_PER_BLOCK_MAX = 50_000;
export const BLOCK_BYTES_MAX = 64 * 1024 * 1024;
export const OUTCOME_CODE_CHARS_MAX = 64;
export const OUTCOME_MESSAGE_BYTES_MAX = 1024;
export const BLOCK_SIGNATURE_BYTES = 64;
/** Everything but genesis, transactions and outcomes, length prefix included. */
export const BLOCK_BYTES_MIN = 4 + 1 + 8 + 32 + 8 + 32 + 2 + 4 + BLOCK_SIGNATURE_BYTES;
const GENESIS_JSON_BYTES_MAX = 0xffff;
const ZERO_HASH_HEX = '00'.repeat(32);
const STATUS_ACCEPTED = 1;
const STATUS_REJECTED = 2;
/** Printable ASCII without space: codes are identifiers such as `contract_rejected`. */
const CODE_PATTERN = /^[\x21-\x7e]+$/;

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

function malformed(message: string, details: Record<string, unknown> = {}, cause?: unknown): ChainError {
  return new ChainError(
    'block_malformed',
    message,
    details,
    cause === undefined ? undefined : { cause },
  );
}

/** The exact genesis JSON text: these three keys in this order, no whitespace. */
export function genesisJson(genesis: GenesisInfo): string {
  return JSON.stringify({
    chainId: genesis.chainId,
    processorPublicKey: genesis.processorPublicKeyHex,
    processorAddress: genesis.processorAddress,
  });
}

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

/** hash256(utf8(chainId) || bytes[4 .. L-64)) of an encoded block, lowercase hex. */
export function blockHashHex(chainId: string, bytes: Uint8Array): string {
  if (bytes.length < BLOCK_BYTES_MIN) {
    throw malformed(`a block is at least ${BLOCK_BYTES_MIN} bytes, got ${bytes.length}`);
  }
  const signed = bytes.subarray(4, bytes.length - BLOCK_SIGNATURE_BYTES);
  return toHex(hash256Parts(utf8Encode(chainId), signed));
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
  const genesis = fields.genesis === null ? new Uint8Array(0) : utf8Encode(genesisJson(fields.genesis));
  const outcomes = fields.outcomes.map(encodeOutcome);
  let length = BLOCK_BYTES_MIN + genesis.length;
  for (const b of txBytes) length += b.length;
  for (const o of outcomes) length += o.length;
  if (length > BLOCK_BYTES_MAX) {
    throw malformed(
      `block ${fields.height} would be ${length} bytes, at most ${BLOCK_BYTES_MAX}`,
      { height: fields.height },
    );
  }
  const bytes = new Uint8Array(length);
  let at = writeHeader(bytes, fields, genesis);
  writeU32LE(bytes, at, txBytes.length);
  at += 4;
  for (const part of [...txBytes, ...outcomes]) {
    bytes.set(part, at);
    at += part.length;
  }
  const hash = hash256Parts(utf8Encode(chainId), bytes.subarray(4, length - BLOCK_SIGNATURE_BYTES));
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
  bytes[4] = BLOCK_VERSION;
  writeU64LE(bytes, 5, fields.height);
  bytes.set(fromHex(fields.previousHashHex, 32), 13);
  writeU64LE(bytes, 45, fields.processedMs);
  bytes.set(fromHex(fields.stateDigestHex, 32), 53);
  writeU16LE(bytes, 85, genesis.length);
  bytes.set(genesis, 87);
  return 87 + genesis.length;
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
  if (f.height === 0 && f.previousHashHex.toLowerCase() !== ZERO_HASH_HEX) {
    return `block 0 must link to the zero hash, got ${f.previousHashHex}`;
  }
  if (f.height === 0 && f.genesis === null) return 'block 0 must carry the genesis information';
  if (f.height !== 0 && f.genesis !== null) return 'only block 0 may carry genesis information';
  return null;
}

/** Why the genesis, transactions or outcomes cannot be stored, or null when they can. */
function contentProblem(f: BlockFields, key: PrivateKey, chainId: string): string | null {
  if (f.genesis !== null) {
    const problem = genesisProblem(f.genesis, key, chainId);
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

function genesisProblem(genesis: GenesisInfo, key: PrivateKey, chainId: string): string | null {
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
  checkGenesisPlacement(height, previousHashHex, genesisBytes.length);
  const genesis = genesisBytes.length === 0 ? null : decodeGenesis(genesisBytes, chainId);
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

function checkGenesisPlacement(height: number, previousHashHex: string, genesisLength: number): void {
  if (height === 0 && previousHashHex !== ZERO_HASH_HEX) {
    throw malformed(`block 0 must link to the zero hash, got ${previousHashHex}`, { height });
  }
  if (height === 0 && genesisLength === 0) {
    throw malformed('block 0 carries no genesis information', { height });
  }
  if (height !== 0 && genesisLength > 0) {
    throw malformed(
      `block ${height} carries genesis information, which only block 0 may`,
      { height },
    );
  }
}

function decodeGenesis(raw: Uint8Array, chainId: string): GenesisInfo {
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
  const genesis: GenesisInfo = { chainId: id, processorPublicKeyHex: pkHex, processorAddress: address };
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

function decodeTxs(r: Reader, height: number): Tx[] {
  const count = r.u32('transaction count');
  if (count > TXS_PER_BLOCK_MAX) {
    throw malformed(
      `block ${height}: ${count} transactions, at most ${TXS_PER_BLOCK_MAX}`,
      { height, count },
    );
  }
  // Each transaction needs at least TX_BYTES_MIN bytes plus a 4-byte outcome.
  if (count * (TX_BYTES_MIN + 4) > r.remaining) {
    const left = r.remaining;
    throw malformed(
      `block ${height}: ${count} transactions cannot fit in the ${left} bytes left`,
      { height, count },
    );
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

/** True when the block's signature is the given processor key's signature of its hash. */
export function verifyBlockSignature(block: Block, processorPublicKey: Uint8Array): boolean {
  return verifyDigest(fromHex(block.hashHex, 32), block.signature, processorPublicKey);
}
