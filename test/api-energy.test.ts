// The energy read routes (src/energy/http-routes.ts) and the client reads behind them, over a
// database holding the thesis' example as the contracts left it (run as signed transactions on
// the real engine, test/support/energy-chain.ts, and committed): the JSON shapes, every kind of bad input with its code,
// 404 when the service keeps no database or the chain has no energy tables, and the client.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiServer } from '../src/api/server.js';
import type { ApiServer } from '../src/api/server.js';
import { HanzenetClient } from '../src/client/client.js';
import { ClientError } from '../src/client/errors.js';
import {
  fetchEnergyBalances,
  fetchEnergyContext,
  fetchEnergyHistory,
} from '../src/energy/client.js';
import { registerEnergyRoutes } from '../src/energy/http-routes.js';
import type {
  DeviceReadingsView,
  DeviceRegistrationsView,
  EnergyBalancesView,
  EnergyContextView,
  EnergyHistoryView,
} from '../src/energy/views.js';
import { openDatabase } from '../src/store/database.js';
import { migrate } from '../src/store/migrations.js';
import type { Database, Sql } from '../src/store/types.js';
import { MemoryLedger } from './support/memory-ledger.js';
import { EnergyChain, closeEnergyChains, mustAccept, testAddress } from './support/energy-chain.js';

const CTX = testAddress('api context');
const A = testAddress('api trader a');
const B = testAddress('api trader b');
const PRODUCER = testAddress('api producer');
const CONSUMER = testAddress('api consumer');
const STRANGER = testAddress('api stranger');
const DESCRIPTION =
  'Energy supplied by external party, you will be billed for this at the end of the month';

/** A fake ledger that also answers queries from a database. */
class LedgerWithDatabase extends MemoryLedger {
  constructor(private readonly sql: Sql) {
    super();
  }

  querySql(): Sql {
    return this.sql;
  }
}

/** The thesis' example up to the Reduce (B holds -5 unlabelled in block 100), plus a solar sale. */
async function thesisChain(): Promise<EnergyChain> {
  const chain = await EnergyChain.open();
  const run = async (
    type: string,
    sender: string,
    payload: Record<string, unknown>,
  ): Promise<void> =>
    mustAccept(await chain.execute(type, sender, { context: CTX, ...payload }), type);
  await run('Trader', CTX, { address: A, allowed: true });
  await run('Trader', CTX, { address: B, allowed: true });
  await run('Producer', CTX, { address: PRODUCER, allowed: true, trader: A, labels: ['solar'] });
  await run('Consumer', CTX, { address: CONSUMER, allowed: true, trader: B, labels: [] });
  await run('Energy', PRODUCER, { amount: 10 });
  await run('Energy', CONSUMER, { amount: -15 });
  await chain.nextBlock();
  await run('Transfer', A, { receiver: B, block: 100, labels: ['solar'], amount: 10 });
  await run('Reduce', B, {
    block: 100,
    originalLabels: ['solar'],
    amount: 10,
    labelsToRemove: ['solar'],
  });
  await chain.nextBlock();
  await run('Energy', PRODUCER, { amount: '2.125' });
  await run('Transfer', A, {
    receiver: B,
    block: 102,
    labels: ['solar'],
    amount: '0.125',
    description: 'a small sale',
  });
  await run('Mutate', CTX, {
    trader: B,
    block: 100,
    labels: [],
    amount: 2,
    description: DESCRIPTION,
  });
  // Committed: the routes read the chain's database.
  await chain.nextBlock();
  return chain;
}

let db: Database;
let api: ApiServer;
let url: string;
let ledger: LedgerWithDatabase;

before(async () => {
  db = (await thesisChain()).chain.db;
  ledger = new LedgerWithDatabase(db);
  api = await createApiServer(ledger, {
    reportError: () => undefined,
    routes: [registerEnergyRoutes],
  });
  url = await api.listen(0);
});

after(async () => {
  await api.close();
  ledger.close();
  await closeEnergyChains();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await api.app.inject({ method: 'GET', url: path });
  return { status: res.statusCode, body: JSON.parse(res.body) as unknown };
}

test('GET /api/energy/contexts/:context/balances lists balances with periods, exact kWh and totals', async () => {
  const res = await get(`/api/energy/contexts/${CTX}/balances`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const view = res.body as EnergyBalancesView;
  const start = Date.UTC(2026, 0, 1, 10, 0, 0);
  assert.deepEqual(
    view.balances
      .map((b) => [
        b.trader === A ? 'A' : 'B',
        b.block,
        b.labels,
        b.amount,
        b.periodStartMs,
        b.periodStart,
      ])
      .sort(),
    [
      ['A', 102, ['solar'], '2', start + 2000, '2026-01-01T10:00:02.000Z'],
      ['B', 100, [], '-3', start, '2026-01-01T10:00:00.000Z'],
      ['B', 102, ['solar'], '0.125', start + 2000, '2026-01-01T10:00:02.000Z'],
    ].sort(),
  );
  assert.deepEqual(
    view.totals.map((t) => [t.trader === A ? 'A' : 'B', t.amount, t.balances]).sort(),
    [
      ['A', '2', 1],
      ['B', '-2.875', 2],
    ],
  );
  assert.equal(view.total, '-0.875');
  const solar = (await get(`/api/energy/contexts/${CTX}/balances?label=solar&trader=${B}`))
    .body as EnergyBalancesView;
  assert.deepEqual(
    solar.balances.map((b) => b.amount),
    ['0.125'],
  );
  assert.deepEqual(solar.filter, { trader: B, labels: ['solar'], block: null });
  const period = (await get(`/api/energy/contexts/${CTX}/balances?block=100`))
    .body as EnergyBalancesView;
  assert.deepEqual(
    period.balances.map((b) => [b.trader, b.amount]),
    [[B, '-3']],
  );
  const limited = (await get(`/api/energy/contexts/${CTX}/balances?limit=1`))
    .body as EnergyBalancesView;
  assert.equal(limited.balances.length, 1);
  assert.equal(limited.truncated, true);
  assert.equal(limited.total, '-0.875');
});

test('GET /api/energy/contexts/:context shows members, roles and the settlement period', async () => {
  const res = await get(`/api/energy/contexts/${CTX}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const view = res.body as EnergyContextView;
  assert.equal(view.owner, CTX);
  assert.deepEqual(view.settlementPeriod, {
    periodSeconds: 0,
    fromHeight: null,
    previousPeriodSeconds: 0,
  });
  assert.deepEqual(
    view.latestPeriod && [
      view.latestPeriod.block,
      view.latestPeriod.periodSeconds,
      view.latestPeriod.endMs - view.latestPeriod.startMs,
    ],
    [102, 0, 1],
  );
  assert.deepEqual(view.producers, [{ address: PRODUCER, trader: A, labels: ['solar'] }]);
  assert.deepEqual(view.consumers, [{ address: CONSUMER, trader: B, labels: [] }]);
  const roles = Object.fromEntries(view.members.map((m) => [m.address, m.roles.join(',')]));
  assert.deepEqual(roles, {
    [CTX]: 'owner',
    [A]: 'trader',
    [B]: 'trader',
    [PRODUCER]: 'producer',
    [CONSUMER]: 'consumer',
  });
  assert.equal(view.market, null, 'the market was never turned on');
  const other = (await get(`/api/energy/contexts/${STRANGER}`)).body as EnergyContextView;
  assert.deepEqual(other.members, [{ address: STRANGER, roles: ['owner'] }]);
});

test("GET /api/energy/contexts/:context/traders/:trader/history pages through a trader's history", async () => {
  const res = await get(`/api/energy/contexts/${CTX}/traders/${B}/history`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const view = res.body as EnergyHistoryView;
  assert.deepEqual(
    view.entries.map((e) => [
      e.height,
      e.kind,
      e.block,
      e.labels,
      e.amount,
      e.counterparty,
      e.description,
    ]),
    [
      [102, 'transfer', 102, ['solar'], '0.125', A, 'a small sale'],
      [102, 'mutate', 100, [], '2', CTX, DESCRIPTION],
      [101, 'transfer', 100, ['solar'], '10', A, null],
      [101, 'reduce', 100, ['solar'], '-10', null, null],
      [101, 'reduce', 100, [], '10', null, null],
      [100, 'energy', 100, [], '-15', CONSUMER, null],
    ],
  );
  const first = (await get(`/api/energy/contexts/${CTX}/traders/${B}/history?limit=4`))
    .body as EnergyHistoryView;
  assert.equal(first.entries.length, 4);
  assert.ok(first.next !== null);
  const rest = (
    await get(`/api/energy/contexts/${CTX}/traders/${B}/history?limit=4&before=${first.next}`)
  ).body as EnergyHistoryView;
  assert.deepEqual([...first.entries, ...rest.entries], view.entries);
  assert.equal(rest.next, null);
  const older = (await get(`/api/energy/contexts/${CTX}/traders/${B}/history?before=101`))
    .body as EnergyHistoryView;
  assert.deepEqual(
    older.entries.map((e) => e.kind),
    ['energy'],
  );
});

test("GET .../devices/:address/registrations and .../readings: a device's history from the chain", async () => {
  const regs = await get(`/api/energy/contexts/${CTX}/devices/${PRODUCER}/registrations`);
  assert.equal(regs.status, 200, JSON.stringify(regs.body));
  const view = regs.body as DeviceRegistrationsView;
  assert.deepEqual(
    view.registrations.map((r) => [r.role, r.allowed, r.trader, r.labels, r.height]),
    [['producer', true, A, ['solar'], 100]],
  );
  assert.equal(view.truncated, false);
  const readings = (await get(`/api/energy/contexts/${CTX}/devices/${PRODUCER}/readings`))
    .body as DeviceReadingsView;
  assert.deepEqual(
    readings.readings.map((r) => [r.height, r.amount, r.register, r.readingMs, r.sinceMs]),
    [
      [100, '10', null, null, null],
      [102, '2.125', null, null, null],
    ],
  );
  const last = readings.readings[1]?.processedMs ?? 0;
  const later = (await get(`/api/energy/contexts/${CTX}/devices/${PRODUCER}/readings?from=${last}`))
    .body as DeviceReadingsView;
  assert.deepEqual(
    later.readings.map((r) => r.amount),
    ['2.125'],
  );
  const none = (await get(`/api/energy/contexts/${CTX}/devices/${STRANGER}/registrations`))
    .body as DeviceRegistrationsView;
  assert.deepEqual(none.registrations, []);
});

test('bad input is 400 bad_request naming the parameter', async () => {
  const cases: [string, string][] = [
    [`/api/energy/contexts/nope/balances`, 'context'],
    [`/api/energy/contexts/nope`, 'context'],
    [`/api/energy/contexts/${CTX}/balances?trader=x`, 'trader'],
    [`/api/energy/contexts/${CTX}/balances?label=Solar`, 'label'],
    [`/api/energy/contexts/${CTX}/balances?label=`, 'label'],
    [`/api/energy/contexts/${CTX}/balances?block=-1`, 'block'],
    [`/api/energy/contexts/${CTX}/balances?block=1.5`, 'block'],
    [`/api/energy/contexts/${CTX}/balances?limit=0`, 'limit'],
    [`/api/energy/contexts/${CTX}/balances?labels=solar`, 'labels'],
    [`/api/energy/contexts/${CTX}/balances?label=solar&label=wind`, 'label'],
    [`/api/energy/contexts/${CTX}?trader=${A}`, 'trader'],
    [`/api/energy/contexts/${CTX}/traders/x/history`, 'trader'],
    [`/api/energy/contexts/${CTX}/traders/${B}/history?limit=1001`, 'limit'],
    [`/api/energy/contexts/${CTX}/traders/${B}/history?before=abc`, 'before'],
    [`/api/energy/contexts/${CTX}/devices/x/registrations`, 'address'],
    [`/api/energy/contexts/${CTX}/devices/${PRODUCER}/registrations?from=1`, 'from'],
    [`/api/energy/contexts/${CTX}/devices/${PRODUCER}/readings?from=-1`, 'from'],
    [`/api/energy/contexts/${CTX}/devices/${PRODUCER}/readings?limit=5`, 'limit'],
  ];
  for (const [path, field] of cases) {
    const res = await get(path);
    assert.equal(res.status, 400, path);
    assert.equal(res.body.error.code, 'bad_request', `${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.details.field, field, path);
    assert.equal(typeof res.body.error.message, 'string');
  }
});

test('404 not_found without a database, or without the energy tables', async () => {
  const plain = await createApiServer(new MemoryLedger(), {
    reportError: () => undefined,
    routes: [registerEnergyRoutes],
  });
  try {
    for (const path of [
      `/api/energy/contexts/${CTX}`,
      `/api/energy/contexts/${CTX}/balances`,
      `/api/energy/contexts/${CTX}/traders/${A}/history`,
    ]) {
      const res = await plain.app.inject({ method: 'GET', url: path });
      assert.equal(res.statusCode, 404, path);
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'not_found');
    }
  } finally {
    await plain.close();
  }
  const empty = await openDatabase({ memory: true });
  const bare = new LedgerWithDatabase(empty);
  const server = await createApiServer(bare, {
    reportError: () => undefined,
    routes: [registerEnergyRoutes],
  });
  try {
    await migrate(empty);
    const res = await server.app.inject({
      method: 'GET',
      url: `/api/energy/contexts/${CTX}/balances`,
    });
    assert.equal(res.statusCode, 404);
    assert.match(
      (JSON.parse(res.body) as { error: { message: string } }).error.message,
      /energy contracts are not installed/,
    );
  } finally {
    await server.close();
    bare.close();
    await empty.close();
  }
});

test('the client: fetchEnergyContext, fetchEnergyBalances and fetchEnergyHistory', async () => {
  const client = new HanzenetClient({ url });
  try {
    const context = await fetchEnergyContext(client, CTX);
    assert.equal(context.traders.length, 2);
    const balances = await fetchEnergyBalances(client, CTX, {
      trader: B,
      label: ['solar'],
      block: 102,
    });
    assert.deepEqual(
      balances.balances.map((b) => b.amount),
      ['0.125'],
    );
    assert.deepEqual(
      (await fetchEnergyBalances(client, CTX, { label: 'solar' })).totals
        .map((t) => t.amount)
        .sort(),
      ['0.125', '2'],
    );
    const page = await fetchEnergyHistory(client, CTX, B, { limit: 2 });
    assert.equal(page.entries.length, 2);
    const next = await fetchEnergyHistory(client, CTX, B, { limit: 10, before: page.next ?? '' });
    assert.equal(next.entries.length, 4);
    assert.equal((await fetchEnergyHistory(client, CTX, B, { before: 101 })).entries.length, 1);
    await assert.rejects(
      fetchEnergyBalances(client, 'nope'),
      (err: unknown) =>
        err instanceof ClientError && err.code === 'bad_request' && err.status === 400,
    );
    await assert.rejects(
      fetchEnergyBalances(client, CTX, { block: -1 }),
      (err: unknown) =>
        err instanceof ClientError && err.code === 'bad_request' && err.status === null,
    );
    await assert.rejects(
      fetchEnergyContext(client, ''),
      (err: unknown) => err instanceof ClientError && err.code === 'bad_request',
    );
  } finally {
    client.close();
  }
});
