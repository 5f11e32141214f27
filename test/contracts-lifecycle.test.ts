import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { defineContract } from '../src/contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../src/contracts/authoring/define.js';
import { checkAdmission } from '../src/contracts/runtime/executor.js';
import { checkContractCode, recordOf } from '../src/contracts/runtime/lifecycle.js';
import { contractHashHex, parseCreatePayload, parseDeletePayload } from '../src/contracts/create-payload.js';
import { checkManifest, checkManifestAgainst, manifestJson, parseManifest, tableDefsOf } from '../src/contracts/manifest.js';
import { executeSource, packContract } from '../src/contracts/authoring/pack.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../src/chain/types.js';
import type { ContractRecord, TableDef } from '../src/chain/contract-model.js';
import { aliceKey, makeTx, processorKey } from './support/contracts-chain.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const CODE = 'function execute(p, ctx) { return "OK"; }';
const TEMPLATE = { n: { type: 'uint', name: 'n', desc: 'a number' } };
const MANIFEST = { tables: { notes: { columns: { id: 'text', body: 'text' }, key: ['id'] } }, reads: [] };

function createPayload(over: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'Notes', version: '1.0', description: 'notes', template: JSON.stringify(TEMPLATE), init: b64(JSON.stringify(MANIFEST)), code: b64(CODE), ...over });
}

function createFails(payload: string, message: string | RegExp): void {
  const r = parseCreatePayload(payload);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : message);
}

test('the contract hash is hash256 of the code (version 2: with "use strict"; in front)', () => {
  const h = (s: string): string => createHash('sha256').update(createHash('sha256').update(s, 'utf8').digest()).digest('hex');
  assert.equal(contractHashHex(CODE, 1), h(CODE));
  assert.equal(contractHashHex(CODE, 2), h(`"use strict";${CODE}`));
  assert.notEqual(contractHashHex(CODE, 1), contractHashHex(CODE, 2));
});

test('a create payload parses into a draft; the template may be an object or a JSON string', () => {
  for (const template of [JSON.stringify(TEMPLATE), TEMPLATE]) {
    const r = parseCreatePayload(createPayload({ template }));
    assert.equal(r.ok, true);
    if (!r.ok) continue;
    assert.equal(r.draft.hashHex, contractHashHex(CODE, 1));
    assert.deepEqual(r.draft.template, TEMPLATE);
    assert.deepEqual(r.draft.manifest, MANIFEST);
    assert.equal(r.draft.code, CODE);
    assert.equal(r.draft.validanaVersion, 1);
  }
  const v2 = parseCreatePayload(createPayload({ validanaVersion: 2 }));
  assert.ok(v2.ok && v2.draft.validanaVersion === 2 && v2.draft.hashHex === contractHashHex(CODE, 2));
  const noTables = parseCreatePayload(createPayload({ init: '' }));
  assert.ok(noTables.ok && Object.keys(noTables.draft.manifest.tables).length === 0);
});

test('a create payload with a problem says which', () => {
  createFails('[]', 'Payload is invalid json.');
  createFails(createPayload({ extra: 1 }), 'Payload has extra key: extra');
  createFails(JSON.stringify({ version: '1', description: '', template: '{}', init: '', code: b64(CODE) }), 'Payload has invalid or missing string type: type');
  createFails(createPayload({ type: 't'.repeat(65) }), 'type must be 1 to 64 characters, got 65');
  createFails(createPayload({ type: '' }), 'type must be 1 to 64 characters, got 0');
  createFails(createPayload({ version: 'v'.repeat(33) }), 'version must be at most 32 characters, got 33');
  createFails(createPayload({ description: 'd'.repeat(257) }), 'description must be at most 256 characters, got 257');
  createFails(createPayload({ validanaVersion: 3 }), 'validanaVersion must be 1 or 2, got 3');
  createFails(createPayload({ validanaVersion: -1 }), 'Payload has invalid or missing uint type: validanaVersion');
  createFails(createPayload({ template: '{' }), 'template is a string that is not JSON');
  createFails(createPayload({ template: { n: { type: 'uint' } } }), /^Template field n must have exactly the keys type, name and desc/);
  createFails(createPayload({ init: 'abc' }), 'Payload has invalid or missing base64 type: init');
  createFails(createPayload({ init: b64('{') }), 'the manifest (init) is not JSON');
  createFails(createPayload({ code: '' }), 'code is empty; it must hold the contract function (base64)');
  createFails(createPayload({ code: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') }), 'code is not base64 of UTF-8 text');
});

test('a delete payload names a hash', () => {
  assert.deepEqual(parseDeletePayload(JSON.stringify({ hash: 'AB'.repeat(32) })), { ok: true, hashHex: 'ab'.repeat(32) });
  assert.deepEqual(parseDeletePayload(JSON.stringify({ hash: 'ab' })), { ok: false, message: 'Payload has invalid or missing hash type: hash' });
  assert.deepEqual(parseDeletePayload(JSON.stringify({ hash: 'ab'.repeat(32), x: 1 })), { ok: false, message: 'Payload has extra key: x' });
});

test('manifests: names, types, keys, indexes, reads and limits', () => {
  assert.deepEqual(parseManifest(''), { ok: true, manifest: { tables: {}, reads: [] } });
  const settlement = { tables: {}, reads: [], budget: 'settlement' } as const;
  assert.deepEqual(checkManifest(settlement), { ok: true, manifest: settlement });
  assert.deepEqual(parseManifest(manifestJson(settlement)), { ok: true, manifest: settlement });
  assert.equal(manifestJson({ tables: {}, reads: [] }), '{"tables":{},"reads":[]}');
  assert.deepEqual(checkManifest({ tables: { t: { columns: { a: 'text', b: 'json' }, key: ['a'], indexes: [['a']] } } }), {
    ok: true,
    manifest: { tables: { t: { columns: { a: 'text', b: 'json' }, key: ['a'], indexes: [['a']] } }, reads: [] },
  });
  const column = (type: string): unknown => ({ tables: { t: { columns: { a: 'text', b: type }, key: ['a'] } } });
  const many = (n: number, make: (i: number) => [string, unknown]): Record<string, unknown> => Object.fromEntries(Array.from({ length: n }, (_, i) => make(i)));
  const bad: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{ tables: {}, other: 1 }, /unknown key "other"/],
    [{ tables: { Bad: { columns: { a: 'text' }, key: ['a'] } } }, /table name "Bad" must match/],
    [{ tables: { ['t'.repeat(64)]: { columns: { a: 'text' }, key: ['a'] } } }, /must match/],
    [column('int'), /column b has type "int"/],
    [{ tables: { t: { columns: { A: 'text' }, key: ['A'] } } }, /column name "A" must match/],
    [{ tables: { t: { columns: {}, key: ['a'] } } }, /has 0 columns/],
    [{ tables: { t: { columns: many(33, (i) => [`c${i}`, 'text']), key: ['c0'] } } }, /has 33 columns, expected 1 to 32/],
    [{ tables: many(17, (i) => [`t${i}`, { columns: { a: 'text' }, key: ['a'] }]) }, /defines 17 tables, at most 16/],
    [{ tables: { t: { columns: { a: 'text' }, key: [] } } }, /key must be a non-empty array/],
    [{ tables: { t: { columns: { a: 'text' }, key: ['b'] } } }, /key names "b", which is not a column/],
    [{ tables: { t: { columns: { a: 'text' }, key: ['a', 'a'] } } }, /key names column a twice/],
    [{ tables: { t: { columns: { a: 'text[]' }, key: ['a'] } } }, /key column a is text\[\]/],
    [{ tables: { t: { columns: { a: 'json' }, key: ['a'] } } }, /key column a is json/],
    [{ tables: { t: { columns: { a: 'text', b: 'json' }, key: ['a'], indexes: [['b']] } } }, /index column b is json/],
    [{ tables: { t: { columns: { a: 'text' }, key: ['a'], extra: 1 } } }, /unknown key "extra"/],
    [{ tables: {}, reads: ['x', 'x'] }, /names table x twice/],
    [{ tables: {}, reads: [5] }, /not a table name/],
    [{ tables: { t: { columns: { a: 'text' }, key: ['a'] } }, reads: ['t'] }, /both defined and listed under reads/],
    [{ tables: {}, budget: 'unlimited' }, /manifest.budget must be "settlement" or left out, got "unlimited"/],
    [{ tables: {}, budget: null }, /manifest.budget must be "settlement"/],
  ];
  for (const [m, message] of bad) {
    const r = checkManifest(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    if (!r.ok) assert.match(r.message, message);
  }
});

test('a table defined again must be identical; read tables must exist', () => {
  const def: TableDef = { columns: { a: 'text', n: 'bigint' }, key: ['a'] };
  const existing = new Map<string, TableDef>([['t', def]]);
  assert.equal(checkManifestAgainst({ tables: { t: { columns: { a: 'text', n: 'bigint' }, key: ['a'], indexes: [] } }, reads: [] }, existing), null);
  assert.match(checkManifestAgainst({ tables: { t: { columns: { n: 'bigint', a: 'text' }, key: ['a'] } }, reads: [] }, existing) ?? '', /already exists with a different definition/);
  assert.match(checkManifestAgainst({ tables: { t: { columns: { a: 'text', n: 'text' }, key: ['a'] } }, reads: [] }, existing) ?? '', /different definition/);
  assert.equal(checkManifestAgainst({ tables: {}, reads: ['t'] }, existing), null);
  assert.match(checkManifestAgainst({ tables: {}, reads: ['u'] }, existing) ?? '', /names table u, which no contract defines/);
});

test('contract code must be exactly one plain function expression', async () => {
  assert.equal(await checkContractCode(CODE), null);
  assert.equal(await checkContractCode('  (p, ctx) => "OK"\n'), null);
  assert.equal(await checkContractCode('function (p) { try { return p.x; } catch (e) { return "no"; } }'), null);
  const bad: [string, RegExp][] = [
    ['async function (p) {}', /not async and not a generator/],
    ['function* (p) {}', /not async and not a generator/],
    ['class { }', /not a class/],
    ['5', /evaluates to number/],
    ['function a() {}, function b() {}', /exactly one function expression/],
    ['function a() {}) ; (function b() {}', /exactly one function expression/],
    ['/* hi */ function a() {}', /exactly one function expression/],
    ['function a() {}) + (() => { for (;;) {} })() + (function b() {}', /does not evaluate: InternalError: interrupted/],
    ['function (', /does not evaluate: SyntaxError/],
    ['function (p) { with (p) {} }', /does not evaluate: SyntaxError/],
  ];
  for (const [code, message] of bad) assert.match((await checkContractCode(code)) ?? 'accepted', message, code);
});

const notes = defineContract<{ n: number }>({
  type: 'Notes',
  version: '1.0',
  description: 'notes',
  template: TEMPLATE,
  manifest: MANIFEST as { tables: Record<string, TableDef>; reads: string[] },
  execute(p: { n: number }, ctx: ContractContext): ContractResult {
    ctx.db.put('notes', { id: String(p.n), body: 'x' });
    return 'OK';
  },
});

test('packContract is deterministic and turns a method into a function expression', async () => {
  const a = packContract(notes);
  const b = packContract(notes);
  assert.deepEqual(a, b);
  const code = Buffer.from(a.payload.code, 'base64').toString('utf8');
  assert.match(code, /^function execute\(p, ctx\) \{/);
  assert.equal(a.hashHex, contractHashHex(code, 1));
  assert.equal(a.payload.template, JSON.stringify(TEMPLATE));
  assert.equal(Buffer.from(a.payload.init, 'base64').toString('utf8'), manifestJson(notes.manifest));
  assert.equal(await checkContractCode(code), null);
  const parsed = parseCreatePayload(JSON.stringify(a.payload));
  assert.ok(parsed.ok && parsed.draft.hashHex === a.hashHex);
  assert.equal(executeSource(function named(x: number) { return x; } as never), 'function named(x) { return x; }');
  assert.equal(executeSource(((x: number) => x) as never), '(x) => x');
  assert.throws(() => packContract({ ...notes, template: { n: { type: 'address', name: 'n', desc: '' } } }), /type "address", which is not a known type/);
});

test('checkAdmission refuses what can never run, at submission time', () => {
  const packed = packContract(notes);
  const parsed = parseCreatePayload(JSON.stringify(packed.payload));
  assert.ok(parsed.ok);
  if (!parsed.ok) return;
  const record: ContractRecord = recordOf(parsed.draft, processorKey.address, 1);
  const contracts = new Map([[record.hashHex, record]]);
  const admit = (tx: ReturnType<typeof makeTx>): ReturnType<typeof checkAdmission> => checkAdmission(contracts, tx, processorKey.address);
  const codeOf = (o: ReturnType<typeof checkAdmission>): string | null => (o !== null && 'code' in o ? o.code : null);
  assert.equal(admit(makeTx(aliceKey, record.hashHex, { n: 1 })), null);
  assert.equal(codeOf(admit(makeTx(aliceKey, record.hashHex, { n: -1 }))), 'payload_invalid');
  assert.equal(codeOf(admit(makeTx(aliceKey, 'ab'.repeat(32), { n: 1 }))), 'contract_unknown');
  assert.equal(codeOf(admit(makeTx(aliceKey, CREATE_CONTRACT_HASH, packed.payload))), 'not_processor');
  assert.equal(codeOf(admit(makeTx(aliceKey, DELETE_CONTRACT_HASH, { hash: record.hashHex }))), 'not_processor');
  const again = admit(makeTx(processorKey, CREATE_CONTRACT_HASH, packed.payload));
  assert.deepEqual(again, { status: 'invalid', code: 'contract_create_invalid', message: `Contract ${record.hashHex} already exists.` });
  assert.equal(admit(makeTx(processorKey, CREATE_CONTRACT_HASH, { ...packed.payload, code: b64('function () { return 1; }') })), null);
  assert.equal(codeOf(admit(makeTx(processorKey, CREATE_CONTRACT_HASH, { ...packed.payload, description: 5 }))), 'contract_create_invalid');
  assert.equal(admit(makeTx(processorKey, DELETE_CONTRACT_HASH, { hash: record.hashHex })), null);
  // A contract that is not there yet may be queued for creation: the block decides.
  assert.equal(admit(makeTx(processorKey, DELETE_CONTRACT_HASH, { hash: 'cd'.repeat(32) })), null);
  assert.equal(codeOf(admit(makeTx(processorKey, DELETE_CONTRACT_HASH, { hash: 'cd' }))), 'contract_delete_invalid');
  const reader = { ...packed.payload, code: b64('function () { return 2; }'), init: b64(JSON.stringify({ tables: {}, reads: ['queued_table'] })) };
  assert.equal(admit(makeTx(processorKey, CREATE_CONTRACT_HASH, reader)), null);
  const clash = { ...packed.payload, code: b64('function () { return 3; }'), init: b64(JSON.stringify({ tables: { notes: { columns: { id: 'text' }, key: ['id'] } } })) };
  assert.match(admit(makeTx(processorKey, CREATE_CONTRACT_HASH, clash))?.message ?? '', /table notes already exists with a different definition/);
  const deleted = new Map([[record.hashHex, { ...record, deletedHeight: 2 }]]);
  assert.equal(codeOf(checkAdmission(deleted, makeTx(aliceKey, record.hashHex, { n: 1 }), processorKey.address)), 'contract_unknown');
  assert.deepEqual([...tableDefsOf([record]).keys()], ['notes']);
});
