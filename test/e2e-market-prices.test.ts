// End-to-end, as an owner would: a real processor, the market turned on with `hanzenet contract
// execute`, a day-ahead price list in EUR/MWh uploaded with `hanzenet market upload-prices` (a dry
// run first), read back with `hanzenet market prices`; uploading the same file again books
// nothing twice, and a bad file or a context without a market is refused and changes nothing.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrivateKey } from '../src/core/keys.js';
import type { MarketPricesView } from '../src/energy/market-prices-read.js';
import type { PriceUploadResult } from '../src/market/price-upload.js';
import { runCli } from './support/cli-run.js';
import { e2eBackends, startProcessorProcess, stopProcess, tempDir } from './support/processes.js';

const HOUR_MS = 3_600_000;

for (const backend of e2eBackends({ one: 'postgres' })) {
  test(`the owner uploads a day-ahead price list and reads it back (${backend.name})`, {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir('hz-prices');
    const db = await backend.databaseUrl();
    const p = await startProcessorProcess({
      dataDir: dir.path,
      databaseUrl: db.url,
      blockIntervalMs: 100,
    });
    try {
      const cli = (...args: string[]) => runCli(['--url', p.url, ...args]);
      const owner = PrivateKey.generate();
      const keyFile = join(dir.path, 'owner.key');
      await writeFile(keyFile, owner.toWIF(), { mode: 0o600 });
      const context = owner.address;
      const market = await cli(
        'contract',
        'execute',
        '--contract-type',
        'Market',
        '--signing-keyfile',
        keyFile,
        '--payload',
        JSON.stringify({ context, on: true }),
      );
      assert.equal(market.code, 0, market.stderr);

      // Tomorrow from 00:00 UTC: three hours, then a gap, then one more hour.
      const day = Math.floor(Date.now() / (24 * HOUR_MS)) * 24 * HOUR_MS + 24 * HOUR_MS;
      const at = (h: number): string => new Date(day + h * HOUR_MS).toISOString();
      const csvFile = join(dir.path, 'day-ahead.csv');
      await writeFile(
        csvFile,
        `start;price\n${at(0)};85,5\n${at(1)};92\n${at(2)};110,25\n${at(5)};0\n`,
      );
      const upload = [
        'market',
        'upload-prices',
        '--context',
        context,
        '--file',
        csvFile,
        '--unit',
        'eur-per-mwh',
        '--feed-in-eur',
        '0.05',
        '--local-eur',
        '0.15',
        '--signing-keyfile',
        keyFile,
      ];
      const dry = await cli(...upload, '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      const plan = JSON.parse(dry.stdout) as PriceUploadResult;
      assert.deepEqual(
        plan.transactions.map((t) => [t.from, t.periods, t.status]),
        [
          [at(0), 12, 'planned'],
          [at(5), 4, 'planned'],
        ],
      );
      const listed = async (): Promise<MarketPricesView> => {
        const r = await cli('market', 'prices', '--context', context, '--from', String(day));
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as MarketPricesView;
      };
      assert.deepEqual((await listed()).prices, [], 'a dry run sends nothing');

      const sent = await cli(...upload);
      assert.equal(sent.code, 0, sent.stderr);
      const result = JSON.parse(sent.stdout) as PriceUploadResult;
      assert.equal(result.ok, true);
      assert.deepEqual(
        result.transactions.map((t) => t.status),
        ['accepted', 'accepted'],
      );
      assert.deepEqual(
        result.transactions.map((t) => t.id),
        plan.transactions.map((t) => t.id),
      );
      const view = await listed();
      assert.equal(view.market?.periodSeconds, 900);
      assert.equal(view.prices.length, 16);
      assert.deepEqual(
        view.prices.map((r) => r.supplyEurPerKwh).filter((_, i) => i % 4 === 0),
        ['0.0855', '0.092', '0.11025', '0'],
      );
      assert.deepEqual(
        [view.prices[0]?.feedInEurPerKwh, view.prices[0]?.localEurPerKwh],
        ['0.05', '0.15'],
      );
      assert.equal(view.prices[12]?.periodStart, at(5));

      // The same file again: the same ids, accepted before; nothing is booked twice.
      const again = await cli(...upload);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        (JSON.parse(again.stdout) as PriceUploadResult).transactions.map((t) => t.status),
        ['already_accepted', 'already_accepted'],
      );

      // A negative price: refused before anything is sent, naming the line.
      await writeFile(csvFile, `start;price\n${at(0)};85,5\n${at(1)};-3\n`);
      const bad = await cli(...upload);
      assert.equal(bad.code, 2, bad.stdout);
      assert.match(bad.stderr, /line 3: the supply price -3 is negative/);
      assert.deepEqual((await listed()).prices, view.prices);

      // A context that never turned its market on.
      const other = PrivateKey.generate().address;
      const none = await cli(
        'market',
        'upload-prices',
        '--context',
        other,
        '--file',
        csvFile,
        '--signing-keyfile',
        keyFile,
      );
      assert.equal(none.code, 1);
      assert.match(none.stderr, /"code": "market_not_on"/);
    } finally {
      await stopProcess(p);
      await db.drop();
      await dir.remove();
    }
  });
}
