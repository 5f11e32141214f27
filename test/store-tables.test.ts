import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ChainError } from '../src/core/errors.js';
import {
  applyStateChanges,
  contractTableName,
  createContractTable,
  findRows,
  readRows,
  rowProblem,
  validateTableDef,
} from '../src/store/contract-tables.js';
import { migrate } from '../src/store/migrations.js';
import type { Database } from '../src/store/types.js';
import type {
  JsonValue,
  Row,
  RowValue,
  StateChange,
  TableDef,
} from '../src/chain/contract-model.js';
import { testBackends } from './support/test-db.js';

/** PostgreSQL's COLLATE "C": UTF-8 bytes, which is code point order (not UTF-16 code units). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const NAMES = [
  'b',
  'B',
  'a',
  'A',
  'aa',
  'a b',
  'a_b',
  '',
  'é',
  'e',
  'z',
  'Z',
  'ä',
  'ß',
  '日本',
  '𝄞',
  '\uE000',
  '~',
  '0',
  '10',
  '9',
];

const PEOPLE: TableDef = {
  columns: { name: 'text', n: 'bigint', on: 'boolean', grp: 'text', tags: 'text[]', extra: 'json' },
  key: ['name', 'n', 'on'],
  indexes: [['grp'], ['tags']],
};

function person(
  name: string,
  n: bigint,
  on: boolean,
  grp: string,
  tags: string[] = [],
  extra: JsonValue = null,
): Row {
  return { name, n, on, grp, tags, extra };
}

function upsert(table: string, def: TableDef, row: Row): StateChange {
  return { table, key: def.key.map((k) => row[k] as RowValue), row };
}

const orders = new Map<string, unknown>();

for (const backend of testBackends()) {
  test(`rows come back ordered by key in byte order (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      await db.transaction((sql) => createContractTable(sql, 'people', PEOPLE));
      await db.transaction((sql) => createContractTable(sql, 'people', PEOPLE)); // idempotent
      const rows: Row[] = [];
      NAMES.forEach((name, i) => {
        rows.push(
          person(
            name,
            BigInt(i % 3) - 1n,
            i % 2 === 0,
            i % 2 === 0 ? 'even' : 'odd',
            i % 4 === 0 ? ['x', 'y'] : ['y'],
            { i },
          ),
        );
        rows.push(person(name, 2n ** 60n, false, 'big'));
      });
      rows.push(person('a', -(2n ** 63n), true, 'big'), person('a', -(2n ** 63n), false, 'big'));
      const defs = new Map([['people', PEOPLE]]);
      await db.transaction((sql) =>
        applyStateChanges(
          sql,
          defs,
          rows.map((r) => upsert('people', PEOPLE, r)),
        ),
      );

      const all = await findRows(db, 'people', PEOPLE, {}, 1000);
      assert.deepStrictEqual(
        all.map((r) => [r['name'], r['n'], r['on']]),
        [...rows].sort((x, y) => compareKeys(x, y)).map((r) => [r['name'], r['n'], r['on']]),
      );
      assert.equal(all.length, rows.length);
      // 𝄞 (U+1D11E) sorts after U+E000 in byte order, though before it in UTF-16 code units.
      const names = [...new Set(all.map((r) => r['name']))];
      assert.ok(names.indexOf('\uE000') < names.indexOf('𝄞'));
      assert.ok(names.indexOf('B') < names.indexOf('a'));

      const evens = await findRows(db, 'people', PEOPLE, { grp: 'even' }, 5);
      assert.equal(evens.length, 5);
      assert.deepStrictEqual(evens, all.filter((r) => r['grp'] === 'even').slice(0, 5));
      const tagged = await findRows(db, 'people', PEOPLE, { tags: ['x', 'y'], on: true }, 1000);
      assert.deepStrictEqual(
        tagged,
        all.filter((r) => r['on'] === true && JSON.stringify(r['tags']) === '["x","y"]'),
      );
      assert.deepStrictEqual(
        await findRows(db, 'people', PEOPLE, { extra: { i: 3 } }, 10),
        all.filter((r) => JSON.stringify(r['extra']) === '{"i":3}'),
      );
      assert.deepStrictEqual(
        await findRows(db, 'people', PEOPLE, { extra: null, n: 2n ** 60n }, 1000),
        all.filter((r) => r['n'] === 2n ** 60n),
      );
      assert.deepStrictEqual(await findRows(db, 'people', PEOPLE, { name: 'A' }, 0), []);

      const keys: RowValue[][] = [
        ['b', -1n, true],
        ['a', -(2n ** 63n), false],
        ['missing', 0n, false],
        ['b', -1n, true],
        ['B', -1n, true],
        ['𝄞', 2n ** 60n, false],
      ];
      const found = await readRows(db, 'people', PEOPLE, keys);
      const sortedFound = [...found].sort(compareKeys);
      assert.deepStrictEqual(
        sortedFound,
        all.filter((r) =>
          keys.some((k) => k[0] === r['name'] && k[1] === r['n'] && k[2] === r['on']),
        ),
      );
      assert.equal(found.length, 3);
      assert.deepStrictEqual(await readRows(db, 'people', PEOPLE, []), []);
      orders.set(backend.name, { all, evens, tagged, sortedFound });
    } finally {
      await db.close();
    }
  });

  test(`random upserts and deletes match a model (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(arbChange(), { maxLength: 25 }), { minLength: 1, maxLength: 5 }),
          async (batches) => {
            const table = `prop_${run++}`;
            await db.transaction((sql) => createContractTable(sql, table, PROP));
            const defs = new Map([[table, PROP]]);
            const model = new Map<string, Row>();
            for (const batch of batches) {
              const changes = batch.map((c) => ({ ...c, table }));
              await db.transaction((sql) => applyStateChanges(sql, defs, changes));
              for (const change of changes) {
                const key = JSON.stringify(change.key, (_, v: unknown) =>
                  typeof v === 'bigint' ? `${v}n` : v,
                );
                if (change.row === null) model.delete(key);
                else model.set(key, normalise(change.row));
              }
              const stored = await findRows(db, table, PROP, {}, 10_000);
              assert.deepStrictEqual(stored, [...model.values()].sort(compareKeysOf(PROP)));
              const keys = KEY_POOL.map(([k, n]) => [k, n]);
              const read = await readRows(db, table, PROP, keys);
              assert.deepStrictEqual(read.sort(compareKeysOf(PROP)), stored);
            }
          },
        ),
        { seed: Number(process.env['SEED'] ?? 1), numRuns: Number(process.env['NUM_RUNS'] ?? 40) },
      );
    } finally {
      await db.close();
    }
  });
}

test('both backends order and read rows identically', {
  skip: testBackends().length < 2 && 'DATABASE_URL not set',
}, () => {
  assert.equal(orders.size, 2);
  assert.deepStrictEqual(orders.get('pglite'), orders.get('postgres'));
});

function compareKeys(x: Row, y: Row): number {
  return compareKeysOf(PEOPLE)(x, y);
}

function compareKeysOf(def: TableDef): (x: Row, y: Row) => number {
  return (x, y) => {
    for (const column of def.key) {
      const a = x[column];
      const b = y[column];
      let c = 0;
      if (typeof a === 'string' && typeof b === 'string') c = byteOrder(a, b);
      else if (typeof a === 'bigint' && typeof b === 'bigint') c = a < b ? -1 : a > b ? 1 : 0;
      else if (typeof a === 'boolean' && typeof b === 'boolean') c = Number(a) - Number(b);
      if (c !== 0) return c;
    }
    return 0;
  };
}

// The property's table: every column type, a two-column key drawn from a small pool so that
// upserts and deletes collide often.
const PROP: TableDef = {
  columns: {
    k: 'text',
    n: 'bigint',
    flag: 'boolean',
    labels: 'text[]',
    data: 'json',
    amount: 'bigint',
    note: 'text',
  },
  key: ['k', 'n'],
  indexes: [['labels'], ['flag', 'amount']],
};
const KEY_POOL: [string, bigint][] = [];
for (const k of ['a', 'B', 'b', 'é', '𝄞', '', 'NULL', '"q"', 'x\\y', '{a,b}'])
  for (const n of [-1n, 0n, 2n ** 60n]) KEY_POOL.push([k, n]);

const arbText = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
const arbBigint = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const arbJson = fc
  .jsonValue({ maxDepth: 3 })
  .filter((v) => !/[\ud800-\udfff]/.test(JSON.stringify(v) ?? ''));

function arbChange(): fc.Arbitrary<Omit<StateChange, 'table'>> {
  return fc.tuple(fc.constantFrom(...KEY_POOL), fc.boolean()).chain(([[k, n], isDelete]) =>
    isDelete
      ? fc.constant<Omit<StateChange, 'table'>>({ key: [k, n], row: null })
      : fc
          .record({
            flag: fc.boolean(),
            labels: fc.array(arbText, { maxLength: 5 }),
            data: arbJson,
            amount: arbBigint,
            note: arbText,
          })
          .map((r): Omit<StateChange, 'table'> => ({ key: [k, n], row: { k, n, ...r } as Row })),
  );
}

/** What a stored row reads back as: JSON through text (-0 becomes 0). */
function normalise(row: Row): Row {
  const data = row['data'];
  return {
    ...row,
    data:
      data === null || data === undefined ? null : (JSON.parse(JSON.stringify(data)) as JsonValue),
  };
}

test('table definitions are validated with contract_create_invalid', () => {
  const bad: [string, TableDef][] = [
    ['Bad', PROP],
    ['t', { columns: {}, key: [] }],
    ['t', { columns: { a: 'text' }, key: [] }],
    ['t', { columns: { a: 'text' }, key: ['b'] }],
    ['t', { columns: { a: 'text[]' }, key: ['a'] }],
    ['t', { columns: { a: 'json' }, key: ['a'] }],
    ['t', { columns: { a: 'text', B: 'text' }, key: ['a'] }],
    ['t', { columns: { a: 'float' as 'text' }, key: ['a'] }],
    ['t', { columns: { a: 'text', j: 'json' }, key: ['a'], indexes: [['j']] }],
    ['t', { columns: { a: 'text' }, key: ['a'], indexes: [['zz']] }],
    ['t', { columns: { a: 'text' }, key: ['a', 'a'] }],
    ['x'.repeat(64), { columns: { a: 'text' }, key: ['a'] }],
  ];
  for (const [name, def] of bad) {
    assert.throws(
      () => validateTableDef(name, def),
      (err: unknown) => err instanceof ChainError && err.code === 'contract_create_invalid',
      `${name} ${JSON.stringify(def)}`,
    );
  }
  validateTableDef('x'.repeat(63), { columns: { a: 'text' }, key: ['a'] });
  assert.equal(contractTableName('balances'), 'state."balances"');
  assert.throws(
    () => contractTableName('a"; drop'),
    (err: unknown) => err instanceof ChainError && err.code === 'contract_create_invalid',
  );
});

test('rowProblem explains rows that do not fit', () => {
  const ok = { k: 'a', n: 1n, flag: true, labels: [], data: null, amount: 0n, note: '' };
  assert.equal(rowProblem('p', PROP, ok), null);
  const { data: _omitted, ...withoutJson } = ok;
  assert.equal(rowProblem('p', PROP, withoutJson), null);
  assert.match(
    rowProblem('p', PROP, { ...ok, n: 1 }) ?? '',
    /column n \(bigint\) must be a bigint, got number/,
  );
  assert.match(rowProblem('p', PROP, { ...ok, n: 2n ** 63n }) ?? '', /outside the 64-bit range/);
  assert.match(rowProblem('p', PROP, { ...ok, note: 'a\u0000b' }) ?? '', /U\+0000/);
  assert.match(rowProblem('p', PROP, { ...ok, note: '\ud800' }) ?? '', /surrogate/);
  assert.match(
    rowProblem('p', PROP, { ...ok, labels: ['a', 1 as unknown as string] }) ?? '',
    /only strings/,
  );
  assert.match(
    rowProblem('p', PROP, { ...ok, extra: 'x' }) ?? '',
    /column extra is not in the table/,
  );
  const { amount: _gone, ...missing } = ok;
  assert.match(rowProblem('p', PROP, missing) ?? '', /column amount \(bigint\) is missing/);
});

test('large batches are split into bounded statements', async () => {
  const backend = testBackends()[0];
  assert.ok(backend !== undefined);
  const db: Database = await backend.open();
  try {
    await migrate(db);
    const def: TableDef = { columns: { id: 'bigint', v: 'text', tags: 'text[]' }, key: ['id'] };
    await db.transaction((sql) => createContractTable(sql, 'big', def));
    const defs = new Map([['big', def]]);
    const statements: string[] = [];
    const changes: StateChange[] = [];
    for (let i = 0; i < 12_000; i++)
      changes.push({
        table: 'big',
        key: [BigInt(i)],
        row: { id: BigInt(i), v: `v${i}`, tags: [`t${i % 7}`] },
      });
    await db.transaction((sql) =>
      applyStateChanges(
        {
          query: (text, params) => {
            statements.push(text);
            return sql.query(text, params);
          },
        },
        defs,
        changes,
      ),
    );
    assert.equal(statements.length, 3);
    const deletes = changes.slice(0, 6000).map((c) => ({ ...c, row: null }));
    statements.length = 0;
    await db.transaction((sql) =>
      applyStateChanges(
        {
          query: (text, params) => {
            statements.push(text);
            return sql.query(text, params);
          },
        },
        defs,
        deletes,
      ),
    );
    assert.equal(statements.length, 2);
    const { rows } = await db.query<{ c: bigint }>(`SELECT count(*) AS c FROM state.big`);
    assert.deepStrictEqual(rows, [{ c: 6000n }]);
    const tagged = await db.query<{ c: bigint }>(
      `SELECT count(*) AS c FROM state.big WHERE tags @> ARRAY['t3']`,
    );
    assert.deepStrictEqual(tagged.rows, [
      { c: BigInt([...Array(12_000).keys()].filter((i) => i >= 6000 && i % 7 === 3).length) },
    ]);
  } finally {
    await db.close();
  }
});
