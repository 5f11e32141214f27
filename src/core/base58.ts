// Bitcoin base58 and base58check, used for WIF private keys and addresses.

import { equalBytes } from './bytes.js';
import { hash256 } from './hash.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/**
 * Base58 here only carries keys and addresses (at most 52 characters). Decoding is quadratic in the
 * input length, so longer input is refused instead of letting a hostile caller burn CPU.
 */
export const BASE58_DECODE_CHARS_MAX = 128;

export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Digits of the number in base 58, least significant first.
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] ?? 0;
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] ?? 0) * 256;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  // Joined at once: built with += the text would stay a chain of pieces (~10x its size) for as
  // long as it is kept, and addresses are kept with every pending transaction.
  const chars: string[] = [];
  for (let k = 0; k < zeros; k++) chars.push('1');
  for (let k = digits.length - 1; k >= 0; k--) chars.push(ALPHABET[digits[k] ?? 0] ?? '');
  return chars.join('');
}

/** Decodes base58; null when a character is outside the alphabet or the input is too long. */
export function base58Decode(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length > BASE58_DECODE_CHARS_MAX) return null;
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  // Bytes of the number, least significant first.
  const bytes: number[] = [];
  for (let i = zeros; i < s.length; i++) {
    const value = INDEX.get(s[i] ?? '');
    if (value === undefined) return null;
    let carry = value;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] ?? 0) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let k = 0; k < bytes.length; k++) out[zeros + k] = bytes[bytes.length - 1 - k] ?? 0;
  return out;
}

/** base58 of payload || first 4 bytes of hash256(payload). */
export function base58CheckEncode(payload: Uint8Array): string {
  const out = new Uint8Array(payload.length + 4);
  out.set(payload);
  out.set(hash256(payload).subarray(0, 4), payload.length);
  return base58Encode(out);
}

/** The payload of a base58check string, or null when it is not base58 or the checksum is wrong. */
export function base58CheckDecode(s: string): Uint8Array | null {
  const all = base58Decode(s);
  if (all === null || all.length < 4) return null;
  const payload = all.subarray(0, all.length - 4);
  const checksum = all.subarray(all.length - 4);
  if (!equalBytes(hash256(payload).subarray(0, 4), checksum)) return null;
  return payload.slice();
}
