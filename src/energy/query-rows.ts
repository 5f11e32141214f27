// Turning what the database answers into the views' plain values. Every reply is checked, so a
// table that does not hold what the queries expect is ChainError('internal'), never a wrong number.

import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';

/** Runs a read; a chain without the energy contracts (no tables yet) is not_found. */
export async function read<R>(sql: Sql, text: string, params: unknown[]): Promise<R[]> {
  try {
    return (await sql.query<R>(text, params)).rows;
  } catch (err) {
    if ((err as { code?: unknown }).code === '42P01') {
      throw new ChainError(
        'not_found',
        'the energy contracts are not installed on this chain (no energy tables in schema state); install them with `hanzenet energy install`',
        {},
        { cause: err },
      );
    }
    throw err;
  }
}

export function jsonArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value))
    throw new ChainError('internal', `expected a JSON array for ${what}, got ${typeof value}`);
  return value;
}

export function jsonRows(value: unknown, what: string): unknown[][] {
  return jsonArray(value, what).map((r) => jsonArray(r, what));
}

export function textOf(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new ChainError('internal', `expected text for ${what}, got ${typeof value}`);
  return value;
}

export function stringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new ChainError('internal', `expected text[] for ${what}`);
  return value as string[];
}

/** A bigint from the driver (bigint) or from JSON text of one. */
export function bigintOf(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  throw new ChainError('internal', `expected an integer for ${what}, got ${String(value)}`);
}

export function safeNumber(value: unknown, what: string): number {
  const n = Number(bigintOf(value, what));
  if (!Number.isSafeInteger(n))
    throw new ChainError('internal', `${what} is not a safe integer: ${String(value)}`);
  return n;
}

export function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** UTF-8 byte order, the order of the tables' COLLATE "C" text. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
