// The JavaScript that runs first in every contract's QuickJS context. It makes the realm
// deterministic and read-only, then returns `makeRunner(fn)`, which wraps the contract function
// in a runner the host calls once per transaction:
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

export const PRELUDE_SOURCE = String.raw`(function setup(host) {
  'use strict';
  const G = globalThis;
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

  function thrower(what, hint) {
    return function () { throw new TE(what + ' is not available to contracts' + hint); };
  }
  function setValue(obj, name, value) {
    defineProperty(obj, name, { value: value, writable: true, enumerable: false, configurable: true });
  }

  // Features that are not deterministic, or that create code at run time.
  const removed = ['eval', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'ArrayBuffer', 'DataView',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
    'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Promise', 'performance', 'console'];
  for (let i = 0; i < removed.length; i++) delete G[removed[i]];
  setValue(Math, 'random', thrower('Math.random', ': a contract must give the same result on every node'));

  function forbiddenConstructor(name, proto) {
    const f = function () { throw new TE(name + ' cannot create code in a contract: write the function in the contract source'); };
    defineProperty(f, 'name', { value: name });
    defineProperty(f, 'prototype', { value: proto, writable: false });
    setValue(proto, 'constructor', f);
    return f;
  }
  setValue(G, 'Function', forbiddenConstructor('Function', Function.prototype));
  const functionSamples = [
    function () { return function* () {}; },
    function () { return async function () {}; },
    function () { return async function* () {}; },
  ];
  for (let i = 0; i < functionSamples.length; i++) {
    try {
      const proto = getPrototypeOf(functionSamples[i]());
      if (proto !== null && proto !== Function.prototype) forbiddenConstructor(proto.constructor.name, proto);
    } catch (e) {
      // The feature is not in this build; nothing to forbid.
    }
  }

  // Date: UTC only, no clock.
  const OD = Date;
  const DP = OD.prototype;
  const getTime = DP.getTime;
  const toISOString = DP.toISOString;
  const dateParse = OD.parse;
  const dateUTC = OD.UTC;
  const local = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
  for (let i = 0; i < local.length; i++) {
    setValue(DP, 'get' + local[i], DP['getUTC' + local[i]]);
    if (local[i] !== 'Day') setValue(DP, 'set' + local[i], DP['setUTC' + local[i]]);
  }
  delete DP.getYear;
  delete DP.setYear;
  setValue(DP, 'getTimezoneOffset', function getTimezoneOffset() {
    const t = apply(getTime, this, []);
    return t !== t ? NaN : 0;
  });
  function isoText(d) {
    const t = apply(getTime, d, []);
    return t !== t ? 'Invalid Date' : apply(toISOString, d, []);
  }
  function isoPart(d, part) {
    const s = isoText(d);
    const at = apply(indexOf, s, ['T']);
    if (at < 0) return s;
    return part === 0 ? apply(sliceText, s, [0, at]) : apply(sliceText, s, [at + 1]);
  }
  setValue(DP, 'toString', function toString() { return isoText(this); });
  setValue(DP, 'toLocaleString', function toLocaleString() { return isoText(this); });
  setValue(DP, 'toDateString', function toDateString() { return isoPart(this, 0); });
  setValue(DP, 'toLocaleDateString', function toLocaleDateString() { return isoPart(this, 0); });
  setValue(DP, 'toTimeString', function toTimeString() { return isoPart(this, 1); });
  setValue(DP, 'toLocaleTimeString', function toLocaleTimeString() { return isoPart(this, 1); });
  const ISO_DATE = /^(?:[+-][0-9]{6}|[0-9]{4})(?:-[0-9]{2}(?:-[0-9]{2})?)?$/;
  const ISO_DATE_TIME = /^(?:[+-][0-9]{6}|[0-9]{4})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$/;
  function parseIso(text) {
    const s = StringOf(text);
    if (apply(regexpExec, ISO_DATE, [s]) !== null) return dateParse(s);
    const m = apply(regexpExec, ISO_DATE_TIME, [s]);
    if (m === null) return NaN;
    return dateParse(m[1] === undefined ? s + 'Z' : s);
  }
  const clockHint = ': contracts get no clock; use new Date(ctx.block.processedMs)';
  const DateW = function Date(a, b, c, d, e, f, g) {
    if (new.target === undefined) throw new TE('Date() reads the clock, which is not available to contracts' + clockHint);
    const n = arguments.length;
    let t;
    if (n === 0) throw new TE('new Date() reads the clock, which is not available to contracts' + clockHint);
    if (n === 1) {
      if (typeof a === 'string') t = parseIso(a);
      else if (a instanceof OD) t = apply(getTime, a, []);
      else t = NumberOf(a);
    } else {
      t = dateUTC(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? g : 0);
    }
    return construct(OD, [t], new.target);
  };
  defineProperty(DateW, 'prototype', { value: DP, writable: false });
  defineProperty(DateW, 'length', { value: 7 });
  setValue(DateW, 'UTC', dateUTC);
  setValue(DateW, 'parse', function parse(s) { return parseIso(s); });
  setValue(DateW, 'now', thrower('Date.now', clockHint));
  setValue(DP, 'constructor', DateW);
  setValue(G, 'Date', DateW);

  // Deep freeze: the global object, everything reachable from it, and intrinsics that are only
  // reachable through instances (iterator and generator prototypes).
  const seen = new SetOf();
  function deepFreeze(root) {
    // Only objects and functions go on the stack, and n is its height: this runs for every
    // property of the realm in every context, so it avoids a method call per value.
    const stack = [root];
    let n = 1;
    while (n > 0) {
      const o = stack[--n];
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || apply(setHas, seen, [o])) continue;
      apply(setAdd, seen, [o]);
      const proto = getPrototypeOf(o);
      if (proto !== null) stack[n++] = proto;
      const names = ownKeys(o);
      for (let i = 0; i < names.length; i++) {
        const desc = getOwnPropertyDescriptor(o, names[i]);
        if (desc === undefined) continue;
        if ('value' in desc) {
          const v = desc.value;
          if ((typeof v === 'object' && v !== null) || typeof v === 'function') stack[n++] = v;
        } else {
          if (desc.get !== undefined) stack[n++] = desc.get;
          if (desc.set !== undefined) stack[n++] = desc.set;
        }
      }
      freeze(o);
    }
  }
  const instanceSamples = [
    function () { return function* () {}; },
    function () { return (function* () {})(); },
    function () { return async function () {}; },
    function () { return async function* () {}; },
    function () { return [][Symbol.iterator](); },
    function () { return ''[Symbol.iterator](); },
    function () { return new Map()[Symbol.iterator](); },
    function () { return new Set()[Symbol.iterator](); },
    function () { return /a/g[Symbol.matchAll]('a'); },
    function () { return [].values().map(function (x) { return x; }); },
    function () { return Iterator.from({ next: function () { return { done: true, value: undefined }; } }); },
    function () { return (function () { return arguments; })(); },
  ];
  for (let i = 0; i < instanceSamples.length; i++) {
    try {
      deepFreeze(instanceSamples[i]());
    } catch (e) {
      // The feature is not in this build; nothing to freeze.
    }
  }
  deepFreeze(G);

  // Tagged JSON (wire.ts).
  function escapeKeys(v, names) {
    const out = {};
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      defineProperty(out, apply(charCodeAt, k, [0]) === 36 ? '$' + k : k, { value: v[k], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  function replacer(k, v) {
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
          for (let i = 0; i < names.length; i++) if (names[i][0] === '$') return escapeKeys(v, names);
        }
        return v;
      default: return v;
    }
  }
  function reviver(k, v) {
    if (typeof v !== 'object' || v === null || isArray(v)) return v;
    const names = keys(v);
    if (names.length === 1 && names[0] === '$big') return BigIntOf(v.$big);
    for (let i = 0; i < names.length; i++) {
      if (apply(charCodeAt, names[i], [0]) === 36) {
        const out = {};
        for (let j = 0; j < names.length; j++) {
          const n = names[j];
          defineProperty(out, apply(charCodeAt, n, [0]) === 36 ? apply(sliceText, n, [1]) : n, { value: v[n], enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
    }
    return v;
  }
  function encode(v) { return stringify(v, replacer); }
  function decodeTagged(text) { return apply(indexOf, text, ['"$']) < 0 ? parse(text) : parse(text, reviver); }
  // The envelope (wire.ts): a reviver would cost a call for every value, so BigInts come as
  // decimal strings at the places "b" lists: [path length, ...path, key count, ...keys, ...].
  function decode(text) {
    const w = parse(text);
    if (w.t !== undefined) return decodeTagged(w.t);
    const b = w.b;
    if (b !== undefined) {
      for (let i = 0; i < b.length;) {
        let holder = w;
        const pathEnd = i + 1 + b[i];
        for (i++; i < pathEnd; i++) holder = holder[b[i]];
        const keysEnd = i + 1 + b[i];
        // JSON.parse made holder's own data properties, so assignment cannot reach a setter.
        for (i++; i < keysEnd; i++) holder[b[i]] = BigIntOf(holder[b[i]]);
      }
    }
    return w.v;
  }
  function tableName(table) {
    if (typeof table !== 'string') throw new TE('a table name must be a string, got ' + typeof table);
    // The host reads names as C strings, which end at U+0000: such a name would reach it cut short.
    if (apply(indexOf, table, ['\u0000']) >= 0) throw new TE('a table name must not contain U+0000');
    return table;
  }

  const db = {
    get(table, key) { return decode(host(${HOST_OP.get}, tableName(table), encode(key), 0)); },
    put(table, row) { host(${HOST_OP.put}, tableName(table), encode(row), 0); },
    delete(table, key) { return host(${HOST_OP.delete}, tableName(table), encode(key), 0); },
    find(table, where, limit) {
      let n = ${CONTRACT_LIMITS.findLimitDefault};
      if (limit !== undefined) {
        if (!isInteger(limit) || limit < 0 || limit > ${CONTRACT_LIMITS.findLimitMax}) throw new RE('find() limit must be an integer from 0 to ${CONTRACT_LIMITS.findLimitMax}, got ' + StringOf(limit));
        n = limit;
      }
      return decode(host(${HOST_OP.find}, tableName(table), encode(where === undefined ? {} : where), n));
    },
  };
  const reject = function reject(code, message) {
    return freeze({ __reject: true, code: code, message: message === undefined ? code : message });
  };
  deepFreeze(db);
  deepFreeze(reject);

  function errorText(e) {
    try {
      let name = 'thrown value';
      let message;
      if ((typeof e === 'object' || typeof e === 'function') && e !== null) {
        name = StringOf(e.name);
        message = StringOf(e.message);
      } else {
        message = StringOf(e);
      }
      return stringify({ k: 'error', name: apply(sliceText, name, [0, 100]), message: apply(sliceText, message, [0, 400]) });
    } catch (unreadable) {
      return '{"k":"error","name":"Error","message":"the thrown value could not be read"}';
    }
  }
  function resultText(r) {
    if (r === undefined || r === 'OK') return '{"k":"ok"}';
    if (typeof r === 'string') return stringify({ k: 'string', message: r });
    if (typeof r === 'object' && r !== null && !isArray(r) && r.__reject === true) {
      const code = r.code;
      const message = r.message;
      if (typeof code !== 'string') return stringify({ k: 'bad', what: 'ctx.reject() with a code that is not a string' });
      if (typeof message !== 'string') return stringify({ k: 'bad', what: 'ctx.reject() with a message that is not a string' });
      return stringify({ k: 'reject', code: code, message: message });
    }
    return stringify({ k: 'bad', what: r === null ? 'null' : isArray(r) ? 'an array' : typeof r });
  }

  return function makeRunner(fn) {
    deepFreeze(fn);
    return function run(infoText, payloadText) {
      const info = parse(infoText);
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
})`;
