// Property: the boundary encodings (wire.ts and the prelude) give exactly what the general forms
// give. encodeTagged and decodeTagged take shortcuts for plain data; they must equal
// JSON.stringify with the tagging replacer and a full revive (the reference copies below) on any
// value. The envelope the sandbox receives must give contract code the same values the tagged
// text did: the value the host sent, with BigInts, "$" keys and "__proto__" keys intact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UnstorableValue } from '../src/contracts/runtime/rows.js';
import { BlockSandbox } from '../src/contracts/runtime/sandbox.js';
import type { CallInfo, DbHost } from '../src/contracts/runtime/sandbox.js';
import { CONTRACT_LIMITS, DEFAULT_EXECUTION_LIMITS } from '../src/contracts/limits.js';
import { decodeTagged, encodeTagged } from '../src/contracts/runtime/wire.js';
import type { Row } from '../src/chain/contract-model.js';

// The general forms, as wire.ts had them before its shortcuts.
function escapeKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    Object.defineProperty(out, k.startsWith('$') ? '$' + k : k, {
      value: obj[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $big: value.toString() };
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).some((k) => k.startsWith('$'))
  ) {
    return escapeKeys(value as Record<string, unknown>);
  }
  return value;
}
function referenceEncode(value: unknown): string {
  return JSON.stringify(value, replacer) ?? 'null';
}
function referenceRevive(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > CONTRACT_LIMITS.jsonDepthMax + 2)
    return new UnstorableValue(`a value nested deeper than ${CONTRACT_LIMITS.jsonDepthMax} levels`);
  if (Array.isArray(v)) return v.map((x) => referenceRevive(x, depth + 1));
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const tagValue = obj[keys[0] ?? ''];
    if (keys[0] === '$big' && typeof tagValue === 'string')
      return /^-?[0-9]{1,40}$/.test(tagValue)
        ? BigInt(tagValue)
        : new UnstorableValue('a malformed BigInt');
    if (keys[0] === '$bad' && typeof tagValue === 'string') return new UnstorableValue(tagValue);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    Object.defineProperty(out, k.startsWith('$') ? k.slice(1) : k, {
      value: referenceRevive(obj[k], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Everything deepStrictEqual ignores too: key order and the kind of each value. */
function dump(v: unknown): string {
  if (v instanceof UnstorableValue) return `unstorable(${JSON.stringify(v.what)})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(dump).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${dump((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return `${typeof v}:${String(v)}`;
}

/** Objects built with defineProperty, so "__proto__" stays an own key. */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}
const arbKey = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom(
    '$',
    '$big',
    '$bad',
    '$$big',
    '$x',
    '__proto__',
    'toJSON',
    '0',
    '7',
    'v',
    'b',
    't',
    'k'.repeat(70),
  ),
);
const arbLeaf = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('\ud800', '"$big"', '', 'é'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
);
/** What the host holds: JSON values and BigInt in plain objects and arrays. */
const arbPlain = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(arbKey, tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value;

class Reading {
  constructor(readonly wh: bigint) {}
}
/** Values the shortcuts must leave to the general form. */
const arbOdd = fc.oneof(
  fc.constantFrom(
    undefined,
    () => 1,
    Symbol('s'),
    new Date(0),
    new Reading(5n),
    new Map([[1, 2]]),
    { toJSON: () => ({ $big: 1n }) },
    [1, , 3],
    Object.create(null) as unknown,
    NaN,
    -0,
  ),
  arbPlain.map((v) => [v, undefined]),
  arbPlain.map((v) =>
    objectOf([
      ['at', new Date(86_400_000)],
      ['v', v],
    ]),
  ),
);

test('encodeTagged equals JSON.stringify with the tagging replacer', () => {
  fc.assert(
    fc.property(fc.oneof(arbPlain, arbOdd), (v) => {
      assert.equal(encodeTagged(v), referenceEncode(v));
    }),
    { numRuns: 3000 },
  );
  const cyclic: Record<string, unknown> = { a: 1n };
  cyclic['self'] = cyclic;
  assert.throws(() => encodeTagged(cyclic), TypeError);
});

/** Texts the sandbox could send: tagged values, and tag look-alikes, bad tags and deep nesting. */
const arbSandboxText = fc.oneof(
  fc.oneof(arbPlain, arbOdd).map(referenceEncode),
  arbPlain.map((v) =>
    JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $big: x.toString() } : x)),
  ),
  fc.constantFrom(
    '{"$big":"12x"}',
    '{"$big":5}',
    '{"$bad":"undefined"}',
    '[{"$bad":"a function"},{"$$bad":1}]',
    '{"a":"$","$":{"$big":"-1"},"__proto__":{"$big":"2"}}',
    '{"$a":1,"a":2}',
  ),
  fc
    .integer({ min: 60, max: 75 })
    .map((depth) => '['.repeat(depth) + '{"$big":"1"}' + ']'.repeat(depth)),
);

test('decodeTagged equals the full revive', () => {
  fc.assert(
    fc.property(arbSandboxText, (text) => {
      const got = decodeTagged(text);
      const want = referenceRevive(JSON.parse(text), 0);
      assert.deepStrictEqual(got, want);
      assert.equal(dump(got), dump(want));
    }),
    { numRuns: 3000 },
  );
});

test('contract code receives exactly the value the host sends (payload, get and find)', async () => {
  const info: CallInfo = {
    sender: 's',
    txId: 't',
    contractHash: 'h',
    contractType: 'Echo',
    processor: 'p',
    height: 1,
    processedMs: 0,
    previousProcessedMs: 0,
    previousHash: '00',
  };
  // The contract sends back what it got (tagged by the prelude's own encoder) and whether every
  // object and array it got is a plain one, as JSON.parse makes them.
  const contract = {
    hashHex: 'echo',
    type: 'Echo',
    code: `function (p, ctx) {
      const got = ctx.db.get('t', 1);
      const plain = [];
      (function walk(v) {
        if (v === null || typeof v !== 'object') return;
        plain.push(Object.getPrototypeOf(v) === (Array.isArray(v) ? Array.prototype : Object.prototype));
        for (const k of Object.keys(v)) walk(v[k]);
      })(got);
      ctx.db.put('out', { payload: p, got: got, found: ctx.db.find('t', {}, 1), plain: plain });
    }`,
  };
  /** What the prelude made of a value when it received it as tagged text (its reviver). */
  const received = (v: unknown): unknown =>
    JSON.parse(referenceEncode(v), (_k, x: unknown) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
      const keys = Object.keys(x);
      if (keys.length === 1 && keys[0] === '$big') return BigInt((x as { $big: string }).$big);
      return keys.some((k) => k.startsWith('$'))
        ? objectOf(
            keys.map((k) => [
              k.startsWith('$') ? k.slice(1) : k,
              (x as Record<string, unknown>)[k],
            ]),
          )
        : x;
    }) as unknown;
  const sandbox = await BlockSandbox.create(DEFAULT_EXECUTION_LIMITS);
  try {
    fc.assert(
      fc.property(fc.oneof(arbPlain, arbOdd), arbPlain, (value, field) => {
        let out: Record<string, unknown> | null = null;
        const db: DbHost = {
          get: () => value as Row,
          put: (_table, row) => {
            out = row as Record<string, unknown>;
          },
          delete: () => false,
          find: () => [value as Row],
        };
        const payload = objectOf([
          ['field', field],
          ['$big', '1'],
        ]);
        assert.deepEqual(sandbox.call(contract, payload, info, db), {
          status: 'accepted',
          message: 'OK',
        });
        const got = received(value);
        const seen = out as Record<string, unknown> | null;
        assert.ok(seen !== null);
        assert.equal(
          dump({ payload: seen['payload'], got: seen['got'], found: seen['found'] }),
          dump(
            referenceRevive(
              JSON.parse(referenceEncode({ payload: received(payload), got, found: [got] })),
              0,
            ),
          ),
        );
        assert.ok((seen['plain'] as unknown[]).every((p) => p === true));
      }),
      { numRuns: 400 },
    );
  } finally {
    sandbox.dispose();
  }
});
