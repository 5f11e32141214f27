// Values crossing the sandbox boundary travel as JSON text.
//
// From the sandbox to the host, and wherever the host keys or measures a value (encodeTagged),
// the text has two tags:
//   {"$big": "123"}        a BigInt
//   {"$bad": "undefined"}  a value JSON cannot hold (only from the sandbox; never stored)
// and every object key that starts with "$" gets one more "$" in front, so user data can never
// look like a tag.
//
// From the host to the sandbox (encodeForSandbox) the text is an envelope that the prelude can
// decode without a JSON.parse reviver, which costs QuickJS a function call for every value:
//   {"v": value, "b": [places]}  BigInts written as decimal strings, keys as they are; "b" (absent
//                                without BigInts) lists, per holder, its path from the envelope,
//                                then the keys in it that hold a BigInt:
//                                [path length, ...path, key count, ...keys, path length, ...]
//   {"t": "tagged text"}         any value that is not plain data, tagged as above
// The prelude (prelude.ts) holds the sandbox side of both encodings.

import { CONTRACT_LIMITS } from '../limits.js';
import { UnstorableValue } from './rows.js';

const DOLLAR = 36;
const INTEGER = /^-?[0-9]{1,40}$/;
/** Deeper values take the general path: JSON.stringify then fails or succeeds as it always did. */
const PLAIN_DEPTH_MAX = 256;

function escapeKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const name = k.charCodeAt(0) === DOLLAR ? '$' + k : k;
    Object.defineProperty(out, name, {
      value: obj[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $big: value.toString() };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const k of Object.keys(value))
      if (k.charCodeAt(0) === DOLLAR) return escapeKeys(value as Record<string, unknown>);
  }
  return value;
}

function taggedText(value: unknown): string {
  const text = JSON.stringify(value, replacer);
  return text === undefined ? 'null' : text;
}

/** Where plainJson writes the BigInts of a value for the sandbox; without it, BigInts are tagged. */
interface BigintPlaces {
  /** Path from the envelope to the value being written. */
  readonly path: (string | number)[];
  readonly places: (string | number)[];
}

/**
 * The JSON text of plain data (JSON values and BigInt in plain objects and arrays, which is what
 * the host holds), as JSON.stringify would write it with the tagging replacer (`to` null) or in
 * the envelope's form. A replacer function takes V8 off its fast path; this needs none. Returns
 * null for anything else (undefined, functions, class instances, toJSON methods, very deep or
 * cyclic values), which then takes the general path.
 */
function plainJson(v: unknown, depth: number, to: BigintPlaces | null): string | null {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'bigint') return to === null ? `{"$big":"${v}"}` : `"${v}"`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v !== 'object') return null;
  if (v === null) return 'null';
  if (depth > PLAIN_DEPTH_MAX || typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return null;
  const bigKeys: (string | number)[] = [];
  let out: string;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return null;
    out = '[';
    for (let i = 0; i < v.length; i++) {
      const text = memberJson(v[i], i, depth, to, bigKeys);
      if (text === null) return null;
      out += i === 0 ? text : ',' + text;
    }
    out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return null;
    const obj = v as Record<string, unknown>;
    out = '{';
    for (const k of Object.keys(obj)) {
      const text = memberJson(obj[k], k, depth, to, bigKeys);
      if (text === null) return null;
      out += `${out.length === 1 ? '' : ','}${quoted(to === null && k.charCodeAt(0) === DOLLAR ? '$' + k : k)}:${text}`;
    }
    out += '}';
  }
  if (to !== null && bigKeys.length > 0)
    to.places.push(to.path.length, ...to.path, bigKeys.length, ...bigKeys);
  return out;
}

/** Object keys as JSON strings: rows repeat the same few column names. Short keys only, bounded. */
const quotedKeys = new Map<string, string>();
function quoted(k: string): string {
  if (k.length > 64) return JSON.stringify(k);
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size >= 1000) quotedKeys.clear();
    quotedKeys.set(k, q);
  }
  return q;
}

/** plainJson of a member of an object or array; in the envelope's form, notes where BigInts are. */
function memberJson(
  item: unknown,
  key: string | number,
  depth: number,
  to: BigintPlaces | null,
  bigKeys: (string | number)[],
): string | null {
  if (to === null || typeof item !== 'object' || item === null) {
    if (to !== null && typeof item === 'bigint') bigKeys.push(key);
    return plainJson(item, depth + 1, to);
  }
  to.path.push(key);
  const text = plainJson(item, depth + 1, to);
  to.path.pop();
  return text;
}

/** Whether someone gave BigInt a toJSON method, which JSON.stringify would call before the replacer. */
function bigintHasToJson(): boolean {
  return typeof (BigInt.prototype as { toJSON?: unknown }).toJSON === 'function';
}

/** Host value (JSON values and BigInt) -> tagged JSON text (keys of caches, row sizes). */
export function encodeTagged(value: unknown): string {
  return (bigintHasToJson() ? null : plainJson(value, 0, null)) ?? taggedText(value);
}

/** Host value (JSON values and BigInt) -> the envelope text the prelude decodes. */
export function encodeForSandbox(value: unknown): string {
  const to: BigintPlaces = { path: ['v'], places: [] };
  // Places are noted by the holder, so a BigInt on its own (which the host never sends) goes tagged.
  const text = bigintHasToJson() || typeof value === 'bigint' ? null : plainJson(value, 0, to);
  if (text === null) return `{"t":${JSON.stringify(taggedText(value))}}`;
  return to.places.length === 0
    ? `{"v":${text}}`
    : `{"v":${text},"b":${JSON.stringify(to.places)}}`;
}

/** Tagged JSON text from the sandbox -> host value; values nested too deeply become UnstorableValue. */
export function decodeTagged(text: string): unknown {
  return revive(JSON.parse(text) as unknown, 0);
}

/**
 * Replaces the tags inside a value JSON.parse just made. Objects and arrays without tags or "$"
 * keys are kept (nothing else holds them); only what changes is replaced.
 */
function revive(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > CONTRACT_LIMITS.jsonDepthMax + 2)
    return new UnstorableValue(`a value nested deeper than ${CONTRACT_LIMITS.jsonDepthMax} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const revived = revive(item, depth + 1);
      if (revived !== item) v[i] = revived;
    }
    return v;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const only = keys[0];
    const tagValue = only === undefined ? undefined : obj[only];
    if (only === '$big' && typeof tagValue === 'string')
      return INTEGER.test(tagValue) ? BigInt(tagValue) : new UnstorableValue('a malformed BigInt');
    if (only === '$bad' && typeof tagValue === 'string') return new UnstorableValue(tagValue);
  }
  let escaped = false;
  for (const k of keys) {
    const item = obj[k];
    const revived = revive(item, depth + 1);
    // defineProperty, not assignment: an own "__proto__" key stays data.
    if (revived !== item)
      Object.defineProperty(obj, k, {
        value: revived,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    if (k.charCodeAt(0) === DOLLAR) escaped = true;
  }
  if (!escaped) return obj;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const name = k.charCodeAt(0) === DOLLAR ? k.slice(1) : k;
    Object.defineProperty(out, name, {
      value: obj[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
