// Validana v1 transactions (PROTOCOL.md sections 2 and 3; docs/formats.md). The encoding is
// Validana's, byte for byte, so its clients and CLI work unchanged against HanzeNet.
//
// | 4 u32 LE length of the rest | 1 version | 16 id | 32 contract hash | 8 u64 LE valid till |
// | payload (UTF-8 JSON, L-158 bytes) | 64 signature r||s | 33 compressed public key |

import { randomBytes } from 'node:crypto';
import {
  fromHex,
  readU32LE,
  readU64LE,
  toHex,
  utf8Decode,
  utf8Encode,
  writeU32LE,
  writeU64LE,
} from '../core/bytes.js';
import { ChainError } from '../core/errors.js';
import { hash256Parts } from '../core/hash.js';
import { type PrivateKey, addressOfPublicKey, verifyDigest } from '../core/keys.js';
import type { Tx } from './types.js';

export const TX_VERSION = 1;
export const TX_ID_BYTES = 16;
export const TX_LENGTH_PREFIX_BYTES = 4;
/** Length prefix, version, id, contract hash and valid till. */
export const TX_HEAD_BYTES = 61;
/** Signature and public key. */
export const TX_TAIL_BYTES = 97;
/** A transaction with an empty payload, length prefix included. */
export const TX_BYTES_MIN = TX_HEAD_BYTES + TX_TAIL_BYTES;
export const TX_PAYLOAD_BYTES_MAX = 100_000;
export const TX_BYTES_MAX = TX_BYTES_MIN + TX_PAYLOAD_BYTES_MAX;
/** Validana stores the receiver column as VARCHAR(35). */
export const RECEIVER_CHARS_MAX = 35;

const OFFSET_VERSION = 4;
const OFFSET_ID = 5;
const OFFSET_CONTRACT_HASH = 21;
const OFFSET_VALID_TILL = 53;

export interface TxFields {
  readonly idHex: string;
  readonly contractHashHex: string;
  readonly validTillMs: number;
  readonly payloadText: string;
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface UnsignedTxInput {
  /** 16 bytes as hex; a random id when absent. */
  readonly idHex?: string;
  readonly contractHashHex: string;
  readonly validTillMs: number;
  readonly payloadText: string;
}

/**
 * Decodes and checks a transaction without verifying its signature. The 4-byte length prefix is
 * not compared with the real length: Validana's server accepts any value there (PROTOCOL.md 7.10);
 * see lengthPrefixMatches. The returned Tx owns a copy of the bytes.
 */
export function decodeTx(input: Uint8Array): Tx {
  // A plain copy (Buffer#slice would be a view), so the Tx never changes under its holder.
  const bytes = new Uint8Array(input);
  const length = bytes.length;
  if (length < TX_BYTES_MIN) {
    throw new ChainError(
      'tx_malformed',
      `a transaction is at least ${TX_BYTES_MIN} bytes (prefix, head and tail), got ${length}`,
      { length },
    );
  }
  const version = bytes[OFFSET_VERSION];
  if (version !== TX_VERSION) {
    throw new ChainError(
      'tx_unsupported_version',
      `transaction version must be ${TX_VERSION}, got ${String(version)}`,
      { version },
    );
  }
  const payloadBytes = length - TX_BYTES_MIN;
  if (payloadBytes > TX_PAYLOAD_BYTES_MAX) {
    throw new ChainError(
      'tx_too_large',
      `the payload may be at most ${TX_PAYLOAD_BYTES_MAX} bytes, got ${payloadBytes}`,
      { payloadBytes },
    );
  }
  const idHex = toHex(bytes.subarray(OFFSET_ID, OFFSET_CONTRACT_HASH));
  const publicKey = bytes.slice(length - 33);
  const sender = addressOfPublicKey(publicKey);
  if (sender === null) {
    throw new ChainError(
      'tx_bad_public_key',
      `transaction ${idHex}: expected a compressed secp256k1 public key (0x02/0x03, x on the curve), ` +
        `got ${toHex(publicKey)}`,
      { id: idHex },
    );
  }
  const validTillMs = decodeValidTill(bytes, idHex);
  const payloadText = decodePayload(bytes.subarray(TX_HEAD_BYTES, length - TX_TAIL_BYTES), idHex);
  return {
    bytes,
    version: TX_VERSION,
    idHex,
    contractHashHex: toHex(bytes.subarray(OFFSET_CONTRACT_HASH, OFFSET_VALID_TILL)),
    validTillMs,
    payloadText,
    signature: bytes.slice(length - TX_TAIL_BYTES, length - 33),
    publicKey,
    sender,
  };
}

function decodeValidTill(bytes: Uint8Array, idHex: string): number {
  try {
    return readU64LE(bytes, OFFSET_VALID_TILL);
  } catch (err) {
    const raw = toHex(bytes.subarray(OFFSET_VALID_TILL, OFFSET_VALID_TILL + 8));
    throw new ChainError(
      'tx_bad_valid_till',
      `transaction ${idHex}: valid_till must be at most 2^53-1, got u64 LE ${raw}`,
      { id: idHex },
      { cause: err },
    );
  }
}

/** The exact payload text, after checking it is UTF-8 JSON text of an object. */
function decodePayload(payload: Uint8Array, idHex: string): string {
  let text: string;
  try {
    text = utf8Decode(payload);
  } catch (err) {
    throw new ChainError(
      'tx_payload_not_json',
      `transaction ${idHex}: the payload is not valid UTF-8`,
      { id: idHex },
      { cause: err },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ChainError(
      'tx_payload_not_json',
      `transaction ${idHex}: the payload is not JSON text (${(err as Error).message})`,
      { id: idHex },
      { cause: err },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ChainError(
      'tx_payload_not_json',
      `transaction ${idHex}: the payload must be a JSON object, got ${got}`,
      { id: idHex },
    );
  }
  return text;
}

/** True when the 4-byte prefix equals the number of bytes after it (always so for real clients). */
export function lengthPrefixMatches(bytes: Uint8Array): boolean {
  const rest = bytes.length - TX_LENGTH_PREFIX_BYTES;
  return rest >= 0 && readU32LE(bytes, 0) === rest;
}

/**
 * The same bytes with a correct length prefix (a copy only when it was wrong). The prefix is not
 * signed, so correcting it keeps the signature valid; blocks need it to split transactions.
 */
export function withCorrectLengthPrefix(bytes: Uint8Array): Uint8Array {
  if (lengthPrefixMatches(bytes)) return bytes;
  const out = new Uint8Array(bytes);
  writeU32LE(out, 0, out.length - TX_LENGTH_PREFIX_BYTES);
  return out;
}

/**
 * Encodes the fields with a correct length prefix. Checks sizes and ranges (throwing the same codes
 * as decodeTx) but not that the payload is JSON or the key on the curve: decodeTx is the gate.
 */
export function encodeTx(fields: TxFields): Uint8Array {
  const id = fromHex(fields.idHex, TX_ID_BYTES);
  const contractHash = fromHex(fields.contractHashHex, 32);
  const { validTillMs } = fields;
  if (!Number.isSafeInteger(validTillMs) || validTillMs < 0) {
    throw new ChainError(
      'tx_bad_valid_till',
      `valid_till must be an integer from 0 to 2^53-1, got ${String(validTillMs)}`,
    );
  }
  const payload = utf8Encode(fields.payloadText);
  if (payload.length > TX_PAYLOAD_BYTES_MAX) {
    throw new ChainError(
      'tx_too_large',
      `the payload may be at most ${TX_PAYLOAD_BYTES_MAX} bytes, got ${payload.length}`,
      { payloadBytes: payload.length },
    );
  }
  if (fields.signature.length !== 64) {
    throw new ChainError(
      'tx_malformed',
      `a signature is 64 bytes (r || s), got ${fields.signature.length}`,
    );
  }
  if (fields.publicKey.length !== 33) {
    throw new ChainError(
      'tx_bad_public_key',
      `expected a 33-byte compressed public key, got ${fields.publicKey.length} bytes`,
    );
  }
  const length = TX_BYTES_MIN + payload.length;
  const out = new Uint8Array(length);
  writeU32LE(out, 0, length - TX_LENGTH_PREFIX_BYTES);
  out[OFFSET_VERSION] = TX_VERSION;
  out.set(id, OFFSET_ID);
  out.set(contractHash, OFFSET_CONTRACT_HASH);
  writeU64LE(out, OFFSET_VALID_TILL, validTillMs);
  out.set(payload, TX_HEAD_BYTES);
  out.set(fields.signature, length - TX_TAIL_BYTES);
  out.set(fields.publicKey, length - 33);
  return out;
}

/** utf8(chainId) || bytes[4 .. L-97): what a transaction signature covers. */
export function txSignedMessage(chainId: string, bytes: Uint8Array): Uint8Array {
  assertTxLength(bytes);
  const prefix = utf8Encode(chainId);
  const body = bytes.subarray(TX_LENGTH_PREFIX_BYTES, bytes.length - TX_TAIL_BYTES);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

/** hash256(txSignedMessage(chainId, tx.bytes)): the digest that is signed. */
export function txDigest(chainId: string, tx: Pick<Tx, 'bytes'>): Uint8Array {
  assertTxLength(tx.bytes);
  return signedDigestOf(utf8Encode(chainId), tx.bytes);
}

function signedDigestOf(prefix: Uint8Array, bytes: Uint8Array): Uint8Array {
  return hash256Parts(prefix, bytes.subarray(TX_LENGTH_PREFIX_BYTES, bytes.length - TX_TAIL_BYTES));
}

function assertTxLength(bytes: Uint8Array): void {
  if (bytes.length < TX_BYTES_MIN) {
    throw new ChainError(
      'tx_malformed',
      `a transaction is at least ${TX_BYTES_MIN} bytes, got ${bytes.length}`,
    );
  }
}

/** Builds, signs (RFC 6979, low S) and decodes a transaction. */
export function signTx(input: UnsignedTxInput, key: PrivateKey, chainId: string): Tx {
  const unsigned = encodeTx({
    idHex: input.idHex ?? randomTxIdHex(),
    contractHashHex: input.contractHashHex,
    validTillMs: input.validTillMs,
    payloadText: input.payloadText,
    signature: new Uint8Array(64),
    publicKey: key.publicKey,
  });
  // The signature bytes are outside the signed range, so the zero placeholder does not matter.
  const signature = key.signDigest(signedDigestOf(utf8Encode(chainId), unsigned));
  unsigned.set(signature, unsigned.length - TX_TAIL_BYTES);
  return decodeTx(unsigned);
}

export function verifyTxSignature(tx: Tx, chainId: string): boolean {
  return verifyDigest(txDigest(chainId, tx), tx.signature, tx.publicKey);
}

/**
 * Signature check straight on encoded bytes, without decoding the payload: what the verification
 * workers run. `prefix` is utf8(chainId). False for anything malformed; never throws.
 */
export function verifyTxBytesSignature(prefix: Uint8Array, bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length < TX_BYTES_MIN || length > TX_BYTES_MAX) return false;
  const digest = signedDigestOf(prefix, bytes);
  const signature = bytes.subarray(length - TX_TAIL_BYTES, length - 33);
  return verifyDigest(digest, signature, bytes.subarray(length - 33));
}

/** 16 random bytes as hex, the way Validana clients choose ids. */
export function randomTxIdHex(): string {
  return toHex(randomBytes(TX_ID_BYTES));
}

/**
 * Validana's searchable `receiver` column: the payload's top-level `receiver` value as a string,
 * cut to 35 characters; null when absent or null, or when the payload is not a JSON object.
 */
export function receiverOf(payloadText: string): string | null {
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    // A stored payload always parses; anything else simply has no receiver.
    return null;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const value = (payload as Record<string, unknown>)['receiver'];
  if (value === undefined || value === null) return null;
  // String() matches Validana's `receiver.toString()` for every JSON value type.
  const text = String(value).slice(0, RECEIVER_CHARS_MAX);
  // Cutting by UTF-16 units can leave half a surrogate pair, which is not storable as UTF-8.
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/**
 * The valid-till rule: a transaction may be in a block whose time is `chainTimeMs` only while
 * `validTillMs` is 0 (never expires) or later than that time. The processor applies it at
 * admission (to the time the next block would get) and to each block; mirror nodes check it.
 */
export function isExpiredAt(tx: { readonly validTillMs: number }, chainTimeMs: number): boolean {
  return tx.validTillMs !== 0 && tx.validTillMs <= chainTimeMs;
}
