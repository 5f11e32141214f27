// Values crossing the sandbox boundary travel as JSON text with two tags, both ways:
//   {"$big": "123"}        a BigInt
//   {"$bad": "undefined"}  a value JSON cannot hold (only from the sandbox; never stored)
// and every object key that starts with "$" gets one more "$" in front, so user data can never
// look like a tag. The prelude (prelude.ts) holds the sandbox side of the same encoding.

import { CONTRACT_LIMITS } from './types.js';
import { UnstorableValue } from './rows.js';

const DOLLAR = 36;
const INTEGER = /^-?[0-9]{1,40}$/;

function escapeKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const name = k.charCodeAt(0) === DOLLAR ? '$' + k : k;
    Object.defineProperty(out, name, { value: obj[k], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $big: value.toString() };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const k of Object.keys(value)) if (k.charCodeAt(0) === DOLLAR) return escapeKeys(value as Record<string, unknown>);
  }
  return value;
}

/** Host value (JSON values and BigInt) -> tagged JSON text for the sandbox. */
export function encodeTagged(value: unknown): string {
  const text = JSON.stringify(value, replacer);
  return text === undefined ? 'null' : text;
}

/** Tagged JSON text from the sandbox -> host value; values nested too deeply become UnstorableValue. */
export function decodeTagged(text: string): unknown {
  return revive(JSON.parse(text) as unknown, 0);
}

function revive(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > CONTRACT_LIMITS.jsonDepthMax + 2) return new UnstorableValue(`a value nested deeper than ${CONTRACT_LIMITS.jsonDepthMax} levels`);
  if (Array.isArray(v)) return v.map((x) => revive(x, depth + 1));
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const only = keys[0];
    const tagValue = only === undefined ? undefined : obj[only];
    if (only === '$big' && typeof tagValue === 'string') return INTEGER.test(tagValue) ? BigInt(tagValue) : new UnstorableValue('a malformed BigInt');
    if (only === '$bad' && typeof tagValue === 'string') return new UnstorableValue(tagValue);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const name = k.charCodeAt(0) === DOLLAR ? k.slice(1) : k;
    Object.defineProperty(out, name, { value: revive(obj[k], depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
