import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { ChainError } from '../src/core/errors.js';
import { isTransientDatabaseError, openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import { testBackends } from './support/test-db.js';

const VALUES_QUERY = `SELECT
  1::int8 AS i8, 9223372036854775807::int8 AS i8max, -9007199254740993::int8 AS i8neg,
  ARRAY[1, NULL, 12345678901234567]::int8[] AS i8s, 7::int4 AS i4, 3::int2 AS i2, 1.50::numeric AS num,
  '\\x00ff10'::bytea AS bin, ARRAY['\\x01'::bytea] AS bins, true AS yes, false AS no,
  'héllo "q" \\ 𝄞' AS txt, ARRAY['a', '', 'NULL', 'b"c', 'd\\e', '{x,y}', ' s ']::text[] AS arr, ARRAY[]::text[] AS empty,
  '{"b":1,"a":[1,2.50,"x"]}'::json AS js, '{"b":1,"a":2}'::jsonb AS jb, 'null'::json AS jnull, NULL::text AS nothing,
  '{"a":  1}'::json::text AS jtext, count(*) OVER () AS cnt, sum(5::int8) OVER () AS total`;

const EXPECTED_VALUES = {
  i8: 1n,
  i8max: 9223372036854775807n,
  i8neg: -9007199254740993n,
  i8s: [1n, null, 12345678901234567n],
  i4: 7,
  i2: 3,
  num: '1.50',
  bin: Buffer.from([0, 255, 16]),
  bins: [Buffer.from([1])],
  yes: true,
  no: false,
  txt: 'héllo "q" \\ 𝄞',
  arr: ['a', '', 'NULL', 'b"c', 'd\\e', '{x,y}', ' s '],
  empty: [],
  js: { b: 1, a: [1, 2.5, 'x'] },
  jb: { a: 2, b: 1 },
  jnull: null,
  nothing: null,
  jtext: '{"a":  1}',
  cnt: 1n,
  total: '5',
};

const resultsByBackend = new Map<string, unknown>();

for (const backend of testBackends()) {
  test(`values come back as documented (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      const { rows } = await db.query(VALUES_QUERY);
      assert.deepStrictEqual(rows, [EXPECTED_VALUES]);
      const params = await db.query(
        `SELECT $1::text AS t, $2::int8 AS b, $3::bool AS f, $4::bytea AS y`,
        ['x', 5n, false, Buffer.from([7])],
      );
      assert.deepStrictEqual(params.rows, [{ t: 'x', b: 5n, f: false, y: Buffer.from([7]) }]);
      resultsByBackend.set(backend.name, [rows, params.rows]);
    } finally {
      await db.close();
    }
  });

  test(`transaction commits all or nothing (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await db.query(`CREATE TABLE t (n int PRIMARY KEY)`);
      await db.transaction(async (sql) => {
        await sql.query(`INSERT INTO t VALUES (1), (2)`);
      });
      await assert.rejects(
        db.transaction(async (sql) => {
          await sql.query(`INSERT INTO t VALUES (3)`);
          await sql.query(`INSERT INTO t VALUES (1)`);
        }),
        (err: unknown) => (err as { code?: string }).code === '23505',
      );
      await assert.rejects(
        db.transaction(async (sql) => {
          await sql.query(`INSERT INTO t VALUES (4)`);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      const { rows } = await db.query<{ n: number }>(`SELECT n FROM t ORDER BY n`);
      assert.deepStrictEqual(
        rows.map((r) => r.n),
        [1, 2],
      );
      const result = await db.transaction(
        async (sql) => (await sql.query<{ v: number }>(`SELECT 41 + 1 AS v`)).rows[0]?.v,
      );
      assert.equal(result, 42);
    } finally {
      await db.close();
    }
  });

  test(`a query issued while a transaction is open does not see its writes before commit (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await db.query(`CREATE TABLE t (n int PRIMARY KEY)`);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const didInsert = new Promise<void>((resolve) => (inserted = resolve));
      const tx = db.transaction(async (sql) => {
        await sql.query(`INSERT INTO t VALUES (1)`);
        inserted();
        await gate;
        await sql.query(`INSERT INTO t VALUES (2)`);
        throw new Error('roll back');
      });
      await didInsert;
      const outside = db.query<{ c: bigint }>(`SELECT count(*) AS c FROM t`);
      release();
      await assert.rejects(tx, /roll back/);
      assert.deepStrictEqual((await outside).rows, [{ c: 0n }]);
    } finally {
      await db.close();
    }
  });

  test(`migrations are idempotent (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      assert.deepStrictEqual(await migrate(db), [1]);
      assert.deepStrictEqual(await migrate(db), []);
      const [a, b] = await Promise.all([migrate(db), migrate(db)]);
      assert.deepStrictEqual([a, b], [[], []]);
      const { rows } = await db.query<{ version: number }>(
        `SELECT version FROM chain.schema_version`,
      );
      assert.deepStrictEqual(rows, [{ version: 1 }]);
      const tables = await db.query<{ t: string }>(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
         WHERE table_schema IN ('chain', 'state') ORDER BY 1`,
      );
      assert.deepStrictEqual(
        tables.rows.map((r) => r.t),
        [
          'chain.blocks',
          'chain.contracts',
          'chain.invalid_transactions',
          'chain.meta',
          'chain.schema_version',
          'chain.transactions',
        ],
      );
    } finally {
      await db.close();
    }
  });
}

test('both backends return identical values', {
  skip: testBackends().length < 2 && 'DATABASE_URL not set',
}, () => {
  assert.equal(resultsByBackend.size, 2);
  assert.deepStrictEqual(resultsByBackend.get('pglite'), resultsByBackend.get('postgres'));
});

test('the embedded database refuses direct use inside its own transaction instead of hanging', async () => {
  const db = await openDatabase({ memory: true });
  try {
    await assert.rejects(
      db.transaction(async () => db.query(`SELECT 1`)),
      (err: unknown) => err instanceof ChainError && err.code === 'internal',
    );
    let leaked: (() => Promise<unknown>) | undefined;
    await db.transaction(async (sql) => {
      leaked = () => sql.query(`SELECT 1`);
    });
    await assert.rejects(
      leaked!(),
      (err: unknown) => err instanceof ChainError && err.code === 'internal',
    );
    assert.deepStrictEqual((await db.query(`SELECT 1 AS one`)).rows, [{ one: 1 }]);
  } finally {
    await db.close();
  }
});

test('an embedded database in a data directory keeps its data across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hz-store-'));
  const dataDir = join(dir, 'nested', 'db');
  try {
    const first = await openDatabase({ dataDir });
    await first.query(`CREATE TABLE kept (v text)`);
    await first.transaction(async (sql) => {
      await sql.query(`INSERT INTO kept VALUES ('x')`);
    });
    await first.close();
    const second = await openDatabase({ dataDir });
    assert.equal(second.kind, 'pglite');
    assert.deepStrictEqual((await second.query(`SELECT v FROM kept`)).rows, [{ v: 'x' }]);
    await second.close();
    await second.close(); // closing twice is harmless
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable server is a retry error with the cause attached', async () => {
  const err = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' }).then(
    () => assert.fail('connected to port 1'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ChainError, String(err));
  assert.equal(err.code, 'retry');
  assert.ok(err.cause !== undefined);
  assert.equal(isTransientDatabaseError(err.cause), true);
  assert.equal(isTransientDatabaseError(Object.assign(new Error('x'), { code: '23505' })), false);
  assert.equal(isTransientDatabaseError(Object.assign(new Error('x'), { code: '57P01' })), true);
});

const serverUrl = process.env['DATABASE_URL'];
test('a connection the server terminates mid-transaction is a retry error', {
  skip: serverUrl === undefined && 'DATABASE_URL not set',
}, async () => {
  const backend = testBackends().find((b) => b.name === 'postgres');
  assert.ok(backend !== undefined);
  const db = await backend.open();
  const killer = new pg.Client({ connectionString: serverUrl });
  await killer.connect();
  try {
    const err = await db
      .transaction(async (sql) => {
        const { rows } = await sql.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
        await killer.query(`SELECT pg_terminate_backend($1)`, [rows[0]?.pid]);
        await sql.query(`SELECT 1`);
      })
      .then(
        () => assert.fail('the transaction survived its connection'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ChainError, String(err));
    assert.equal(err.code, 'retry');
    assert.ok(err.cause !== undefined);
    // The pool replaces the dead connection.
    assert.deepStrictEqual((await db.query(`SELECT 1 AS one`)).rows, [{ one: 1 }]);
  } finally {
    await killer.end();
    await db.close();
  }
});
