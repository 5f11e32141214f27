// Golden vector for the state digest (docs/contract-api.md, "State digest"). The expected records
// and digest were written down from the specification and computed with an independent script
// (Python: hashlib over u32le(len) || utf8(json) records); they change only in a reviewed commit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalKeyBytes,
  sortStateChanges,
  stateDigestHex,
  stateDigestRecords,
} from '../src/contracts/runtime/digest.js';
import type { StateChange, TableDef } from '../src/chain/contract-model.js';

const DEFS = new Map<string, TableDef>([
  [
    'balances',
    {
      columns: {
        context: 'text',
        trader: 'text',
        block: 'bigint',
        labels: 'text[]',
        amount_wh: 'bigint',
        note: 'json',
      },
      key: ['context', 'trader', 'block'],
    },
  ],
  ['flags', { columns: { id: 'bigint', on: 'boolean' }, key: ['id', 'on'] }],
]);

const CHANGES: StateChange[] = [
  { table: 'flags', key: [2n, false], row: { id: 2n, on: false } },
  {
    table: 'balances',
    key: ['ctx1', '1Bob', 5n],
    row: {
      context: 'ctx1',
      trader: '1Bob',
      block: 5n,
      labels: ['solar', 'wind'],
      amount_wh: -1500n,
      note: { b: 1, aa: [true, null, 'é'] },
    },
  },
  { table: 'balances', key: ['ctx1', '1Alice', 5n], row: null },
  { table: 'flags', key: [-1n, true], row: { id: -1n, on: true } },
  {
    table: 'balances',
    key: ['ctx1', '1Alice', -3n],
    row: { context: 'ctx1', trader: '1Alice', block: -3n, labels: [], amount_wh: 0n, note: null },
  },
];
const CREATED = ['aa'.repeat(32)];
const DELETED = ['bb'.repeat(32)];

const RECORDS = [
  '["row","balances",["ctx1","1Alice","-3"],{"context":"ctx1","trader":"1Alice","block":"-3","labels":[],"amount_wh":"0","note":null}]',
  '["row","balances",["ctx1","1Alice","5"],null]',
  '["row","balances",["ctx1","1Bob","5"],{"context":"ctx1","trader":"1Bob","block":"5","labels":["solar","wind"],"amount_wh":"-1500","note":{"b":1,"aa":[true,null,"é"]}}]',
  '["row","flags",["-1",true],{"id":"-1","on":true}]',
  '["row","flags",["2",false],{"id":"2","on":false}]',
  `["contract_created","${'aa'.repeat(32)}"]`,
  `["contract_deleted","${'bb'.repeat(32)}"]`,
];
const DIGEST = 'b56d423ec282f6040ce4b3c974910ef44081d3c0c5c446f23e621d6e2f6fb275';
/** hash256 of zero bytes: the digest of a block that changed nothing. */
const EMPTY_DIGEST = '5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456';

test('golden vector: records and digest', () => {
  assert.deepEqual(stateDigestRecords(CHANGES, DEFS, CREATED, DELETED), RECORDS);
  assert.equal(stateDigestHex(CHANGES, DEFS, CREATED, DELETED), DIGEST);
  assert.equal(
    stateDigestHex([...CHANGES].reverse(), DEFS, CREATED, DELETED),
    DIGEST,
    'the input order of rows does not matter',
  );
  assert.equal(stateDigestHex([], new Map(), [], []), EMPTY_DIGEST);
});

test('canonical key bytes sort like the primary key order', () => {
  const def = DEFS.get('flags') as TableDef;
  assert.deepEqual(
    [...canonicalKeyBytes(def, [-1n, true])],
    [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1],
  );
  assert.deepEqual([...canonicalKeyBytes(def, [0n, false])], [0x80, 0, 0, 0, 0, 0, 0, 0, 0]);
  const text: TableDef = { columns: { t: 'text', n: 'bigint' }, key: ['t', 'n'] };
  assert.deepEqual(
    [...canonicalKeyBytes(text, ['é', 1n])],
    [0xc3, 0xa9, 0, 0x80, 0, 0, 0, 0, 0, 0, 1],
  );
  const sorted = sortStateChanges(CHANGES, DEFS).map(
    (c) => `${c.table}:${c.key.map(String).join('/')}`,
  );
  assert.deepEqual(sorted, [
    'balances:ctx1/1Alice/-3',
    'balances:ctx1/1Alice/5',
    'balances:ctx1/1Bob/5',
    'flags:-1/true',
    'flags:2/false',
  ]);
});

test('the digest refuses what it cannot encode canonically', () => {
  assert.throws(
    () => stateDigestHex([CHANGES[0] as StateChange, CHANGES[0] as StateChange], DEFS, [], []),
    /two state changes for one row/,
  );
  assert.throws(
    () => stateDigestHex([{ table: 'nope', key: ['x'], row: null }], DEFS, [], []),
    /no definition/,
  );
  assert.throws(
    () => stateDigestHex([{ table: 'flags', key: [1n, true], row: { id: 1n } }], DEFS, [], []),
    /does not fit its table/,
  );
});
