// End-to-end: a real processor settles a market period on its own (its settlement agent), then
// the market's figures and grouped statements come through the HTTP API, the client and the CLI
// (JSON and CSV), and bad parameters get a coded 400. On the embedded database, and on a
// PostgreSQL server too when DATABASE_URL is set.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HanzenetClient } from '../src/client/client.js';
import { PrivateKey } from '../src/core/keys.js';
import { fetchMarketFigures, fetchMarketStatements } from '../src/energy/client.js';
import type { MarketFiguresView } from '../src/energy/market-figures.js';
import type { GroupedStatementsView } from '../src/energy/market-grouped-statements.js';
import { runCli } from './support/cli-run.js';
import { contextSender } from './support/context-sender.js';
import {
  e2eBackends,
  getJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedProcessor } from './support/processes.js';

const QUARTER_MS = 900_000;
const AMS = 'Europe/Amsterdam';

/** A context with anna (2 kWh of solar) and bert (0.5 kWh used) in the quarter hour that ended last. */
async function settledCommunity(
  p: StartedProcessor,
): Promise<{ context: string; periodMs: number }> {
  const owner = PrivateKey.generate();
  const context = owner.address;
  const [anna, bert, annaSolar, bertHouse] = [1, 2, 3, 4].map(() => PrivateKey.generate()) as [
    PrivateKey,
    PrivateKey,
    PrivateKey,
    PrivateKey,
  ];
  const send = await contextSender(p, context);
  for (const trader of [anna, bert])
    await send(owner, 'Trader', { address: trader.address, allowed: true });
  await send(owner, 'Producer', {
    address: annaSolar.address,
    allowed: true,
    trader: anna.address,
    labels: ['solar'],
  });
  await send(owner, 'Consumer', {
    address: bertHouse.address,
    allowed: true,
    trader: bert.address,
    labels: [],
  });
  await send(owner, 'Market', { on: true, gateClosureSeconds: 0 });
  const periodMs = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - QUARTER_MS;
  await send(owner, 'MarketPrices', {
    fromMs: periodMs,
    localEur: ['0.15'],
    supplyEur: ['0.3'],
    feedInEur: ['0.05'],
  });
  const readingMs = periodMs + QUARTER_MS - 1000;
  await send(annaSolar, 'Energy', { amount: '2', register: '2', readingMs });
  await send(bertHouse, 'Energy', { amount: '-0.5', register: '0.5', readingMs });
  const figuresUrl = `${p.url}/api/energy/contexts/${context}/market/figures`;
  for (let i = 0; i < 300; i++) {
    if ((await getJson<MarketFiguresView>(figuresUrl)).body.groups.length > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { context, periodMs };
}

for (const backend of e2eBackends()) {
  test(`market figures and grouped statements through the API, the client and the CLI (${backend.name})`, {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir('hz-figures');
    const db = await backend.databaseUrl();
    const p = await startProcessorProcess({
      dataDir: dir.path,
      databaseUrl: db.url,
      blockIntervalMs: 100,
    });
    try {
      const { context, periodMs } = await settledCommunity(p);
      const base = `${p.url}/api/energy/contexts/${context}/market`;
      // Anna used nothing herself: 0.5 kWh went to bert locally, 1.5 kWh were exported.
      const api = await getJson<MarketFiguresView>(`${base}/figures`);
      assert.equal(api.status, 200, JSON.stringify(api.body));
      assert.deepEqual(
        api.body.groups.map((g) => [g.startMs, g.endMs, g.periods, g.consumedKwh, g.producedKwh]),
        [[periodMs, periodMs + QUARTER_MS, 1, '0.5', '2']],
      );
      const [g] = api.body.groups;
      assert.deepEqual(
        [g?.suppliedKwh, g?.exportedKwh, g?.exportedEur, g?.selfSufficiency, g?.selfConsumption],
        ['0', '1.5', '0.075', '1.000000', '0.250000'],
      );
      assert.equal(g?.peakImport, null);
      assert.deepEqual(g?.prices, {
        local: { minEurPerKwh: '0.15', avgEurPerKwh: '0.15', maxEurPerKwh: '0.15' },
        supply: { minEurPerKwh: '0.3', avgEurPerKwh: '0.3', maxEurPerKwh: '0.3' },
        feedIn: { minEurPerKwh: '0.05', avgEurPerKwh: '0.05', maxEurPerKwh: '0.05' },
      });
      const localDay = new Intl.DateTimeFormat('en-CA', { timeZone: AMS }).format(periodMs);
      const client = new HanzenetClient({ url: p.url });
      const daily = await fetchMarketFigures(client, context, { group: 'day', tz: AMS });
      assert.deepEqual(
        daily.groups.map((x) => [x.group, x.periods]),
        [[localDay, 1]],
      );
      assert.deepEqual(
        [daily.tz, daily.totals.consumedKwh, daily.totals.selfConsumption],
        [AMS, '0.5', '0.250000'],
      );
      const statements = await fetchMarketStatements(client, context, { group: 'month', tz: AMS });
      assert.deepEqual(
        statements.statements.map((s) => [s.group, s.periods]),
        [
          [localDay.slice(0, 7), 1],
          [localDay.slice(0, 7), 1],
        ],
      );
      assert.equal(statements.totals.dueEur, '-0.075');

      // The CLI: figures as JSON and as CSV, grouped statements as CSV.
      const cli = (args: string[]) =>
        runCli(['--url', p.url, 'market', ...args, '--context', context]);
      const json = await cli(['figures', '--group', 'day', '--tz', AMS]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), daily);
      const csv = await cli(['figures', '--group', 'day', '--tz', AMS, '--format', 'csv']);
      assert.equal(csv.code, 0, csv.stderr);
      const lines = csv.stdout.trim().split('\n');
      assert.equal(lines.length, 3, csv.stdout);
      assert.match(
        lines[0] ?? '',
        /^context,day,tz,start,end,periods,consumedKwh,.*,feedInMaxEurPerKwh$/,
      );
      assert.ok(lines[1]?.startsWith(`${context},${localDay},${AMS},`), lines[1]);
      assert.ok(lines[2]?.startsWith(`${context},total,${AMS},`), lines[2]);
      assert.match(
        lines[1] ?? '',
        /,1,0\.5,2,0,0\.5,0\.075,0\.5,0\.075,0,0,1\.5,0\.075,1\.000000,0\.250000,,,/,
      );
      const grouped = await cli(['statements', '--group', 'month', '--tz', AMS, '--format', 'csv']);
      assert.equal(grouped.code, 0, grouped.stderr);
      const rows = grouped.stdout.trim().split('\n');
      assert.equal(rows.length, 3, grouped.stdout);
      assert.match(
        rows[0] ?? '',
        /^context,trader,month,tz,start,end,periods,producedKwh,.*,dueEur$/,
      );
      const groupedJson = await cli(['statements', '--group', 'day', '--limit', '1']);
      assert.equal(groupedJson.code, 0, groupedJson.stderr);
      const one = JSON.parse(groupedJson.stdout) as GroupedStatementsView;
      assert.deepEqual([one.statements.length, one.truncated, one.tz], [1, true, 'UTC']);
      const badZone = await cli(['figures', '--group', 'day', '--tz', 'Mars/Olympus_Mons']);
      assert.notEqual(badZone.code, 0);
      assert.match(badZone.stdout + badZone.stderr, /bad_request/);
      const badGroup = await cli(['figures', '--group', 'week']);
      assert.equal(badGroup.code, 2, badGroup.stderr);

      // Bad parameters: a coded 400 naming the parameter.
      for (const [query, field] of [
        ['figures?group=week', 'group'],
        ['figures?group=day&tz=Nowhere%2FTown', 'tz'],
        [`figures?from=${periodMs}&to=${periodMs}`, 'to'],
        ['figures?limit=0', 'limit'],
        ['figures?limit=10001', 'limit'],
        ['figures?trader=1BoatSLRHtKNngkdXEeobR76b53LETtpyT', 'trader'],
        ['statements?group=year', 'group'],
        ['statements?group=month&tz=', 'tz'],
      ] as const) {
        const bad = await getJson<{ error: { code: string; details: { field?: string } } }>(
          `${base}/${query}`,
        );
        assert.equal(bad.status, 400, query);
        assert.deepEqual(
          [bad.body.error.code, bad.body.error.details.field],
          ['bad_request', field],
          query,
        );
      }
    } finally {
      await stopProcess(p);
      await dir.remove();
      await db.drop();
    }
  });
}
