// Shape checks for API input: JSON text, base64, hex ids, integers in query strings. Business
// rules (signatures, templates, expiry) belong to the LedgerService; these helpers only decide
// whether the request is well-formed, and say precisely what was expected and what arrived.

import { ChainError } from '../core/errors.js';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;
const TX_ID_HEX_RE = /^[0-9a-fA-F]{32}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;

/** Offsets of the transaction id in the v1 layout (PROTOCOL.md section 2): after the length prefix and the version byte. */
const TX_ID_OFFSET = 5;
const TX_ID_BYTES = 16;

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Standard base64 with padding (RFC 4648), the form Validana's client sends: alphabet, padding at the end only, length % 4 = 0. */
export function isStrictBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64_RE.test(text);
}

/** Validana's `Crypto.isHex`: hex digits of either case and an even length (the empty string included). */
export function isValidanaHex(text: string): boolean {
  return text.length % 2 === 0 && HEX_RE.test(text);
}

export function isTxIdHex(text: string): boolean {
  return TX_ID_HEX_RE.test(text);
}

/** A short, printable excerpt of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(shown)} (${value.length} chars)`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Parses a request body that must be one JSON object. */
export function parseJsonObjectBody(body: unknown): JsonObject {
  if (typeof body !== 'string' || body.trim() === '') {
    throw new ChainError('bad_request', 'the request body is empty; expected a JSON object');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ChainError(
      'bad_request',
      `the request body is not valid JSON: ${reason}`,
      {},
      { cause: err },
    );
  }
  if (!isJsonObject(parsed)) {
    throw new ChainError(
      'bad_request',
      `the request body must be a JSON object, got ${describeValue(parsed)}`,
    );
  }
  return parsed;
}

/** Decodes a required base64 field; `field` names it in errors (e.g. `base64tx` or `transactions[3]`). */
export function decodeBase64Field(value: unknown, field: string): Uint8Array {
  if (value === undefined)
    throw new ChainError('bad_request', `missing field "${field}": expected a base64 string`, {
      field,
    });
  if (typeof value !== 'string') {
    throw new ChainError(
      'bad_request',
      `field "${field}" must be a base64 string, got ${describeValue(value)}`,
      { field },
    );
  }
  if (!isStrictBase64(value)) {
    const why =
      value.length % 4 !== 0
        ? `its length ${value.length} is not a multiple of 4`
        : 'it holds characters outside A-Z a-z 0-9 + / or misplaced "=" padding';
    throw new ChainError('bad_base64', `field "${field}" is not valid base64: ${why}`, { field });
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

export function optionalBoolean(obj: JsonObject, field: string): boolean | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw new ChainError(
      'bad_request',
      `field "${field}" must be true or false, got ${describeValue(value)}`,
      { field },
    );
  }
  return value;
}

/** A non-negative safe integer from a JSON field, or undefined when absent. */
export function optionalIntegerField(
  obj: JsonObject,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ChainError(
      'bad_request',
      `field "${field}" must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
      { field, min, max },
    );
  }
  return value;
}

/** A lowercase 32-char transaction id from a URL or JSON field. */
export function parseTxIdHex(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isTxIdHex(value)) {
    throw new ChainError(
      'bad_hex',
      `${field} must be a transaction id of 32 hex characters, got ${describeValue(value)}`,
      { field },
    );
  }
  return value.toLowerCase();
}

/** One query-string parameter as a string (repeated parameters are refused). */
export function queryParam(query: unknown, name: string): string | undefined {
  if (!isJsonObject(query)) return undefined;
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new ChainError(
      'bad_request',
      `query parameter "${name}" must be given once, got ${describeValue(value)}`,
      { field: name },
    );
  }
  return value;
}

/** A decimal integer query parameter within [min, max]; `fallback` when absent. */
export function queryInteger(
  query: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const text = queryParam(query, name);
  if (text === undefined) return fallback;
  return parseDecimal(text, name, min, max);
}

export function parseDecimal(text: string, name: string, min: number, max: number): number {
  const value = DECIMAL_RE.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ChainError(
      'bad_request',
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`,
      { field: name, min, max },
    );
  }
  return value;
}

export function queryBoolean(query: unknown, name: string): boolean {
  const text = queryParam(query, name);
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  throw new ChainError(
    'bad_request',
    `query parameter "${name}" must be true or false, got ${JSON.stringify(text.slice(0, 40))}`,
    { field: name },
  );
}

/**
 * The transaction id inside encoded transaction bytes, read from its fixed offset so that a
 * waiter can be registered before the bytes are submitted. Null when the bytes are too short to
 * hold one (the service will refuse them anyway).
 */
export function txIdHexOfBytes(bytes: Uint8Array): string | null {
  if (bytes.length < TX_ID_OFFSET + TX_ID_BYTES) return null;
  return Buffer.from(bytes.subarray(TX_ID_OFFSET, TX_ID_OFFSET + TX_ID_BYTES)).toString('hex');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
