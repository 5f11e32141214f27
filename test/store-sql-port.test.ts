// The embedded SQL port on an in-memory embedded database: the statement check on its own, then
// the port served to the `pg` driver and (when installed) the real psql: reads work, everything
// else is refused with a clear error and changes nothing, the session the service shares stays as
// it was, and a query never runs inside the service's open transaction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as connectSocket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, readOnlyTurns } from '../src/store/database.js';
import { checkStatement } from '../src/store/sql-port/statement.js';
import { startSqlPort, type SqlPort } from '../src/store/sql-port/server.js';
import type { SessionLimits } from '../src/store/sql-port/session.js';
import { message } from '../src/store/sql-port/wire.js';
import type { Database } from '../src/store/types.js';
import { psql, psqlMissing, rowCount } from './support/psql.js';

test('the statement check lets reads through and names what it refuses', () => {
  const reads = [
    'SELECT 1',
    '  -- a comment\n  select * from chain.blocks',
    '/* a /* nested */ comment */ WITH x AS (SELECT 1) SELECT * FROM x',
    '(SELECT 1) UNION (SELECT 2)',
    'TABLE chain.meta',
    'VALUES (1), (2)',
    'SHOW server_version',
    'EXPLAIN SELECT 1',
    'COPY chain.meta TO STDOUT',
    'COPY (SELECT a FROM b) TO STDOUT WITH (FORMAT csv)',
    "SELECT 'pg_sleep(1); insert' AS text",
    'SELECT $$ DELETE FROM x $$',
    'SELECT 1 AS "SET"',
    '',
    '  -- only a comment',
  ];
  for (const sql of reads) assert.deepEqual(checkStatement(sql), { ok: true }, sql);
  const refused: [string, string, RegExp][] = [
    ['INSERT INTO t VALUES (1)', '25006', /read-only: INSERT is refused/],
    ['update t set a = 1', '25006', /UPDATE is refused/],
    ['DELETE FROM t', '25006', /DELETE is refused/],
    ['CREATE TABLE t (a int)', '25006', /CREATE is refused/],
    ['drop table t', '25006', /DROP is refused/],
    ['SET search_path = x', '25006', /SET is refused/],
    ['BEGIN', '25006', /BEGIN is refused/],
    ['PREPARE p AS SELECT 1', '25006', /PREPARE is refused/],
    ['LISTEN x', '25006', /LISTEN is refused/],
    ['DISCARD ALL', '25006', /DISCARD is refused/],
    ['/* */ ; SELECT 1', '25006', /; is refused/],
    ['COPY t FROM STDIN', '25006', /COPY \.\.\. FROM is refused/],
    ["COPY t TO '/tmp/x'", '42501', /TO STDOUT/],
    ["COPY t TO PROGRAM 'cat'", '42501', /TO STDOUT/],
    ['SELECT pg_advisory_lock(1)', '42501', /does not run pg_advisory_lock/],
    ['select PG_CATALOG.PG_SLEEP(10)', '42501', /does not run pg_sleep/],
    ['SELECT "pg_try_advisory_lock"(1)', '42501', /pg_try_advisory_lock/],
    ["SELECT query_to_xml('select 1', true, false, '')", '42501', /query_to_xml/],
    ["SELECT pg_read_file('/etc/passwd')", '42501', /pg_read_file/],
    ["SELECT set_config('role', 'postgres', false)", '42501', /set_config/],
  ];
  for (const [sql, code, message] of refused) {
    const check = checkStatement(sql);
    assert.equal(check.ok, false, sql);
    if (check.ok) continue;
    assert.equal(check.code, code, sql);
    assert.match(check.message, message, sql);
    assert.match(check.message, /embedded SQL port/, sql);
  }
});

interface Served {
  readonly db: Database;
  readonly port: SqlPort;
  close(): Promise<void>;
}

async function serve(opts: { sessionsMax?: number; limits?: SessionLimits } = {}): Promise<Served> {
  const db = await openDatabase({ memory: true });
  await db.query('CREATE TABLE t (a int PRIMARY KEY, b text)');
  await db.query(`INSERT INTO t VALUES (1, 'one'), (2, 'two')`);
  const turns = readOnlyTurns(db);
  assert.ok(turns !== null);
  const port = await startSqlPort({ turns, sql: db }, { port: 0, ...opts });
  return {
    db,
    port,
    close: async () => {
      await port.close();
      await db.close();
    },
  };
}

async function connect(port: number): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  return client;
}

async function sqlState(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code ?? '', message: e.message };
  }
  assert.fail('the query was expected to fail');
}

test('a pg client reads, is refused writes, and the shared session stays as it was', async () => {
  const s = await serve();
  const client = await connect(s.port.port);
  const before = await s.db.query<{ path: string }>(
    `SELECT current_setting('search_path') AS path`,
  );
  const path = before.rows[0]?.path;
  try {
    const { rows } = await client.query('SELECT a, b FROM t ORDER BY a');
    assert.deepEqual(rows, [
      { a: 1, b: 'one' },
      { a: 2, b: 'two' },
    ]);
    const insert = await sqlState(client.query(`INSERT INTO t VALUES (3, 'three')`));
    assert.equal(insert.code, '25006');
    assert.match(insert.message, /embedded SQL port is read-only: INSERT is refused/);
    const hidden = await sqlState(
      client.query('WITH d AS (DELETE FROM t RETURNING a) SELECT * FROM d'),
    );
    assert.equal(hidden.code, '25006', hidden.message);
    const several = await sqlState(client.query('SELECT 1; DELETE FROM t'));
    assert.equal(several.code, '42601');
    assert.match(several.message, /one statement per query/);
    const extended = await sqlState(client.query('SELECT a FROM t WHERE a = $1', [1]));
    assert.equal(extended.code, '0A000');
    assert.match(extended.message, /simple queries only/);
    const setConfig = await sqlState(client.query(`SELECT set_config('role', 'postgres', false)`));
    assert.equal(setConfig.code, '42501');
    // Queries run as the reader role: the server administration functions are PostgreSQL's to refuse.
    const who = await client.query('SELECT current_user AS role');
    assert.deepEqual(who.rows, [{ role: 'hanzenet_sql_reader' }]);
    for (const sql of [
      `SELECT pg_create_physical_replication_slot('kept', true)`,
      'SELECT pg_switch_wal()',
      `SELECT pg_backup_start('b')`,
      `SELECT pg_create_restore_point('r')`,
      'SELECT pg_log_backend_memory_contexts(pg_backend_pid())',
      `SELECT pg_replication_origin_create('o')`,
      `SELECT pg_import_system_collations('pg_catalog')`,
    ]) {
      const refused = await sqlState(client.query(sql));
      assert.equal(refused.code, '42501', `${sql}: ${refused.message}`);
    }
    const state = await client.query(
      `SELECT current_setting('search_path') AS path, pg_catalog.count(*)::int AS prepared FROM pg_catalog.pg_prepared_statements`,
    );
    assert.deepEqual(state.rows, [{ path, prepared: 0 }]);
    const direct = await s.db.query<{
      path: string;
      locks: number;
      listening: number;
      slots: number;
      role: string;
    }>(
      `SELECT current_setting('search_path') AS path,
         (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS locks,
         (SELECT count(*)::int FROM pg_listening_channels()) AS listening,
         (SELECT count(*)::int FROM pg_replication_slots) AS slots,
         current_user AS role`,
    );
    assert.deepEqual(direct.rows, [{ path, locks: 0, listening: 0, slots: 0, role: 'postgres' }]);
    const count = await s.db.query<{ n: bigint }>('SELECT count(*) AS n FROM t');
    assert.equal(count.rows[0]?.n, 2n, 'nothing was written');
  } finally {
    await client.end();
    await s.close();
  }
});

test('a query waits for the open transaction and never sees inside it', async () => {
  const s = await serve();
  const client = await connect(s.port.port);
  try {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let inserted: () => void = () => undefined;
    const insertDone = new Promise<void>((r) => (inserted = r));
    const tx = s.db.transaction(async (sql) => {
      await sql.query(`INSERT INTO t VALUES (3, 'uncommitted')`);
      inserted();
      await gate;
      throw new Error('rolled back on purpose');
    });
    await insertDone;
    let answered = false;
    const read = client.query<{ n: string }>('SELECT count(*) AS n FROM t').then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answered, false, 'the query waited for the transaction to end');
    release();
    await assert.rejects(tx, /rolled back on purpose/);
    const result = await read;
    assert.equal(result.rows[0]?.n, '2', 'the rolled-back row was never seen');
  } finally {
    await client.end();
    await s.close();
  }
});

test('limits: connections, result size; closing the port ends its connections', async () => {
  const s = await serve({
    sessionsMax: 1,
    limits: { messageBytesMax: 4096, resultBytesMax: 2000 },
  });
  const client = await connect(s.port.port);
  try {
    const second = await sqlState(connect(s.port.port));
    assert.equal(second.code, '53300');
    assert.match(second.message, /at most 1 connections/);
    const big = await sqlState(
      client.query(`SELECT repeat('x', 100) FROM generate_series(1, 100)`),
    );
    assert.equal(big.code, '54000');
    assert.match(big.message, /larger than the embedded SQL port sends \(2000 bytes\)/);
    const long = await sqlState(client.query(`SELECT '${'y'.repeat(5000)}'`));
    assert.equal(long.code, '54000');
    assert.match(long.message, /larger than the embedded SQL port accepts \(4096\)/);
  } finally {
    await client.end().catch(() => undefined);
  }
  const again = await connect(s.port.port);
  const ended = new Promise<void>((r) => again.on('end', () => r()));
  again.on('error', () => undefined);
  await s.close();
  await ended;
  await assert.rejects(connect(s.port.port), /ECONNREFUSED/);
});

test('a client that does not read its answers gets no further queries run until it does', async (t) => {
  const db = await openDatabase({ memory: true });
  const inner = readOnlyTurns(db);
  assert.ok(inner !== null);
  let turns = 0;
  const counted = {
    readOnlyTurn: (m: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<void> => {
      turns++;
      return inner.readOnlyTurn(m, onData);
    },
  };
  const port = await startSqlPort({ turns: counted, sql: db }, { port: 0 });
  const socket = connectSocket(port.port, '127.0.0.1');
  try {
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length);
    startup.writeInt32BE(196_608, 4);
    // Each answer is about 1 MB; 40 of them are far more than the socket buffers hold.
    const query = message(
      'Q',
      Buffer.from(`SELECT repeat('x', 1000) FROM generate_series(1, 1000)\0`),
    );
    socket.pause();
    socket.write(Buffer.concat([startup, params, ...Array(40).fill(query)]));
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(turns < 40, `only ${turns} of 40 queries ran while the client read nothing`);
    const whilePaused = turns;
    let received = 0;
    let ready = 0;
    let tail = '';
    const allReady = new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        // ReadyForQuery ('Z', length 5, idle); the tail catches one split between two chunks.
        const text = tail + d.toString('latin1');
        ready += text.split('Z\0\0\0\x05I').length - 1;
        tail = text.slice(-5);
        if (ready === 41) resolve();
      });
    });
    socket.resume();
    await allReady;
    assert.equal(turns, 40);
    t.diagnostic(`${whilePaused} of 40 queries ran while the client read nothing`);
    assert.ok(received > 40_000_000, `received ${received} bytes`);
  } finally {
    socket.destroy();
    await port.close();
    await db.close();
  }
});

const missing = psqlMissing();

test('psql: \\d, COPY TO STDOUT, \\copy and -f work; writes and COPY FROM are refused', {
  skip: missing ?? false,
}, async () => {
  const s = await serve();
  try {
    const d = await psql(s.port.port, '\\d t');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Table "public\.t"/);
    const copy = await psql(s.port.port, 'COPY t TO STDOUT');
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(copy.stdout, '1\tone\n2\ttwo\n');
    const dir = await mkdtemp(join(tmpdir(), 'hz-sql-port-'));
    try {
      const file = join(dir, 't.csv');
      const toFile = await psql(s.port.port, `\\copy t to '${file}' csv`);
      assert.equal(toFile.code, 0, toFile.stderr);
      assert.equal(await readFile(file, 'utf8'), '1,one\n2,two\n');
      // A script's statements go one at a time: psql -f runs a file of several.
      const script = join(dir, 'script.sql');
      await writeFile(script, 'SELECT count(*) FROM t;\nSELECT max(a) FROM t;\n');
      const ran = await psql(s.port.port, [], '-At', '-f', script);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout, '2\n2\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const select = await psql(s.port.port, 'SELECT * FROM t');
    assert.equal(rowCount(select.stdout), 2, select.stdout);
    for (const sql of ['COPY t FROM STDIN', `INSERT INTO t VALUES (9, 'x')`, 'SET x.y = 1']) {
      const r = await psql(s.port.port, sql);
      assert.equal(r.code, 1, sql);
      assert.match(r.stderr, /ERROR: {2}25006: the embedded SQL port is read-only/, sql);
    }
  } finally {
    await s.close();
  }
});
