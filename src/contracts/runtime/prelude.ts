// The JavaScript that runs first in every contract's QuickJS context, written as TypeScript so that
// tsc checks it. `setup` never runs in Node: prelude-source.ts turns its compiled text into the
// source QuickJS evaluates (docs/contract-api.md, "The prelude"). So `setup` must be
// self-contained: besides the language's own globals it may use only HOST_OP and CONTRACT_LIMITS,
// which prelude-source.ts binds to their values around it. Type-only imports are fine.
//
// `setup(host)` makes the realm deterministic and read-only, then returns `makeRunner(fn)`, which
// wraps the contract function in a runner the host calls once per transaction:
//
//   run(infoJson, payloadEnvelope) -> result JSON text
//     {"k":"ok"} | {"k":"string","message"} | {"k":"reject","code","message"}
//     | {"k":"error","name","message"} | {"k":"bad","what"}
//
// The host gives the prelude one function for ctx.db, host(op, table, text, n) with op from
// HOST_OP: one function with plain arguments is what the host's fast call path handles
// (quickjs.ts, newTextHostFunction).
//
// What it does to the realm, and why:
// - Date works in UTC only: the local-time methods are the UTC ones and toString/toLocale* give ISO
//   8601 text, because local time would follow the host's time zone. Date(), new Date() and
//   Date.now throw (they read the clock); new Date(ms), new Date(y, m, ...) (taken as UTC) and ISO
//   strings work. Date.parse accepts ISO 8601 only (a date-time without offset is UTC).
// - Math.random, eval, and the Function / GeneratorFunction / AsyncFunction constructors throw.
// - Everything reachable from globalThis and the hidden intrinsics (iterator, generator
//   prototypes) is frozen, so one transaction cannot leave anything behind for the next one
//   except through ctx.db.
// Values cross the boundary as JSON text (wire.ts). To the host they go as tagged JSON:
// {"$big": "..."} for BigInt, {"$bad": what} for what JSON cannot hold, and one extra "$" in
// front of object keys that start with "$". From the host they come in an envelope that names the
// places of BigInts, or, for what is not plain data, as tagged JSON in the envelope.

import { CONTRACT_LIMITS } from '../limits.js';

/** The operations of the prelude's host function. */
export const HOST_OP = { get: 0, put: 1, delete: 2, find: 3 } as const;

/** The host function: host(op, table, text, n) answers with text, a boolean or undefined. */
export type PreludeHost = (op: number, table: string, text: string, n: number) => unknown;
/** A contract function as the code of a contract evaluates to. */
export type ContractFunction = (payload: unknown, ctx: unknown) => unknown;
/** Runs one transaction: call info and payload envelope in, result JSON text out. */
export type Runner = (infoText: string, payloadText: string) => string;

// Not in the ES2022 library this project compiles against; QuickJS may have it (the prelude
// freezes what it reaches from it, if it is there).
declare const Iterator: { from(source: unknown): unknown };

type Obj = Record<PropertyKey, unknown>;
type AnyFunction = (...args: never[]) => unknown;

/** What the call info JSON holds (sandbox.ts, CallInfo). */
interface CallInfoJson {
  readonly sender: string;
  readonly txId: string;
  readonly contractHash: string;
  readonly contractType: string;
  readonly processor: string;
  readonly height: number;
  readonly processedMs: number;
  readonly previousProcessedMs: number;
  readonly previousHash: string;
}

/** The envelope of a value from the host (wire.ts, encodeForSandbox). */
interface Envelope {
  v?: unknown;
  b?: (string | number)[];
  t?: string;
}

export function setup(host: PreludeHost): (fn: ContractFunction) => Runner {
  'use strict';
  const G = globalThis as unknown as Obj;
  const O = Object;
  const freeze = O.freeze;
  const keys = O.keys;
  const defineProperty = O.defineProperty;
  const getPrototypeOf = O.getPrototypeOf;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys;
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const isArray = Array.isArray;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const BigIntOf = BigInt;
  const bigToString = BigInt.prototype.toString;
  const StringOf = String;
  const NumberOf = Number;
  const isInteger = Number.isInteger;
  const indexOf = String.prototype.indexOf;
  const charCodeAt = String.prototype.charCodeAt;
  const sliceText = String.prototype.slice;
  const TE = TypeError;
  const RE = RangeError;
  const SetOf = Set;
  const setHas = Set.prototype.has;
  const setAdd = Set.prototype.add;
  const regexpExec = RegExp.prototype.exec;

  function thrower(what: string, hint: string): () => never {
    return function () { throw new TE(what + ' is not available to contracts' + hint); };
  }
  function setValue(obj: object, name: string, value: unknown): void {
    defineProperty(obj, name, { value: value, writable: true, enumerable: false, configurable: true });
  }

  // Features that are not deterministic, or that create code at run time.
  const removed = ['eval', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'ArrayBuffer', 'DataView',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Promise', 'performance', 'console'];
  for (let i = 0; i < removed.length; i++) delete G[removed[i] as string];
  setValue(Math, 'random', thrower('Math.random', ': a contract must give the same result on every node'));

  function forbiddenConstructor(name: string, proto: object): () => never {
    const f = function () { throw new TE(name + ' cannot create code in a contract: write the function in the contract source'); };
    defineProperty(f, 'name', { value: name });
    defineProperty(f, 'prototype', { value: proto, writable: false });
    setValue(proto, 'constructor', f);
    return f;
  }
  setValue(G, 'Function', forbiddenConstructor('Function', Function.prototype));
  const functionSamples: (() => unknown)[] = [
    function () { return function* () {}; },
    function () { return async function () {}; },
    function () { return async function* () {}; },
  ];
  for (let i = 0; i < functionSamples.length; i++) {
    try {
      const proto = getPrototypeOf((functionSamples[i] as () => unknown)()) as { constructor: { name: string } } | null;
      if (proto !== null && proto !== Function.prototype) forbiddenConstructor(proto.constructor.name, proto);
    } catch (e) {
      // The feature is not in this build; nothing to forbid.
    }
  }

  // Date: UTC only, no clock.
  const OD = Date;
  const DP = OD.prototype as unknown as Obj;
  const getTime = DP['getTime'] as AnyFunction;
  const toISOString = DP['toISOString'] as AnyFunction;
  const dateParse = OD.parse;
  const dateUTC = OD.UTC;
  const local = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
  for (let i = 0; i < local.length; i++) {
    setValue(DP, 'get' + local[i], DP['getUTC' + local[i]]);
    if (local[i] !== 'Day') setValue(DP, 'set' + local[i], DP['setUTC' + local[i]]);
  }
  delete DP['getYear'];
  delete DP['setYear'];
  setValue(DP, 'getTimezoneOffset', function getTimezoneOffset(this: unknown) {
    const t = apply(getTime, this, []) as number;
    return t !== t ? NaN : 0;
  });
  function isoText(d: unknown): string {
    const t = apply(getTime, d, []) as number;
    return t !== t ? 'Invalid Date' : apply(toISOString, d, []) as string;
  }
  function isoPart(d: unknown, part: number): string {
    const s = isoText(d);
    const at = apply(indexOf, s, ['T']) as number;
    if (at < 0) return s;
    return part === 0 ? apply(sliceText, s, [0, at]) : apply(sliceText, s, [at + 1]);
  }
  setValue(DP, 'toString', function toString(this: unknown) { return isoText(this); });
  setValue(DP, 'toLocaleString', function toLocaleString(this: unknown) { return isoText(this); });
  setValue(DP, 'toDateString', function toDateString(this: unknown) { return isoPart(this, 0); });
  setValue(DP, 'toLocaleDateString', function toLocaleDateString(this: unknown) { return isoPart(this, 0); });
  setValue(DP, 'toTimeString', function toTimeString(this: unknown) { return isoPart(this, 1); });
  setValue(DP, 'toLocaleTimeString', function toLocaleTimeString(this: unknown) { return isoPart(this, 1); });
  const ISO_DATE = /^(?:[+-][0-9]{6}|[0-9]{4})(?:-[0-9]{2}(?:-[0-9]{2})?)?$/;
  const ISO_DATE_TIME = /^(?:[+-][0-9]{6}|[0-9]{4})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;
  function parseIso(text: unknown): number {
    const s = StringOf(text);
    if (apply(regexpExec, ISO_DATE, [s]) !== null) return dateParse(s);
    const m = apply(regexpExec, ISO_DATE_TIME, [s]) as RegExpExecArray | null;
    if (m === null) return NaN;
    return dateParse(m[1] === undefined ? s + 'Z' : s);
  }
  const clockHint = ': contracts get no clock; use new Date(ctx.block.processedMs)';
  const DateW = function Date(a?: unknown, b?: number, c?: number, d?: number, e?: number, f?: number, g?: number) {
    if (new.target === undefined) throw new TE('Date() reads the clock, which is not available to contracts' + clockHint);
    const n = arguments.length;
    let t;
    if (n === 0) throw new TE('new Date() reads the clock, which is not available to contracts' + clockHint);
    if (n === 1) {
      if (typeof a === 'string') t = parseIso(a);
      else if (a instanceof OD) t = apply(getTime, a, []);
      else t = NumberOf(a);
    } else {
      t = dateUTC(a as number, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? g : 0);
    }
    return construct(OD, [t], new.target);
  };
  defineProperty(DateW, 'prototype', { value: DP, writable: false });
  defineProperty(DateW, 'length', { value: 7 });
  setValue(DateW, 'UTC', dateUTC);
  setValue(DateW, 'parse', function parse(s: unknown) { return parseIso(s); });
  setValue(DateW, 'now', thrower('Date.now', clockHint));
  setValue(DP, 'constructor', DateW);
  setValue(G, 'Date', DateW);

  // Deep freeze: the global object, everything reachable from it, and intrinsics that are only
  // reachable through instances (iterator and generator prototypes).
  const seen = new SetOf<unknown>();
  function deepFreeze(root: unknown): void {
    // Only objects and functions go on the stack, and n is its height: this runs for every
    // property of the realm in every context, so it avoids a method call per value.
    const stack: unknown[] = [root];
    let n = 1;
    while (n > 0) {
      const o = stack[--n] as object;
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || apply(setHas, seen, [o])) continue;
      apply(setAdd, seen, [o]);
      const proto = getPrototypeOf(o);
      if (proto !== null) stack[n++] = proto;
      const names = ownKeys(o);
      for (let i = 0; i < names.length; i++) {
        const desc = getOwnPropertyDescriptor(o, names[i] as PropertyKey);
        if (desc === undefined) continue;
        if ('value' in desc) {
          const v: unknown = desc.value;
          if ((typeof v === 'object' && v !== null) || typeof v === 'function') stack[n++] = v;
        } else {
          if (desc.get !== undefined) stack[n++] = desc.get;
          if (desc.set !== undefined) stack[n++] = desc.set;
        }
      }
      freeze(o);
    }
  }
  const instanceSamples: (() => unknown)[] = [
    function () { return function* () {}; },
    function () { return (function* () {})(); },
    function () { return async function () {}; },
    function () { return async function* () {}; },
    function () { return [][Symbol.iterator](); },
    function () { return ''[Symbol.iterator](); },
    function () { return new Map()[Symbol.iterator](); },
    function () { return new Set()[Symbol.iterator](); },
    function () { return /a/g[Symbol.matchAll]('a'); },
    function () { return ([].values() as unknown as { map(f: (x: unknown) => unknown): unknown }).map(function (x) { return x; }); },
    function () { return Iterator.from({ next: function () { return { done: true, value: undefined }; } }); },
    function () { return (function () { return arguments; })(); },
  ];
  for (let i = 0; i < instanceSamples.length; i++) {
    try {
      deepFreeze((instanceSamples[i] as () => unknown)());
    } catch (e) {
      // The feature is not in this build; nothing to freeze.
    }
  }
  deepFreeze(G);

  // Tagged JSON (wire.ts).
  function escapeKeys(v: Obj, names: string[]): Obj {
    const out = {};
    for (let i = 0; i < names.length; i++) {
      const k = names[i] as string;
      defineProperty(out, apply(charCodeAt, k, [0]) === 36 ? '$' + k : k, { value: v[k], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  function replacer(k: string, v: unknown): unknown {
    switch (typeof v) {
      case 'string': return v; // the most common case first
      case 'bigint': return { $big: apply(bigToString, v, []) };
      case 'undefined': return { $bad: 'undefined' };
      case 'function': return { $bad: 'a function' };
      case 'symbol': return { $bad: 'a symbol' };
      case 'number': return v === v && v !== Infinity && v !== -Infinity ? v : { $bad: 'the number ' + v };
      case 'object':
        if (v !== null && !isArray(v)) {
          const names = keys(v);
          for (let i = 0; i < names.length; i++) if ((names[i] as string)[0] === '$') return escapeKeys(v as Obj, names);
        }
        return v;
      default: return v;
    }
  }
  function reviver(k: string, v: unknown): unknown {
    if (typeof v !== 'object' || v === null || isArray(v)) return v;
    const names = keys(v);
    if (names.length === 1 && names[0] === '$big') return BigIntOf((v as { $big: string }).$big);
    for (let i = 0; i < names.length; i++) {
      if (apply(charCodeAt, names[i], [0]) === 36) {
        const out = {};
        for (let j = 0; j < names.length; j++) {
          const n = names[j] as string;
          defineProperty(out, apply(charCodeAt, n, [0]) === 36 ? apply(sliceText, n, [1]) : n, { value: (v as Obj)[n], enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
    }
    return v;
  }
  function encode(v: unknown): string { return stringify(v, replacer); }
  function decodeTagged(text: string): unknown { return apply(indexOf, text, ['"$']) < 0 ? parse(text) : parse(text, reviver); }
  // The envelope (wire.ts): a reviver would cost a call for every value, so BigInts come as
  // decimal strings at the places "b" lists: [path length, ...path, key count, ...keys, ...].
  function decode(text: string): unknown {
    const w = parse(text) as Envelope;
    if (w.t !== undefined) return decodeTagged(w.t);
    const b = w.b;
    if (b !== undefined) {
      for (let i = 0; i < b.length;) {
        let holder = w as Obj;
        const pathEnd = i + 1 + (b[i] as number);
        for (i++; i < pathEnd; i++) holder = holder[b[i] as string] as Obj;
        const keysEnd = i + 1 + (b[i] as number);
        // JSON.parse made holder's own data properties, so assignment cannot reach a setter.
        for (i++; i < keysEnd; i++) holder[b[i] as string] = BigIntOf(holder[b[i] as string] as string);
      }
    }
    return w.v;
  }
  function tableName(table: unknown): string {
    if (typeof table !== 'string') throw new TE('a table name must be a string, got ' + typeof table);
    // The host reads names as C strings, which end at U+0000: such a name would reach it cut short.
    if (apply(indexOf, table, ['\u0000']) >= 0) throw new TE('a table name must not contain U+0000');
    return table;
  }

  const OP_GET = HOST_OP.get;
  const OP_PUT = HOST_OP.put;
  const OP_DELETE = HOST_OP.delete;
  const OP_FIND = HOST_OP.find;
  const FIND_LIMIT_DEFAULT = CONTRACT_LIMITS.findLimitDefault;
  const FIND_LIMIT_MAX = CONTRACT_LIMITS.findLimitMax;
  const db = {
    get(table: unknown, key: unknown) { return decode(host(OP_GET, tableName(table), encode(key), 0) as string); },
    put(table: unknown, row: unknown) { host(OP_PUT, tableName(table), encode(row), 0); },
    delete(table: unknown, key: unknown) { return host(OP_DELETE, tableName(table), encode(key), 0); },
    find(table: unknown, where: unknown, limit: unknown) {
      let n: number = FIND_LIMIT_DEFAULT;
      if (limit !== undefined) {
        if (!isInteger(limit) || (limit as number) < 0 || (limit as number) > FIND_LIMIT_MAX) throw new RE('find() limit must be an integer from 0 to ' + FIND_LIMIT_MAX + ', got ' + StringOf(limit));
        n = limit as number;
      }
      return decode(host(OP_FIND, tableName(table), encode(where === undefined ? {} : where), n) as string);
    },
  };
  const reject = function reject(code: unknown, message: unknown) {
    return freeze({ __reject: true, code: code, message: message === undefined ? code : message });
  };
  deepFreeze(db);
  deepFreeze(reject);

  function errorText(e: unknown): string {
    try {
      let name = 'thrown value';
      let message;
      if ((typeof e === 'object' || typeof e === 'function') && e !== null) {
        name = StringOf((e as Obj)['name']);
        message = StringOf((e as Obj)['message']);
      } else {
        message = StringOf(e);
      }
      return stringify({ k: 'error', name: apply(sliceText, name, [0, 100]), message: apply(sliceText, message, [0, 400]) });
    } catch (unreadable) {
      return '{"k":"error","name":"Error","message":"the thrown value could not be read"}';
    }
  }
  function resultText(r: unknown): string {
    if (r === undefined || r === 'OK') return '{"k":"ok"}';
    if (typeof r === 'string') return stringify({ k: 'string', message: r });
    if (typeof r === 'object' && r !== null && !isArray(r) && (r as Obj)['__reject'] === true) {
      const code = (r as Obj)['code'];
      const message = (r as Obj)['message'];
      if (typeof code !== 'string') return stringify({ k: 'bad', what: 'ctx.reject() with a code that is not a string' });
      if (typeof message !== 'string') return stringify({ k: 'bad', what: 'ctx.reject() with a message that is not a string' });
      return stringify({ k: 'reject', code: code, message: message });
    }
    return stringify({ k: 'bad', what: r === null ? 'null' : isArray(r) ? 'an array' : typeof r });
  }

  return function makeRunner(fn: ContractFunction): Runner {
    deepFreeze(fn);
    return function run(infoText: string, payloadText: string): string {
      const info = parse(infoText) as CallInfoJson;
      const payload = decode(payloadText);
      const ctx = freeze({
        sender: info.sender,
        txId: info.txId,
        contractHash: info.contractHash,
        contractType: info.contractType,
        processor: info.processor,
        block: freeze({ height: info.height, processedMs: info.processedMs, previousProcessedMs: info.previousProcessedMs, previousHash: info.previousHash }),
        db: db,
        reject: reject,
      });
      let result;
      try {
        result = fn(payload, ctx);
      } catch (e) {
        return errorText(e);
      }
      try {
        return resultText(result);
      } catch (e) {
        return errorText(e);
      }
    };
  };
}
