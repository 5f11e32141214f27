import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPayload, checkTemplateDefinition } from '../src/contracts/template.js';
import type { Template } from '../src/chain/contract-model.js';

const ADDRESS = '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH';
const f = (type: string): { type: string; name: string; desc: string } => ({
  type,
  name: type,
  desc: '',
});
const one = (type: string): Template => ({ v: f(type) });

function ok(template: Template, payload: unknown, validanaVersion = 1): Record<string, unknown> {
  const r = checkPayload(template, JSON.stringify(payload), { validanaVersion });
  if (!r.ok) assert.fail(`expected ok, got ${r.message}`);
  return r.payload;
}

function fails(template: Template, payload: unknown, message: string, validanaVersion = 1): void {
  const r = checkPayload(
    template,
    typeof payload === 'string' ? payload : JSON.stringify(payload),
    { validanaVersion },
  );
  assert.equal(r.ok, false, `expected a failure for ${JSON.stringify(payload)}`);
  if (!r.ok) assert.equal(r.message, message);
}

test('Validana scalar types accept their values and name the field when they do not', () => {
  const cases: [string, unknown[], unknown[], string][] = [
    ['bool', [true, false], [1, 'true', null], 'boolean'],
    ['int', [0, -5, 2 ** 53 - 1], [1.5, 2 ** 53, '1', null], 'int'],
    ['uint', [0, 7], [-1, 1.5, '1'], 'uint'],
    ['float', [0, -1.25, 1e300], ['1', null], 'float'],
    ['addr', [ADDRESS], ['1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMx', 5, ''], 'address'],
    ['hex', ['', 'aBcD', '00'], ['abc', 'zz', 5], 'hex'],
    ['hash', ['ab'.repeat(32)], ['ab'.repeat(31), 'zz'.repeat(32)], 'hash'],
    ['base64', ['', 'QQ==', 'QUJD'], ['QQ=', 'Q', '!!!!'], 'base64'],
    ['str', ['', 'x'], [5, null, []], 'string'],
    ['whatever', ['x'], [5], 'string'],
  ];
  for (const [type, good, bad, word] of cases) {
    for (const v of good)
      assert.deepEqual(ok(one(type), { v }), { v }, `${type} accepts ${JSON.stringify(v)}`);
    for (const v of bad) fails(one(type), { v }, `Payload has invalid or missing ${word} type: v`);
    fails(one(type), {}, `Payload has invalid or missing ${word} type: v`);
  }
});

test('json and id follow Validana version 1 and version 2 rules', () => {
  assert.deepEqual(ok(one('json'), { v: '{"a":1}' }, 1), { v: '{"a":1}' });
  fails(one('json'), { v: '{' }, 'Payload has invalid or missing json type: v', 1);
  fails(one('json'), { v: { a: 1 } }, 'Payload has invalid or missing json type: v', 1);
  assert.deepEqual(ok(one('json'), { v: { a: [1] } }, 2), { v: { a: [1] } });
  assert.deepEqual(ok(one('json'), {}, 2), {});
  assert.deepEqual(ok(one('id'), { v: 'anything' }, 1), { v: 'anything' });
  fails(one('id'), { v: 'anything' }, 'Payload has invalid or missing id type: v', 2);
  assert.deepEqual(ok(one('id'), { v: 'ab'.repeat(16) }, 2), { v: 'ab'.repeat(16) });
});

test('arrays check every element and say "in array"', () => {
  assert.deepEqual(ok(one('uintArray'), { v: [1, 2] }), { v: [1, 2] });
  assert.deepEqual(ok(one('uintArray'), { v: [] }), { v: [] });
  fails(one('uintArray'), { v: 5 }, 'Payload has invalid or missing array type: v');
  fails(one('uintArray'), { v: [1, -1] }, 'Payload has invalid or missing uint type in array: v');
  assert.deepEqual(ok(one('kwhArray'), { v: [1, '0.5'] }), { v: [1000n, 500n] });
});

test('T? is optional for every validanaVersion (our deliberate choice)', () => {
  for (const version of [1, 2]) {
    assert.deepEqual(ok(one('uint?'), {}, version), {});
    assert.deepEqual(ok(one('uint?'), { v: 3 }, version), { v: 3 });
    fails(one('uint?'), { v: 'x' }, 'Payload has invalid or missing uint type: v', version);
    fails(one('uint?'), { v: null }, 'Payload has invalid or missing uint type: v', version);
    assert.deepEqual(ok(one('strArray?'), {}, version), {});
    assert.deepEqual(ok(one('labels?'), {}, version), {});
    assert.deepEqual(ok(one('kwh?'), {}, version), {});
    assert.deepEqual(ok(one('kwh?'), { v: '0.001' }, version), { v: 1n });
  }
});

test('kwh becomes exact Wh and labels a canonical set', () => {
  assert.deepEqual(ok(one('kwh'), { v: 1.5 }), { v: 1500n });
  assert.deepEqual(ok(one('kwh'), { v: '-2' }), { v: -2000n });
  assert.deepEqual(ok(one('kwh'), { v: 0.1 }), { v: 100n });
  fails(
    one('kwh'),
    { v: 0.0001 },
    'Payload has invalid or missing kwh type: v (amount must be kWh with at most 3 decimals, got 0.0001)',
  );
  fails(
    one('kwh'),
    { v: true },
    'Payload has invalid or missing kwh type: v (amount must be a number or a decimal string, got boolean)',
  );
  assert.deepEqual(ok(one('labels'), { v: ['solar', 'local', 'solar'] }), {
    v: ['local', 'solar'],
  });
  assert.deepEqual(ok(one('labels'), { v: 'wind,local' }), { v: ['local', 'wind'] });
  assert.deepEqual(ok(one('labels'), { v: [] }), { v: [] });
  const bad = checkPayload(one('labels'), JSON.stringify({ v: ['Solar'] }), { validanaVersion: 1 });
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.match(
      bad.message,
      /^Payload has invalid or missing labels type: v \(label "Solar" is not allowed/,
    );
});

test('extra keys, non-objects and deep nesting are refused', () => {
  fails(one('str'), { v: 'x', w: 1 }, 'Payload has extra key: w');
  fails(one('str'), '{"v":"x","__proto__":1}', 'Payload has extra key: __proto__');
  fails(one('str'), '[1]', 'Payload is invalid json.');
  fails(one('str'), 'null', 'Payload is invalid json.');
  fails(one('str'), '{"v":', 'Payload is invalid json.');
  const deep = '{"v":' + '['.repeat(100) + ']'.repeat(100) + '}';
  fails(one('json'), deep, 'Payload nests deeper than 64 levels.', 2);
});

test('the converted payload keeps a "__proto__" field as data', () => {
  const template: Template = { ['__proto__']: f('str') };
  const r = checkPayload(template, '{"__proto__":"x"}', { validanaVersion: 1 });
  assert.equal(r.ok, true);
  if (r.ok) {
    assert.equal(Object.getPrototypeOf(r.payload), Object.prototype);
    assert.deepEqual(Object.keys(r.payload), ['__proto__']);
  }
});

test('template definitions follow Validana rules', () => {
  assert.deepEqual(checkTemplateDefinition({ a: { type: 'str', name: 'a', desc: 'x' } }), {
    ok: true,
    template: { a: { type: 'str', name: 'a', desc: 'x' } },
  });
  const bad: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [null, /must be a JSON object/],
    [{ ['k'.repeat(65)]: { type: 'str', name: 'a', desc: '' } }, /longer than 64 characters/],
    [{ a: { type: 'str', name: 'a' } }, /exactly the keys type, name and desc/],
    [{ a: { type: 'str', name: 'a', desc: '', x: 1 } }, /exactly the keys type, name and desc/],
    [{ a: { type: 5, name: 'a', desc: '' } }, /type must be a string/],
    [{ a: { type: 'str', name: 'n'.repeat(65), desc: '' } }, /name must be a string of at most 64/],
    [
      { a: { type: 'str', name: 'a', desc: 'd'.repeat(257) } },
      /desc must be a string of at most 256/,
    ],
    [{ a: 'str' }, /must be an object/],
  ];
  for (const [t, message] of bad) {
    const r = checkTemplateDefinition(t);
    assert.equal(r.ok, false, JSON.stringify(t));
    if (!r.ok) assert.match(r.message, message);
  }
});
