// secp256k1 keys, WIF and addresses (PROTOCOL.md section 1), over the libsecp256k1 binding.
// Signing is RFC 6979 with low S (libsecp256k1's defaults), so our signatures are reproducible and
// golden vectors are possible. Verification accepts high S because Validana clients sign with a
// random nonce and never normalise (PROTOCOL.md section 3).

import { randomBytes } from 'node:crypto';
import secp256k1 from 'secp256k1';
import { base58CheckDecode, base58CheckEncode } from './base58.js';
import { concatBytes } from './bytes.js';
import { ChainError } from './errors.js';
import { hash160, hash256 } from './hash.js';

const WIF_VERSION = 0x80;
const WIF_COMPRESSED_FLAG = 0x01;
const ADDRESS_VERSION = 0x00;
export const PUBLIC_KEY_BYTES = 33;
export const SIGNATURE_BYTES = 64;
export const DIGEST_BYTES = 32;

/** The order n of the secp256k1 group, big-endian. */
const CURVE_ORDER = Buffer.from(
  'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
  'hex',
);

type WifParse = { ok: true; d: Uint8Array } | { ok: false; reason: string };

// Reasons never quote the WIF itself: it is a secret and messages end up in logs.
function parseWif(wif: unknown): WifParse {
  if (typeof wif !== 'string')
    return { ok: false, reason: `expected a WIF string, got ${typeof wif}` };
  const payload = base58CheckDecode(wif);
  if (payload === null) {
    return {
      ok: false,
      reason: 'not base58check (a character outside the alphabet or a wrong checksum)',
    };
  }
  if (payload.length !== 34) {
    const got = payload.length + 4;
    return {
      ok: false,
      reason: `expected 38 decoded bytes (0x80, 32-byte key, 0x01, checksum), got ${got}`,
    };
  }
  if (payload[0] !== WIF_VERSION) {
    return { ok: false, reason: `expected version byte 0x80, got 0x${hex2(payload[0])}` };
  }
  if (payload[33] !== WIF_COMPRESSED_FLAG) {
    return { ok: false, reason: `expected compression flag 0x01, got 0x${hex2(payload[33])}` };
  }
  const d = payload.slice(1, 33);
  if (!secp256k1.privateKeyVerify(d)) {
    return { ok: false, reason: 'the key is 0 or not below the curve order n' };
  }
  return { ok: true, d };
}

function describe(x: unknown): string {
  return x instanceof Uint8Array ? `${x.length} bytes` : typeof x;
}

function hex2(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}

export class PrivateKey {
  readonly #d: Uint8Array;
  readonly #publicKey: Uint8Array;
  /** The Bitcoin P2PKH address of the compressed public key. */
  readonly address: string;

  private constructor(d: Uint8Array) {
    this.#d = d;
    this.#publicKey = secp256k1.publicKeyCreate(d, true);
    this.address = addressFromPublicKey(this.#publicKey);
  }

  /** Throws ChainError `key_invalid` unless `wif` is a mainnet, compressed, in-range WIF. */
  static fromWIF(wif: string): PrivateKey {
    const parsed = parseWif(wif);
    if (!parsed.ok)
      throw new ChainError('key_invalid', `invalid WIF private key: ${parsed.reason}`);
    return new PrivateKey(parsed.d);
  }

  /** A key from its 32-byte big-endian scalar; throws ChainError `key_invalid` unless 1 <= d < n. */
  static fromBytes(d: Uint8Array): PrivateKey {
    if (!(d instanceof Uint8Array) || d.length !== 32) {
      throw new ChainError('key_invalid', `expected a 32-byte private key, got ${describe(d)}`);
    }
    if (!secp256k1.privateKeyVerify(d)) {
      throw new ChainError('key_invalid', 'the private key is 0 or not below the curve order n');
    }
    return new PrivateKey(new Uint8Array(d));
  }

  static generate(): PrivateKey {
    for (;;) {
      const d = new Uint8Array(randomBytes(32));
      // Out of range has probability about 2^-128; retrying keeps the distribution uniform.
      if (secp256k1.privateKeyVerify(d)) return new PrivateKey(d);
    }
  }

  /**
   * Validana's deterministic key: d = hash256(data || salt), re-hashed as hash256(prev || salt)
   * while out of range. Used for reproducible test and demo keys, never for real money.
   */
  static generateNonRandom(data: Uint8Array, salt: Uint8Array): PrivateKey {
    let d = hash256(concatBytes(data, salt));
    while (!secp256k1.privateKeyVerify(d)) d = hash256(concatBytes(d, salt));
    return new PrivateKey(d);
  }

  /** A copy of the 32-byte scalar (a copy, so callers cannot change this key). */
  get bytes(): Uint8Array {
    return this.#d.slice();
  }

  /** A copy of the 33-byte compressed public key. */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  toWIF(): string {
    const payload = concatBytes(
      Uint8Array.of(WIF_VERSION),
      this.#d,
      Uint8Array.of(WIF_COMPRESSED_FLAG),
    );
    return base58CheckEncode(payload);
  }

  /** 64-byte r || s with low S, RFC 6979 nonce. */
  signDigest(digest32: Uint8Array): Uint8Array {
    if (!(digest32 instanceof Uint8Array) || digest32.length !== DIGEST_BYTES) {
      throw new TypeError(`expected a 32-byte digest, got ${describe(digest32)}`);
    }
    return new Uint8Array(secp256k1.ecdsaSign(digest32, this.#d).signature);
  }

  /** Never reveal the secret when a key object is logged or serialised by accident. */
  toJSON(): { address: string } {
    return { address: this.address };
  }

  toString(): string {
    return `PrivateKey(${this.address})`;
  }
}

/** See PrivateKey.generateNonRandom. */
export function generateNonRandom(data: Uint8Array, salt: Uint8Array): PrivateKey {
  return PrivateKey.generateNonRandom(data, salt);
}

export function isValidWIF(s: unknown): boolean {
  return parseWif(s).ok;
}

/** Bitcoin P2PKH address: base58check(0x00 || hash160(pk33)). */
export function addressFromPublicKey(pk33: Uint8Array): string {
  if (!(pk33 instanceof Uint8Array) || pk33.length !== PUBLIC_KEY_BYTES) {
    throw new ChainError(
      'key_invalid',
      `expected a 33-byte compressed public key, got ${describe(pk33)}`,
    );
  }
  return base58CheckEncode(concatBytes(Uint8Array.of(ADDRESS_VERSION), hash160(pk33)));
}

/** The 20-byte hash160 inside an address (Validana's "binary address"), or null when not an address. */
export function addressToHash160(address: unknown): Uint8Array | null {
  if (typeof address !== 'string' || address.length < 26 || address.length > 35) return null;
  const payload = base58CheckDecode(address);
  if (payload === null || payload.length !== 21 || payload[0] !== ADDRESS_VERSION) return null;
  return payload.slice(1);
}

/**
 * Recently checked address strings and the answer. Checking costs a base58 decode and two
 * SHA-256, and the same few addresses come back in every block. Cleared when full: bounded.
 */
const checkedAddresses = new Map<string, boolean>();
const CHECKED_ADDRESSES_MAX = 10_000;

/** A mainnet P2PKH address: 25 decoded bytes, version 0x00, correct checksum. */
export function isAddress(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  let valid = checkedAddresses.get(s);
  if (valid === undefined) {
    valid = addressToHash160(s) !== null;
    if (checkedAddresses.size >= CHECKED_ADDRESSES_MAX) checkedAddresses.clear();
    checkedAddresses.set(s, valid);
  }
  return valid;
}

/**
 * Addresses of valid public keys seen recently, by the key's bytes. A meter signs every reading
 * with the same key, and checking a key (a point decompression) and deriving its address (three
 * hashes and base58) cost ~70 µs, most of decoding a transaction. Bounded: the oldest entry goes
 * when full (a city's meter keys fit).
 */
const keyAddresses = new Map<string, string>();
const KEY_ADDRESSES_MAX = 200_000;

/** The address of a 33-byte compressed public key, or null when it is not a valid one (isValidPublicKey). */
export function addressOfPublicKey(pk: Uint8Array): string | null {
  if (!(pk instanceof Uint8Array) || pk.length !== PUBLIC_KEY_BYTES) return null;
  const id = Buffer.from(pk.buffer, pk.byteOffset, pk.length).toString('latin1');
  const known = keyAddresses.get(id);
  if (known !== undefined) return known;
  if (!isValidPublicKey(pk)) return null;
  const address = addressFromPublicKey(pk);
  if (keyAddresses.size >= KEY_ADDRESSES_MAX) {
    const oldest = keyAddresses.keys().next().value;
    if (oldest !== undefined) keyAddresses.delete(oldest);
  }
  keyAddresses.set(id, address);
  return address;
}

/** Only 33-byte compressed keys (0x02/0x03 prefix) whose x lies on the curve. */
export function isValidPublicKey(pk: Uint8Array): boolean {
  if (!(pk instanceof Uint8Array) || pk.length !== PUBLIC_KEY_BYTES) return false;
  if (pk[0] !== 0x02 && pk[0] !== 0x03) return false;
  try {
    return secp256k1.publicKeyVerify(pk);
  } catch {
    return false;
  }
}

/** True when 0 < the 32-byte big-endian value at `offset` < n. */
function isScalarInRange(bytes: Uint8Array, offset: number): boolean {
  let zero = true;
  let below: boolean | null = null;
  for (let i = 0; i < 32; i++) {
    const b = bytes[offset + i] ?? 0;
    if (b !== 0) zero = false;
    if (below === null) {
      const n = CURVE_ORDER[i] ?? 0;
      if (b < n) below = true;
      else if (b > n) below = false;
    }
  }
  return !zero && below === true;
}

/**
 * ECDSA verification of a 32-byte digest. Accepts both S halves (Validana signatures are not
 * normalised), refuses r or s outside 1..n-1, and returns false for any malformed input instead of
 * throwing, because it runs on untrusted bytes.
 */
export function verifyDigest(digest32: Uint8Array, sig64: Uint8Array, pk33: Uint8Array): boolean {
  if (!(digest32 instanceof Uint8Array) || digest32.length !== DIGEST_BYTES) return false;
  if (!(sig64 instanceof Uint8Array) || sig64.length !== SIGNATURE_BYTES) return false;
  if (!(pk33 instanceof Uint8Array) || pk33.length !== PUBLIC_KEY_BYTES) return false;
  if (pk33[0] !== 0x02 && pk33[0] !== 0x03) return false;
  if (!isScalarInRange(sig64, 0) || !isScalarInRange(sig64, 32)) return false;
  try {
    // libsecp256k1 only verifies low S; normalising a copy accepts (r, n-s) as Validana does.
    const sig = secp256k1.signatureNormalize(new Uint8Array(sig64));
    return secp256k1.ecdsaVerify(sig, digest32, pk33);
  } catch {
    return false;
  }
}
