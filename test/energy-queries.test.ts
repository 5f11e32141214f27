// The read side of the energy market (src/energy/queries.ts) over the real state tables, on the
// embedded database and (when DATABASE_URL is set) on the PostgreSQL server: order, filters,
// totals, exact amounts, members and roles, history pages, the GIN index behind the label filter,
// and the errors for bad parameters and for a chain without the energy tables.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../src/core/errors.js';
import {
  balancesQuery,
  energyBalances,
  energyContext,
  energyHistory,
  parseBalanceFilter,
  parseHistoryCursor,
  parseHistoryPage,
} from '../src/energy/queries.js';
import type { EnergyHistoryEntry } from '../src/energy/queries.js';
import { ENERGY_TABLES } from '../src/energy/tables.js';
import { createContractTable } from '../src/store/contract-tables.js';
import { migrate } from '../src/store/migrations.js';
import { arrayLiteral } from '../src/store/sql-values.js';
import type { Database } from '../src/store/types.js';
import type { RowValue } from '../src/chain/contract-model.js';
import { testAddress } from './support/energy-chain.js';
import { testBackends } from './support/test-db.js';

const CTX = testAddress('queries context');
const OTHER = testAddress('queries other context');
// Named so that their byte order is known: compared below, not assumed.
const T1 = testAddress('queries trader 1');
const T2 = testAddress('queries trader 2');
const P1 = testAddress('queries producer');
const C1 = testAddress('queries consumer');
const [FIRST, SECOND] = [T1, T2].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) as [
  string,
  string,
];
const START = Date.UTC(2026, 0, 1, 10, 0, 0);
const Q = 900_000;

async function insert(db: Database, table: string, row: Record<string, RowValue>): Promise<void> {
  const def = ENERGY_TABLES[table];
  if (def === undefined) throw new Error(`no table ${table}`);
  const columns = Object.keys(def.columns);
  const casts = columns.map((c, i) => {
    const type = def.columns[c];
    return type === 'text' ? `$${i + 1}` : `$${i + 1}::text::${type}`;
  });
  const params = columns.map((c) => {
    const v = row[c];
    if (v === undefined) throw new Error(`${table}.${c} missing`);
    return Array.isArray(v) ? arrayLiteral(v as string[]) : String(v);
  });
  await db.query(
    `INSERT INTO state.${table} (${columns.join(', ')}) VALUES (${casts.join(', ')})`,
    params,
  );
}

async function balance(
  db: Database,
  context: string,
  trader: string,
  block: number,
  labels: string[],
  wh: bigint,
): Promise<void> {
  const startMs = BigInt(START + (block - 10) * Q);
  await insert(db, 'energy_balances', {
    context,
    trader,
    block: BigInt(block),
    period_start_ms: startMs,
    labels,
    labels_key: labels.join(','),
    amount_wh: wh,
  });
}

async function history(
  db: Database,
  txId: number,
  seq: number,
  height: number,
  kind: string,
  wh: bigint,
  extra: { counterparty?: string; description?: string; trader?: string } = {},
): Promise<void> {
  await insert(db, 'energy_history', {
    tx_id: txId.toString(16).padStart(32, '0'),
    seq: BigInt(seq),
    context: CTX,
    trader: extra.trader ?? T1,
    block: 10n,
    period_start_ms: BigInt(START),
    labels: kind === 'energy' ? ['solar'] : [],
    delta_wh: wh,
    kind,
    counterparty: extra.counterparty ?? '',
    description: extra.description ?? '',
    height: BigInt(height),
    processed_ms: BigInt(START + height * 1000),
  });
}

/** A database with the energy tables and a small market in CTX (and one row in OTHER). */
async function market(db: Database): Promise<void> {
  await migrate(db);
  for (const [name, def] of Object.entries(ENERGY_TABLES)) await createContractTable(db, name, def);
  for (const t of [T1, T2])
    await insert(db, 'energy_traders', {
      context: CTX,
      address: t,
      added_height: t === T1 ? 3n : 4n,
    });
  await insert(db, 'energy_traders', { context: OTHER, address: T1, added_height: 9n });
  await insert(db, 'energy_producers', {
    context: CTX,
    address: P1,
    trader: T1,
    labels: ['local', 'solar'],
  });
  await insert(db, 'energy_producers', { context: CTX, address: T2, trader: T2, labels: [] });
  await insert(db, 'energy_consumers', { context: CTX, address: C1, trader: T2, labels: [] });
  await insert(db, 'energy_consumers', { context: CTX, address: P1, trader: T1, labels: ['wind'] });
  await insert(db, 'energy_settings', {
    context: CTX,
    period_ms: 900_000n,
    previous_period_ms: 0n,
    from_height: 5n,
  });
  await insert(db, 'energy_periods', {
    context: CTX,
    block: 10n,
    start_ms: BigInt(START),
    end_ms: BigInt(START + Q),
    period_ms: 900_000n,
    latest: false,
  });
  await insert(db, 'energy_periods', {
    context: CTX,
    block: 12n,
    start_ms: BigInt(START + 2 * Q),
    end_ms: BigInt(START + 3 * Q),
    period_ms: 900_000n,
    latest: true,
  });
  await balance(db, CTX, T1, 12, ['solar'], 1n);
  await balance(db, CTX, T1, 10, ['local', 'solar'], 10_500n);
  await balance(db, CTX, T1, 10, [], -2_000n);
  await balance(db, CTX, T1, 10, ['solar'], 3_000n);
  await balance(db, CTX, T2, 10, ['solar', 'wind'], 1_000_000_000_000_000n);
  await balance(db, CTX, T2, 12, [], -15_000n);
  await balance(db, OTHER, T1, 10, ['solar'], 99_000n);
}

function rowsOf(
  view: Awaited<ReturnType<typeof energyBalances>>,
): [string, number, string, string][] {
  return view.balances.map((b) => [
    b.trader === T1 ? 'T1' : 'T2',
    b.block,
    b.labels.join(','),
    b.amount,
  ]);
}

const name = (a: string): string => (a === T1 ? 'T1' : 'T2');

for (const backend of testBackends()) {
  // One database with the market for the read-only tests of this backend (opening one costs ~1 s).
  let shared: Promise<Database> | null = null;
  const marketDb = (): Promise<Database> => {
    shared ??= backend.open().then(async (db) => {
      await market(db);
      return db;
    });
    return shared;
  };
  after(async () => {
    if (shared !== null) await (await shared).close();
  });

  test(`balances: order, exact kWh, period start, totals (${backend.name})`, async () => {
    const db = await marketDb();
    {
      const view = await energyBalances(db, CTX);
      const t1 = [
        ['T1', 10, '', '-2'],
        ['T1', 10, 'local,solar', '10.5'],
        ['T1', 10, 'solar', '3'],
        ['T1', 12, 'solar', '0.001'],
      ];
      const t2 = [
        ['T2', 10, 'solar,wind', '1000000000000'],
        ['T2', 12, '', '-15'],
      ];
      assert.deepEqual(rowsOf(view), FIRST === T1 ? [...t1, ...t2] : [...t2, ...t1]);
      const first = view.balances.find((b) => b.block === 12 && b.trader === T1);
      assert.equal(first?.periodStartMs, START + 2 * Q);
      assert.equal(first?.periodStart, '2026-01-01T10:30:00.000Z');
      assert.deepEqual(
        view.totals.map((t) => [name(t.trader), t.amount, t.balances]),
        [
          [name(FIRST), FIRST === T1 ? '11.501' : '999999999985', FIRST === T1 ? 4 : 2],
          [name(SECOND), SECOND === T1 ? '11.501' : '999999999985', SECOND === T1 ? 4 : 2],
        ],
      );
      assert.equal(view.total, '999999999996.501');
      assert.equal(view.truncated, false);
      assert.deepEqual(view.filter, { trader: null, labels: null, block: null });
    }
  });

  test(`balances: filters by trader, label (all of several) and block; limit keeps totals whole (${backend.name})`, async () => {
    const db = await marketDb();
    {
      assert.deepEqual(rowsOf(await energyBalances(db, CTX, { trader: T2 })), [
        ['T2', 10, 'solar,wind', '1000000000000'],
        ['T2', 12, '', '-15'],
      ]);
      const solar = await energyBalances(db, CTX, parseBalanceFilter({ label: 'solar' }));
      assert.deepEqual(
        rowsOf(solar)
          .map((r) => r.slice(0, 3).join(' '))
          .sort(),
        ['T1 10 local,solar', 'T1 10 solar', 'T1 12 solar', 'T2 10 solar,wind'].sort(),
      );
      assert.deepEqual(solar.filter.labels, ['solar']);
      assert.deepEqual(
        rowsOf(await energyBalances(db, CTX, parseBalanceFilter({ label: 'solar,local' }))),
        [['T1', 10, 'local,solar', '10.5']],
      );
      assert.deepEqual(rowsOf(await energyBalances(db, CTX, { labels: ['wind'], trader: T1 })), []);
      assert.deepEqual(
        rowsOf(await energyBalances(db, CTX, parseBalanceFilter({ block: '12', trader: T1 }))),
        [['T1', 12, 'solar', '0.001']],
      );
      const limited = await energyBalances(db, CTX, { trader: T1, limit: 2 });
      assert.deepEqual(rowsOf(limited), [
        ['T1', 10, '', '-2'],
        ['T1', 10, 'local,solar', '10.5'],
      ]);
      assert.equal(limited.truncated, true);
      assert.deepEqual(
        limited.totals.map((t) => [t.amount, t.balances]),
        [['11.501', 4]],
      );
      assert.equal((await energyBalances(db, CTX, { trader: T1, limit: 4 })).truncated, false);
      // Another context's rows never show, and an unknown context is simply empty.
      assert.deepEqual(rowsOf(await energyBalances(db, OTHER)), [['T1', 10, 'solar', '99']]);
      const none = await energyBalances(db, testAddress('nobody'));
      assert.deepEqual([none.balances, none.totals, none.total], [[], [], '0']);
    }
  });

  test(`balances: the label filter is served by the GIN index (${backend.name})`, async () => {
    const db = await marketDb();
    {
      // A context of 3000 balances, three of them labelled "rare": the planner has a choice.
      const BIG = testAddress('queries big context');
      await db.query(
        `INSERT INTO state.energy_balances (context, trader, block, period_start_ms, labels, labels_key, amount_wh)
         SELECT $1, $2, g, g::bigint * 900000, CASE WHEN g % 1000 = 0 THEN ARRAY['rare', 'solar'] ELSE ARRAY['solar'] END,
                CASE WHEN g % 1000 = 0 THEN 'rare,solar' ELSE 'solar' END, 1000 FROM generate_series(100, 3099) AS g`,
        [BIG, T1],
      );
      await db.query('ANALYZE state.energy_balances');
      assert.equal((await energyBalances(db, BIG, { labels: ['rare'] })).balances.length, 3);
      const { text, params } = balancesQuery(BIG, { labels: ['rare'] });
      assert.match(text, /labels @> \$2::text::text\[\]/);
      const plan = await db.transaction(async (sql) => {
        await sql.query('SET LOCAL enable_seqscan = off');
        const rows = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      assert.match(
        plan,
        /Bitmap Index Scan on energy_balances_\w+_ix\s+\(cost=[^)]*\)\s+Index Cond: \(labels @>/,
        plan,
      );
    }
  });

  test(`context: members and roles, settlement period, latest period (${backend.name})`, async () => {
    const db = await marketDb();
    {
      const view = await energyContext(db, CTX);
      assert.equal(view.owner, CTX);
      assert.deepEqual(view.settlementPeriod, {
        periodSeconds: 900,
        fromHeight: 5,
        previousPeriodSeconds: 0,
      });
      assert.deepEqual(view.latestPeriod, {
        block: 12,
        start: '2026-01-01T10:30:00.000Z',
        startMs: START + 2 * Q,
        end: '2026-01-01T10:45:00.000Z',
        endMs: START + 3 * Q,
        periodSeconds: 900,
      });
      assert.deepEqual(
        view.traders,
        [FIRST, SECOND].map((address) => ({ address, addedHeight: address === T1 ? 3 : 4 })),
      );
      const byAddress = <T extends { address: string }>(xs: T[]): T[] =>
        [...xs].sort((a, b) => Buffer.compare(Buffer.from(a.address), Buffer.from(b.address)));
      assert.deepEqual(
        view.producers,
        byAddress([
          { address: P1, trader: T1, labels: ['local', 'solar'] },
          { address: T2, trader: T2, labels: [] },
        ]),
      );
      assert.deepEqual(
        view.consumers,
        byAddress([
          { address: C1, trader: T2, labels: [] },
          { address: P1, trader: T1, labels: ['wind'] },
        ]),
      );
      assert.deepEqual(
        view.members,
        byAddress([
          { address: CTX, roles: ['owner'] },
          { address: T1, roles: ['trader'] },
          { address: T2, roles: ['trader', 'producer'] },
          { address: P1, roles: ['producer', 'consumer'] },
          { address: C1, roles: ['consumer'] },
        ]),
      );
      const empty = await energyContext(db, OTHER);
      assert.deepEqual(empty.settlementPeriod, {
        periodSeconds: 0,
        fromHeight: null,
        previousPeriodSeconds: 0,
      });
      assert.equal(empty.latestPeriod, null);
      assert.deepEqual(empty.producers, []);
      assert.deepEqual(
        empty.members,
        byAddress([
          { address: OTHER, roles: ['owner'] },
          { address: T1, roles: ['trader'] },
        ]),
      );
    }
  });

  test(`history: newest first, pages that cover every entry once (${backend.name})`, async () => {
    const db = await marketDb();
    {
      // Heights 5..9; height 7 holds two transactions, tx 6 (a reduce) two entries.
      await history(db, 1, 0, 5, 'energy', 10_000n, { counterparty: P1 });
      await history(db, 2, 0, 6, 'transfer', -2_500n, { counterparty: T2 });
      await history(db, 2, 1, 6, 'transfer', 2_500n, { counterparty: T1, trader: T2 });
      await history(db, 5, 0, 7, 'mutate', 1n, { counterparty: CTX, description: 'settled' });
      await history(db, 6, 0, 7, 'reduce', -1_000n);
      await history(db, 6, 1, 7, 'reduce', 1_000n);
      await history(db, 9, 0, 9, 'removal', -7_501n, {
        description: 'trader removed from the context',
      });
      const all = await energyHistory(db, CTX, T1);
      const brief = (e: EnergyHistoryEntry): string =>
        `${e.height} ${e.txId.slice(-1)}/${e.seq} ${e.kind} ${e.amount}`;
      assert.deepEqual(all.entries.map(brief), [
        '9 9/0 removal -7.501',
        '7 5/0 mutate 0.001',
        '7 6/0 reduce -1',
        '7 6/1 reduce 1',
        '6 2/0 transfer -2.5',
        '5 1/0 energy 10',
      ]);
      assert.equal(all.next, null);
      const mutate = all.entries[1];
      assert.deepEqual(
        mutate && {
          counterparty: mutate.counterparty,
          description: mutate.description,
          processedAt: mutate.processedAt,
          periodStart: mutate.periodStart,
          block: mutate.block,
          labels: mutate.labels,
        },
        {
          counterparty: CTX,
          description: 'settled',
          processedAt: '2026-01-01T10:00:07.000Z',
          periodStart: '2026-01-01T10:00:00.000Z',
          block: 10,
          labels: [],
        },
      );
      assert.equal(all.entries[2]?.counterparty, null);
      assert.equal(all.entries[2]?.description, null);
      // Pages of 2, following `next`, give the same entries in the same order.
      const seen: string[] = [];
      let before: string | null = null;
      let pages = 0;
      do {
        const page = await energyHistory(
          db,
          CTX,
          T1,
          parseHistoryPage(before === null ? { limit: '2' } : { limit: '2', before }),
        );
        seen.push(...page.entries.map(brief));
        before = page.next;
        pages += 1;
      } while (before !== null && pages < 10);
      assert.deepEqual(seen, all.entries.map(brief));
      assert.equal(pages, 3);
      // A plain height: the entries of earlier blocks.
      assert.deepEqual(
        (await energyHistory(db, CTX, T1, { before: { height: 7 } })).entries.map(brief),
        ['6 2/0 transfer -2.5', '5 1/0 energy 10'],
      );
      assert.deepEqual((await energyHistory(db, CTX, T2)).entries.map(brief), [
        '6 2/1 transfer 2.5',
      ]);
      assert.deepEqual((await energyHistory(db, OTHER, T1)).entries, []);
    }
  });

  test(`a chain without the energy tables answers not_found (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      for (const run of [
        () => energyBalances(db, CTX),
        () => energyContext(db, CTX),
        () => energyHistory(db, CTX, T1),
      ]) {
        await assert.rejects(
          run(),
          (err: unknown) =>
            err instanceof ChainError &&
            err.code === 'not_found' &&
            /energy install/.test(err.message),
        );
      }
    } finally {
      await db.close();
    }
  });
}

test('bad parameters are bad_request naming the parameter', async () => {
  const noDb = { query: () => Promise.reject(new Error('must not be queried')) };
  const cases: [string, () => unknown, string][] = [
    ['context not an address', () => energyBalances(noDb, 'not-an-address'), 'context'],
    [
      'context with a bad checksum',
      () => energyContext(noDb, CTX.slice(0, -1) + (CTX.endsWith('a') ? 'b' : 'a')),
      'context',
    ],
    ['trader not an address', () => parseBalanceFilter({ trader: '1abc' }), 'trader'],
    ['label with capitals', () => parseBalanceFilter({ label: 'Solar' }), 'label'],
    ['empty label', () => parseBalanceFilter({ label: '' }), 'label'],
    ['label with a space', () => parseBalanceFilter({ label: 'so lar' }), 'label'],
    ['block negative', () => parseBalanceFilter({ block: '-1' }), 'block'],
    ['block not decimal', () => parseBalanceFilter({ block: '1e3' }), 'block'],
    ['limit zero', () => parseBalanceFilter({ limit: '0' }), 'limit'],
    ['limit too large', () => parseBalanceFilter({ limit: '10001' }), 'limit'],
    ['history limit too large', () => parseHistoryPage({ limit: '1001' }), 'limit'],
    ['cursor garbage', () => parseHistoryCursor('7:zz:1'), 'before'],
    ['cursor with upper-case id', () => parseHistoryCursor(`7:${'A'.repeat(32)}:0`), 'before'],
    ['history trader not an address', () => energyHistory(noDb, CTX, 'x'), 'trader'],
    [
      'filter object with an empty label set',
      () => energyBalances(noDb, CTX, { labels: [] }),
      'label',
    ],
  ];
  for (const [what, run, field] of cases) {
    let caught: unknown;
    try {
      await run();
    } catch (err) {
      caught = err;
    }
    assert.ok(
      caught instanceof ChainError,
      `${what}: expected a ChainError, got ${String(caught)}`,
    );
    assert.equal(caught.code, 'bad_request', what);
    assert.equal(caught.details['field'], field, what);
  }
  assert.deepEqual(parseHistoryCursor('12'), { height: 12 });
  assert.deepEqual(parseHistoryCursor(`12:${'ab'.repeat(16)}:3`), {
    height: 12,
    txId: 'ab'.repeat(16),
    seq: 3,
  });
  assert.deepEqual(parseBalanceFilter({ label: 'solar,local,solar' }), {
    labels: ['local', 'solar'],
  });
});
