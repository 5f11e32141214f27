// End-to-end: `hanzenet city up` as a real process, as a user would start it. It starts a city
// processor and two neighbourhood processors with a mirror node each, sets up their contexts
// and prints one JSON line: every URL answers /api/info for its chain, the city has the
// neighbourhoods registered as traders with their devices, the neighbourhoods their households
// and markets. SIGTERM stops every service; a second start on the same data directory resumes
// the same chains without sending the setup again; when one service is killed (SIGKILL) the
// city stops the others and says which one ended.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ChainInfo } from '../src/chain/views.js';
import { HanzenetClient } from '../src/client/client.js';
import { fetchMembers, fetchStackParents, fetchUpstream } from '../src/stack/client.js';
import { readKeyFile } from '../src/store/key-file.js';
import type { CityReport } from '../src/city/report.js';
import { databasePrefix } from '../src/city/layout.js';
import { databaseUrlOf } from '../src/store/server-database.js';
import type { EnergyContextView } from '../src/energy/views.js';
import type { MarketPricesView } from '../src/energy/market-prices-read.js';
import { type RunningCli, runCli, startCliWithLine } from './support/cli-run.js';
import { getJson, tempDir } from './support/processes.js';
import pg from 'pg';
import { until } from './support/stack-chain.js';

const START_TIMEOUT_MS = 180_000;

type RunningCity = RunningCli<CityReport>;

function cityUp(args: readonly string[]): Promise<RunningCity> {
  return startCliWithLine<CityReport>(['city', 'up', ...args], START_TIMEOUT_MS);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

/** Every service of the city is gone (a stopped service may take a moment to be reaped). */
async function assertAllGone(report: CityReport): Promise<void> {
  for (let i = 0; i < 50 && report.services.some((s) => isRunning(s.pid)); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    report.services.filter((s) => isRunning(s.pid)).map((s) => s.name),
    [],
    'no service is left running',
  );
}

async function checkChains(report: CityReport): Promise<void> {
  for (const chain of [report.city, ...report.neighbourhoods]) {
    const processor = await getJson<ChainInfo>(`${chain.url}/api/info`);
    assert.equal(processor.status, 200);
    assert.equal(processor.body.chainId, chain.chainId, `${chain.name} processor`);
    assert.equal(processor.body.role, 'processor');
    assert.equal(processor.body.processorAddress, chain.processorAddress);
    const node = await getJson<ChainInfo>(`${chain.nodeUrl}/api/info`);
    assert.equal(node.status, 200);
    assert.equal(node.body.chainId, chain.chainId, `${chain.name} node`);
    assert.equal(node.body.role, 'node');
  }
  const ids = new Set([report.city, ...report.neighbourhoods].map((c) => c.chainId));
  assert.equal(ids.size, report.neighbourhoods.length + 1, 'each chain its own chain id');
}

async function contextOf(url: string, context: string): Promise<EnergyContextView> {
  const res = await getJson<EnergyContextView>(`${url}/api/energy/contexts/${context}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function checkContexts(report: CityReport): Promise<void> {
  const city = await contextOf(report.city.url, report.city.context);
  assert.equal(city.market?.on, true);
  assert.equal(city.market?.periodSeconds, 60);
  assert.equal(city.market?.gateClosureSeconds, report.cityGateClosureSeconds);
  for (const n of report.neighbourhoods) {
    assert.ok(
      city.traders.some((t) => t.address === n.context),
      `${n.name} is a trader of the city`,
    );
    const producer = city.producers.find((p) => p.address === n.member.producer);
    const consumer = city.consumers.find((c) => c.address === n.member.consumer);
    assert.equal(producer?.trader, n.context, `${n.name}'s producer in the city`);
    assert.equal(consumer?.trader, n.context, `${n.name}'s consumer in the city`);

    const local = await contextOf(n.url, n.context);
    assert.equal(local.market?.on, true);
    assert.equal(local.market?.gateClosureSeconds, report.gateClosureSeconds);
    assert.deepEqual(
      local.traders.map((t) => t.address).sort(),
      n.households.map((h) => h.trader).sort(),
    );
    assert.deepEqual(
      local.producers.map((p) => [p.address, p.trader, p.labels.join(',')]).sort(),
      n.households
        .filter((h) => h.solar !== null)
        .map((h) => [h.solar, h.trader, 'solar'])
        .sort(),
    );
    assert.equal(local.consumers.length, n.households.length);
    const prices = await getJson<MarketPricesView>(
      `${n.url}/api/energy/contexts/${n.context}/market/prices?from=${Date.now() - 60_000}&limit=1`,
    );
    assert.equal(prices.body.prices[0]?.supplyEurPerKwh, '0.3', JSON.stringify(prices.body));
  }
  assert.equal(report.neighbourhoods[0]?.households.filter((h) => h.solar !== null).length, 1);
}

/** The city has each neighbourhood as a member (MarketMember), each neighbourhood the city as its parent. */
async function checkLinks(report: CityReport): Promise<void> {
  const city = new HanzenetClient({ url: report.city.url });
  const members = await fetchMembers(city, report.city.context);
  assert.deepEqual(
    members.members.map((m) => [
      m.member,
      m.chain,
      m.childContext,
      m.processor,
      m.producer,
      m.consumer,
    ]),
    report.neighbourhoods
      .map((n) => [
        n.context,
        n.chainId,
        n.context,
        n.processorAddress,
        n.member.producer,
        n.member.consumer,
      ])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
  );
  for (const n of report.neighbourhoods) {
    const parents = await fetchStackParents(
      new HanzenetClient({ url: n.url }),
      report.city.chainId,
    );
    assert.deepEqual(
      parents.parents.map((p) => [p.context, p.parentContext, p.parentProcessor]),
      [[n.context, report.city.context, report.city.processorAddress]],
    );
  }
}

/**
 * A period goes up and comes down through the uplinks: readings of the period that has just ended
 * (n1's solar household produced 2 kWh and its other household used 0.5; n2's used 1), each
 * neighbourhood's residual settled by the city, and the audit of both directions finds nothing.
 */
async function checkPeriodThroughTheCity(report: CityReport): Promise<void> {
  const periodMs = report.periodSeconds * 1000;
  const startMs = Math.floor(Date.now() / periodMs) * periodMs - periodMs;
  const readingMs = startMs + periodMs / 2;
  const readings: [number, string, string, string][] = [
    [0, 'household-1-solar', '2', '2'],
    [0, 'household-2-house', '-0.5', '0.5'],
    [1, 'household-2-house', '-1', '1'],
  ];
  for (const [i, keyName, amount, register] of readings) {
    const n = report.neighbourhoods[i];
    assert.ok(n !== undefined);
    const key = await readKeyFile(join(n.keysDir, `${keyName}.key`));
    assert.ok(key !== null);
    const client = new HanzenetClient({ url: n.url });
    const view = await client.executeContract({
      contractType: 'Energy',
      payload: { context: n.context, amount, register, readingMs },
      key,
    });
    assert.equal(view.status, 'accepted', `${n.name} ${keyName}: ${view.code} ${view.message}`);
  }
  for (const n of report.neighbourhoods) {
    const client = new HanzenetClient({ url: n.url });
    await until(`${n.name}'s period settled by the city`, 120_000, async () => {
      const rows = await fetchUpstream(client, n.context, { state: 'settled' });
      return rows.upstream.find((r) => r.periodStartMs === startMs) ?? null;
    });
    const audit = await runCli(['audit', 'stack', '--child', n.url, '--parent', report.city.url]);
    assert.equal(audit.code, 0, audit.stderr);
    const result = JSON.parse(audit.stdout) as {
      ok: boolean;
      checked: { up: number; down: number };
    };
    assert.equal(result.ok, true);
    assert.ok(result.checked.down >= 1, `${n.name}: the settlement was audited`);
  }
}

function checkKeyFiles(report: CityReport): void {
  for (const name of ['owner', 'household-1-trader', 'household-1-solar', 'member-producer']) {
    const mode = statSync(join(report.neighbourhoods[0]?.keysDir ?? '', `${name}.key`)).mode;
    assert.equal(mode & 0o777, 0o600, `${name}.key is readable by its owner only`);
  }
}

const ARGS = [
  '--neighbourhoods',
  '2',
  '--households',
  '2',
  '--period-seconds',
  '60',
  '--gate-closure-seconds',
  '5',
  '--city-gate-closure-seconds',
  '20',
];

test('city up starts, sets up, resumes and stops a city of two neighbourhoods', {
  timeout: 600_000,
}, async () => {
  const dir = await tempDir('city');
  const args = [...ARGS, '--data-dir', dir.path, '--block-interval-ms', '200'];
  let first: RunningCity | null = null;
  let second: RunningCity | null = null;
  try {
    first = await cityUp(args);
    const report = first.line;
    assert.equal(report.neighbourhoods.length, 2);
    assert.deepEqual(
      report.services.map((s) => s.name),
      [
        'city processor',
        'city node',
        'n1 processor',
        'n1 node',
        'n2 processor',
        'n2 node',
        'n1 uplink',
        'n2 uplink',
      ],
      'a processor and a node per chain, an uplink per neighbourhood',
    );
    await checkChains(report);
    await checkContexts(report);
    await checkLinks(report);
    checkKeyFiles(report);
    await checkPeriodThroughTheCity(report);
    const cityHeight = (await getJson<ChainInfo>(`${report.city.url}/api/info`)).body.head?.height;

    first.proc.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.stderr());
    await assertAllGone(report);
    assert.match(first.stderr(), /"msg":"city stopped","because":"SIGTERM"/);

    // The same data directory: the same chains and contexts, and nothing set up twice.
    second = await cityUp(args);
    const again = second.line;
    assert.equal(again.city.chainId, report.city.chainId);
    assert.equal(again.city.context, report.city.context);
    assert.deepEqual(
      again.neighbourhoods.map((n) => [n.chainId, n.context]),
      report.neighbourhoods.map((n) => [n.chainId, n.context]),
    );
    await checkContexts(again);
    await checkLinks(again);
    const cityHeightAgain = (await getJson<ChainInfo>(`${again.city.url}/api/info`)).body.head
      ?.height;
    assert.equal(cityHeightAgain, cityHeight, 'the city got no setup transactions again');

    // One service ends: the city stops the others and names it.
    const victim = again.services.find((s) => s.name === 'n2 node');
    assert.ok(victim !== undefined);
    process.kill(victim.pid, 'SIGKILL');
    assert.equal(await second.exited, 1, second.stderr());
    assert.match(second.stderr(), /"code":"city_service_exited"/);
    assert.match(second.stderr(), /n2 node ended \(signal SIGKILL\) while running/);
    await assertAllGone(again);
  } finally {
    for (const c of [first, second]) if (c !== null) c.proc.kill('SIGKILL');
    await dir.remove();
  }
});

test('city up with --database-url gives each chain and node a database of its own', {
  skip: process.env['DATABASE_URL'] === undefined ? 'DATABASE_URL is not set' : false,
  timeout: 300_000,
}, async () => {
  const server = process.env['DATABASE_URL'] ?? '';
  const dir = await tempDir('city-pg');
  const args = ['--neighbourhoods', '1', '--households', '1', '--period-seconds', '60'];
  let city: RunningCity | null = null;
  const prefix = databasePrefix(dir.path);
  const names = ['city', 'n1'].flatMap((c) => [`${prefix}_${c}_processor`, `${prefix}_${c}_node`]);
  try {
    city = await cityUp([...args, '--data-dir', dir.path, '--database-url', server]);
    await checkChains(city.line);
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    try {
      const found = await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname = ANY($1) ORDER BY datname',
        [names],
      );
      assert.deepEqual(
        found.rows.map((r) => r.datname),
        [...names].sort(),
      );
      const chains = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ANY($1)`,
        [names],
      );
      assert.ok(Number(chains.rows[0]?.n) >= 4, 'every service is connected to its database');
    } finally {
      await admin.end();
    }
    // The city's members, as MarketMember wrote them into the city processor's database.
    const cityDb = new pg.Client({
      connectionString: databaseUrlOf(server, `${prefix}_city_processor`),
    });
    await cityDb.connect();
    try {
      const rows = await cityDb.query<{ member: string; chain: string; processor: string }>(
        'SELECT member, chain, processor FROM state.energy_market_members',
      );
      const n1 = city.line.neighbourhoods[0];
      assert.deepEqual(rows.rows, [
        { member: n1?.context, chain: n1?.chainId, processor: n1?.processorAddress },
      ]);
    } finally {
      await cityDb.end();
    }
    city.proc.kill('SIGTERM');
    assert.equal(await city.exited, 0, city.stderr());
    await assertAllGone(city.line);
  } finally {
    if (city !== null) city.proc.kill('SIGKILL');
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    try {
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await dir.remove();
  }
});

/** Processes whose command line names `dir` (the city's services all do, by their data dirs). */
function processesIn(dir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

test('a service that cannot start stops the city, named, with nothing left running', {
  timeout: 300_000,
}, async () => {
  const dir = await tempDir('city-port');
  const taken = createServer();
  await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res));
  const port = (taken.address() as AddressInfo).port;
  try {
    // The city's processor gets the taken port; n1's processor starts on the next ones.
    const r = await runCli(
      [
        'city',
        'up',
        '--neighbourhoods',
        '1',
        '--households',
        '1',
        '--data-dir',
        dir.path,
        '--base-port',
        String(port),
      ],
      { timeoutMs: 240_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    const first = JSON.parse(r.stderr.split('\n')[0] ?? '') as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    assert.equal(first.error.code, 'city_service_exited');
    assert.equal(first.error.details['service'], 'city processor');
    assert.equal(first.error.details['when'], 'starting');
    assert.match(first.error.message, /port_unavailable/);
    assert.match(r.stderr, /"msg":"city stopped","because":"city_service_exited"/);
    assert.deepEqual(processesIn(dir.path), [], 'no service is left running');
  } finally {
    taken.close();
    await dir.remove();
  }
});

test('city up refuses bad options with usage_error before it creates anything', async () => {
  const dir = await tempDir('city-bad');
  try {
    const cases: [string[], RegExp][] = [
      [['--neighbourhoods', '0'], /--neighbourhoods/],
      [['--neighbourhoods', '2', '--period-seconds', '61'], /--period-seconds/],
      [
        [
          '--neighbourhoods',
          '2',
          '--gate-closure-seconds',
          '120',
          '--city-gate-closure-seconds',
          '60',
        ],
        /--city-gate-closure-seconds/,
      ],
      [['--neighbourhoods', '2', '--supply-eur', '0.1234567'], /--supply-eur/],
      [['--households', '3'], /--neighbourhoods/],
    ];
    for (const [args, option] of cases) {
      const r = await runCli(['city', 'up', '--data-dir', join(dir.path, 'city'), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const error = (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'usage_error');
      assert.match(error.message, option);
      assert.equal(r.stdout, '');
    }
    assert.throws(() => statSync(join(dir.path, 'city')), /ENOENT/, 'nothing was created');
  } finally {
    await dir.remove();
  }
});
