// Turning host values into SQL parameters and back. Batched statements receive each column as one
// PostgreSQL array literal in a text parameter (`$1::text::bigint[]`), built here, so that the
// pg driver and PGlite see byte-identical input and no driver-specific array encoding is involved.

import { ChainError } from '../core/errors.js';

/** A PostgreSQL array literal of the given elements (null -> NULL), every element quoted. */
export function arrayLiteral(items: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    const item = items[i];
    out += item === null || item === undefined ? 'NULL' : `"${item.replace(/[\\"]/g, '\\$&')}"`;
  }
  return out + '}';
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Bytes of a hex string; throws bad_hex when it is not hex (optionally of `bytes` bytes). */
export function hexToBuffer(hex: string, what: string, bytes?: number): Buffer {
  if (!HEX.test(hex) || (bytes !== undefined && hex.length !== bytes * 2)) {
    const want = bytes === undefined ? 'hex' : `${bytes * 2} hex characters`;
    throw new ChainError(
      'bad_hex',
      `${what} must be ${want}, got ${JSON.stringify(hex.slice(0, 80))}`,
      { what },
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Checks `hex` like hexToBuffer and returns it in lowercase. */
export function normalHex(hex: string, what: string, bytes?: number): string {
  hexToBuffer(hex, what, bytes);
  return hex.toLowerCase();
}

/** Element of a bytea[] literal for the given hex (\x form). */
export function byteaElement(hex: string): string {
  return `\\x${hex}`;
}

export function bufferHex(value: unknown): string {
  if (!(value instanceof Uint8Array))
    throw new ChainError('internal', `expected bytea, got ${typeof value}`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

export function asBuffer(value: unknown): Buffer {
  if (value instanceof Buffer) return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new ChainError('internal', `expected bytea, got ${typeof value}`);
}

/** An int8/int4 value from the driver as a JS number; throws when it does not fit exactly. */
export function toSafeNumber(value: unknown, what: string): number {
  const n =
    typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new ChainError('internal', `${what} is not a safe integer: ${String(value)}`);
  return n;
}

export function toNullableNumber(value: unknown, what: string): number | null {
  return value === null || value === undefined ? null : toSafeNumber(value, what);
}

/** Decimal text of a JS integer (number or bigint) for an int8 parameter. */
export function int8Text(value: number | bigint, what: string): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new ChainError('internal', `${what} must be a safe integer, got ${value}`);
  }
  return value.toString();
}

/** Base64 of bytes, for `decode($n, 'base64')` (smaller and faster to parse than hex). */
export function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
