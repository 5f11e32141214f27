// Byte helpers shared by every codec. Hex is always written lowercase (the protocol's canonical
// form); reading accepts either case because ids typed by people arrive in both.

import { ChainError } from './errors.js';

const HEX_PATTERN = /^[0-9a-fA-F]*$/;

/** Lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** True when `s` is a string of hex digits (either case), of `bytes` bytes when given. */
export function isHex(s: unknown, bytes?: number): s is string {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !HEX_PATTERN.test(s)) return false;
  return bytes === undefined || s.length === bytes * 2;
}

/** Decodes hex (either case); throws ChainError `bad_hex` on odd length, non-hex or wrong length. */
export function fromHex(hex: string, expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string') {
    throw new ChainError('bad_hex', `expected a hex string, got ${typeof hex}`);
  }
  if (hex.length % 2 !== 0) {
    throw new ChainError('bad_hex', `expected an even number of hex digits, got ${hex.length}`);
  }
  if (!HEX_PATTERN.test(hex)) {
    throw new ChainError(
      'bad_hex',
      `expected only hex digits 0-9a-f, got ${JSON.stringify(clip(hex))}`,
    );
  }
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) {
    throw new ChainError(
      'bad_hex',
      `expected ${expectedBytes} bytes (${expectedBytes * 2} hex digits), got ${hex.length / 2} bytes`,
      { expectedBytes, gotBytes: hex.length / 2 },
    );
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 must be refused, never repaired, or the stored text would differ from the
// signed bytes. ignoreBOM: a leading U+FEFF is content and must survive a decode/encode round trip.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Strict UTF-8; throws a TypeError on invalid input, which each caller maps to its own code. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Cuts `text` to at most `maxBytes` bytes of UTF-8 without splitting a character, so a long
 * contract message can be fitted into a field with a byte limit.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that did not fit.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

export function readU16LE(bytes: Uint8Array, offset: number): number {
  return byteAt(bytes, offset) | (byteAt(bytes, offset + 1) << 8);
}

export function writeU16LE(bytes: Uint8Array, offset: number, value: number): void {
  assertUint(value, 0xffff, 'u16');
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = value >>> 8;
}

export function readU32LE(bytes: Uint8Array, offset: number): number {
  return (
    (byteAt(bytes, offset) |
      (byteAt(bytes, offset + 1) << 8) |
      (byteAt(bytes, offset + 2) << 16) |
      (byteAt(bytes, offset + 3) << 24)) >>>
    0
  );
}

export function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  assertUint(value, 0xffffffff, 'u32');
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Reads a u64 as a JavaScript number. Values above 2^53-1 cannot be represented exactly, so they
 * throw a RangeError that each codec maps to its own error code.
 */
export function readU64LE(bytes: Uint8Array, offset: number): number {
  const low = readU32LE(bytes, offset);
  const high = readU32LE(bytes, offset + 4);
  if (high > 0x1fffff) {
    const word = high.toString(16);
    throw new RangeError(`u64 at offset ${offset} is larger than 2^53-1 (high word 0x${word})`);
  }
  return high * 0x1_0000_0000 + low;
}

export function writeU64LE(bytes: Uint8Array, offset: number, value: number): void {
  assertUint(value, Number.MAX_SAFE_INTEGER, 'u64');
  writeU32LE(bytes, offset, value % 0x1_0000_0000);
  writeU32LE(bytes, offset + 4, Math.floor(value / 0x1_0000_0000));
}

function byteAt(bytes: Uint8Array, offset: number): number {
  const b = bytes[offset];
  if (b === undefined) {
    throw new RangeError(`read past the end: offset ${offset}, length ${bytes.length}`);
  }
  return b;
}

function assertUint(value: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}
