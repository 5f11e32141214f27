// The simulator's faulty store, on the real embedded database: every simulated failure is a
// transient `retry` error, a failed commit leaves nothing behind, and a commit whose answer was
// lost did land. The same seed fails the same operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../src/store/database.js';
import { isTransientDatabaseError } from '../src/store/database.js';
import { ChainError } from '../src/core/errors.js';
import { FaultyDatabase } from '../src/sim/store.js';
import { Random } from '../src/sim/random.js';
import { SimScheduler } from '../src/sim/scheduler.js';
import { Trace } from '../src/sim/trace.js';
import { NO_FAULTS, type StoreFaults } from '../src/sim/faults.js';

async function faultyStore(seed: number, faults: StoreFaults) {
  const inner = await openDatabase({ memory: true });
  const trace = new Trace(new SimScheduler(0));
  await inner.query('CREATE TABLE t (k bigint PRIMARY KEY)');
  const db = new FaultyDatabase(inner, Random.stream(seed, 'store'), faults, trace, 'processor');
  return { db, trace };
}

async function countRows(db: FaultyDatabase): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM t');
  return Number(rows[0]?.n);
}

test('without faults the store is the database underneath', async () => {
  const { db } = await faultyStore(1, NO_FAULTS.store);
  try {
    await db.transaction(async (sql) => {
      await sql.query('INSERT INTO t VALUES (1), (2)');
    });
    assert.equal(await countRows(db), 2);
    assert.deepEqual(db.stats(), {
      writesFailed: 0,
      commitsFailed: 0,
      commitAnswersLost: 0,
      commits: 1,
    });
    assert.equal(db.kind, 'pglite');
  } finally {
    await db.close();
  }
});

test('a failed write or commit is a retry error and leaves nothing behind', async () => {
  for (const faults of [
    { ...NO_FAULTS.store, writeFailProbability: 1 },
    { ...NO_FAULTS.store, commitFailProbability: 1 },
  ]) {
    const { db, trace } = await faultyStore(2, faults);
    try {
      const err = await db
        .transaction(async (sql) => {
          await sql.query('INSERT INTO t VALUES (1)');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(
        err instanceof ChainError && err.code === 'retry',
        `expected a retry error, got ${String(err)}`,
      );
      assert.equal(isTransientDatabaseError(err), true);
      assert.equal(await countRows(db), 0);
      assert.match(trace.format(), /processor store-(write|commit)-failed/);
      // Reads never fail: a store that refuses writes can still answer where the chain stands.
      assert.equal(db.busy, false);
    } finally {
      await db.close();
    }
  }
});

test('a commit whose answer is lost did land', async () => {
  const { db } = await faultyStore(3, { ...NO_FAULTS.store, commitAnswerLostProbability: 1 });
  try {
    await assert.rejects(
      db.transaction(async (sql) => {
        await sql.query('INSERT INTO t VALUES (7)');
      }),
      (e: unknown) => e instanceof ChainError && e.code === 'retry',
    );
    assert.equal(await countRows(db), 1);
    assert.equal(db.stats().commitAnswersLost, 1);
  } finally {
    await db.close();
  }
});

test('the same seed fails the same writes; idle() waits for what is under way', async () => {
  const faults = { ...NO_FAULTS.store, writeFailProbability: 0.4 };
  const outcomes = async (seed: number): Promise<boolean[]> => {
    const { db } = await faultyStore(seed, faults);
    try {
      const result: boolean[] = [];
      for (let k = 0; k < 40; k++) {
        result.push(
          await db.query('INSERT INTO t VALUES ($1)', [k]).then(
            () => true,
            () => false,
          ),
        );
      }
      const pending = db.query('SELECT 1');
      assert.equal(db.busy, true);
      await db.idle();
      assert.equal(db.busy, false);
      await pending;
      assert.equal(await countRows(db), result.filter(Boolean).length);
      return result;
    } finally {
      await db.close();
    }
  };
  const first = await outcomes(4);
  assert.deepEqual(await outcomes(4), first);
  const failed = first.filter((ok) => !ok).length;
  assert.ok(failed > 5 && failed < 30, `${failed} of 40 writes failed at p=0.4`);
});
