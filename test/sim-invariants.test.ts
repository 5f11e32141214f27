// The simulator's invariant checks find each kind of violation in a store, and find none in a
// store that keeps them. The stores here are written with plain SQL on the real schema, so each
// violation can be made on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import type { Database } from '../src/store/types.js';
import {
  checkAgreement,
  checkChain,
  checkConfirmedKept,
  checkEnergy,
} from '../src/sim/invariants.js';

const hash = (n: number): string => n.toString(16).padStart(64, '0');
const txId = (n: number): string => n.toString(16).padStart(32, '0');

/** A store with blocks 0..heights-1, block h holding one accepted transaction txId(h) for h >= 1. */
async function storeWith(heights: number): Promise<Database> {
  const db = await openDatabase({ memory: true });
  await migrate(db);
  for (let h = 0; h < heights; h++) {
    await db.query(
      `INSERT INTO chain.blocks VALUES ($1, decode($2, 'hex'), decode($3, 'hex'), $4, decode($5, 'hex'), $6, '\\x00', '\\x00')`,
      [h, hash(h + 1), hash(h), 1_000 * h, hash(100 + h), h === 0 ? 0 : 1],
    );
    if (h === 0) continue;
    await db.query(
      `INSERT INTO chain.transactions (id, bytes, contract_hash, contract_type, sender, valid_till_ms, payload, signature, public_key,
         status, code, message, create_ms, processed_ms, block_height, position, receiver)
       VALUES (decode($1, 'hex'), '\\x00', '\\x00', 'Transfer', 's', 0, '{}', '\\x00', '\\x00', 'accepted', NULL, '', 0, 0, $2, 0, NULL)`,
      [txId(h), h],
    );
  }
  await db.query(
    `CREATE TABLE state.energy_balances (context text, trader text, block bigint, labels text[], amount_wh bigint)`,
  );
  await db.query(
    `CREATE TABLE state.energy_history (tx_id text, seq bigint, context text, trader text, block bigint, labels text[], delta_wh bigint, kind text, height bigint)`,
  );
  return db;
}

async function history(
  db: Database,
  rows: [tx: number, trader: string, deltaWh: number, kind: string][],
): Promise<void> {
  for (const [tx, trader, deltaWh, kind] of rows) {
    await db.query(
      `INSERT INTO state.energy_history VALUES ($1, 0, 'c', $2, 0, '{solar}', $3, $4, $5)`,
      [txId(tx), trader, deltaWh, kind, tx],
    );
  }
}

async function balances(db: Database, rows: [trader: string, amountWh: number][]): Promise<void> {
  for (const [trader, amountWh] of rows) {
    await db.query(`INSERT INTO state.energy_balances VALUES ('c', $1, 0, '{solar}', $2)`, [
      trader,
      amountWh,
    ]);
  }
}

test('a store that keeps every invariant passes every check', async () => {
  const db = await storeWith(4);
  try {
    await history(db, [
      [1, 'a', 500, 'energy'],
      [2, 'a', -200, 'transfer'],
      [2, 'b', 200, 'transfer'],
      [3, 'b', -200, 'reduce'],
    ]);
    await balances(db, [['a', 300]]);
    await history(db, [[3, 'b', 200, 'reduce']]); // the reduced energy under its new labels (same key here)
    await balances(db, [['b', 200]]);
    assert.deepEqual(await checkChain(db), []);
    assert.deepEqual(await checkEnergy(db), []);
    assert.deepEqual(
      await checkConfirmedKept(db, [
        { idHex: txId(1), status: 'accepted' },
        { idHex: txId(3), status: 'accepted' },
      ]),
      [],
    );
    assert.deepEqual(await checkAgreement(['p', 'p'], db, db), []);
  } finally {
    await db.close();
  }
});

test('a gap, a broken link and a missing transaction are found', async () => {
  const db = await storeWith(4);
  try {
    await db.query(`UPDATE chain.blocks SET previous_hash = decode($1, 'hex') WHERE height = 2`, [
      hash(99),
    ]);
    await db.query(`DELETE FROM chain.transactions WHERE block_height = 3`);
    await db.query(`UPDATE chain.blocks SET height = 5 WHERE height = 3`);
    const found = (await checkChain(db)).map((v) => v.invariant).sort();
    assert.deepEqual(found, ['block_tx_count', 'chain_contiguous', 'chain_linked']);
  } finally {
    await db.close();
  }
});

test('stores that differ at a common height disagree; one that is only behind does not', async () => {
  const [long, short, forked] = await Promise.all([storeWith(5), storeWith(3), storeWith(5)]);
  try {
    assert.deepEqual(await checkAgreement(['processor', 'node-1'], long, short), []);
    await forked.query(
      `UPDATE chain.blocks SET state_digest = decode($1, 'hex') WHERE height = 3`,
      [hash(7)],
    );
    const [violation] = await checkAgreement(['processor', 'node-2'], long, forked);
    assert.equal(violation?.invariant, 'nodes_agree');
    assert.match(violation?.detail ?? '', /at height 3 processor has/);
  } finally {
    await Promise.all([long.close(), short.close(), forked.close()]);
  }
});

test('a confirmed transaction that is gone, or has another status, is found', async () => {
  const db = await storeWith(3);
  try {
    const found = await checkConfirmedKept(db, [
      { idHex: txId(1), status: 'rejected' },
      { idHex: txId(2), status: 'accepted' },
      { idHex: txId(9), status: 'accepted' },
    ]);
    assert.deepEqual(
      found.map((v) => v.detail),
      [
        `transaction ${txId(1)} was confirmed rejected, the chain has accepted`,
        `transaction ${txId(9)} was confirmed accepted, the chain has nothing`,
      ],
    );
  } finally {
    await db.close();
  }
});

test('energy created from nothing and a balance spent twice are found', async () => {
  const db = await storeWith(4);
  try {
    await history(db, [
      [1, 'a', 100, 'energy'],
      [2, 'a', -100, 'transfer'],
      [2, 'b', 100, 'transfer'],
      [3, 'a', -100, 'transfer'],
      [3, 'c', 100, 'transfer'],
    ]);
    await balances(db, [
      ['a', -100],
      ['b', 100],
      ['c', 150],
    ]);
    const found = await checkEnergy(db);
    assert.deepEqual(found.map((v) => v.invariant).sort(), ['energy_conserved', 'no_overdraft']);
    assert.match(
      found.find((v) => v.invariant === 'no_overdraft')?.detail ?? '',
      new RegExp(`${txId(3)} takes c/a/0/solar from 0 to -100 Wh`),
    );
  } finally {
    await db.close();
  }
});

test('a store without the energy contracts has no energy to check', async () => {
  const db = await openDatabase({ memory: true });
  try {
    await migrate(db);
    assert.deepEqual(await checkEnergy(db), []);
    assert.deepEqual(await checkChain(db), []);
  } finally {
    await db.close();
  }
});
