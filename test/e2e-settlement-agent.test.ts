// End-to-end: a real processor process settles market periods on its own. A context owner turns
// the market on and sets prices, two households' meters report a quarter hour that has ended,
// and the settlement agent that runs with the processor sends SettlePeriod once the gate has
// closed; psql on the embedded SQL port then sees the settled period, its flows and statements,
// the API and the client show the statements, and a second SettlePeriod sent by hand is rejected.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signTx } from '../src/chain/tx.js';
import type { ContractView, TxView } from '../src/chain/views.js';
import { HanzenetClient } from '../src/client/client.js';
import { PrivateKey } from '../src/core/keys.js';
import { fetchMarketStatements } from '../src/energy/client.js';
import type { StatementsView } from '../src/energy/market-statements.js';
import {
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import { runCli } from './support/cli-run.js';
import { psql, psqlMissing } from './support/psql.js';

const QUARTER_MS = 900_000;
const missing = psqlMissing();

test('the settlement agent settles an ended market period after its gate closure', {
  skip: missing ?? false,
  timeout: 120_000,
}, async () => {
  const dir = await tempDir('hz-settle');
  const p = await startProcessorProcess({
    dataDir: dir.path,
    blockIntervalMs: 100,
    extraArgs: ['--sql-port', '0'],
  });
  try {
    const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
    const hashOf = (type: string): string => {
      const c = contracts.find((x) => x.type === type);
      assert.ok(c !== undefined, `the chain has ${type}`);
      return c.hash;
    };
    const send = async (
      key: PrivateKey,
      type: string,
      payload: Record<string, unknown>,
    ): Promise<TxView> => {
      const tx = signTx(
        { contractHashHex: hashOf(type), validTillMs: 0, payloadText: JSON.stringify(payload) },
        key,
        p.chainId,
      );
      const res = await postJson<TxView>(`${p.url}/api/transactions`, {
        base64tx: Buffer.from(tx.bytes).toString('base64'),
        wait: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const accept = async (
      key: PrivateKey,
      type: string,
      payload: Record<string, unknown>,
    ): Promise<void> => {
      const view = await send(key, type, payload);
      assert.equal(view.status, 'accepted', `${type}: ${view.code} ${view.message}`);
    };

    const owner = PrivateKey.generate();
    const context = owner.address;
    const anna = PrivateKey.generate();
    const bert = PrivateKey.generate();
    const annaSolar = PrivateKey.generate();
    const bertHouse = PrivateKey.generate();
    for (const trader of [anna, bert])
      await accept(owner, 'Trader', { context, address: trader.address, allowed: true });
    await accept(owner, 'Producer', {
      context,
      address: annaSolar.address,
      allowed: true,
      trader: anna.address,
      labels: ['solar'],
    });
    await accept(owner, 'Consumer', {
      context,
      address: bertHouse.address,
      allowed: true,
      trader: bert.address,
      labels: [],
    });
    await accept(owner, 'Market', { context, on: true, gateClosureSeconds: 0 });
    // The quarter hour before the current one has ended; its gate (0 s) has closed.
    const periodMs = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - QUARTER_MS;
    await accept(owner, 'MarketPrices', {
      context,
      fromMs: periodMs,
      localEur: ['0.15'],
      supplyEur: ['0.3'],
      feedInEur: ['0.05'],
    });
    const readingMs = periodMs + QUARTER_MS - 1000;
    await accept(annaSolar, 'Energy', { context, amount: '2', register: '2', readingMs });
    await accept(bertHouse, 'Energy', { context, amount: '-0.5', register: '0.5', readingMs });

    assert.ok(p.sql !== undefined);
    const port = Number(new URL(p.sql).port);
    const query = async (sql: string): Promise<string> => {
      const r = await psql(port, sql, '-At');
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    const settled = `SELECT settled FROM state.energy_market_periods WHERE context = '${context}' AND period_start_ms = ${periodMs}`;
    for (let i = 0; i < 300 && (await query(settled)) !== 't'; i++)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal(await query(settled), 't', 'the agent settled the period within 60 s');
    assert.equal(
      await query(
        `SELECT string_agg(kind || ' ' || wh || '@' || price_ueur_per_kwh, ', ' ORDER BY seq) FROM state.energy_market_flows WHERE context = '${context}' AND period_start_ms = ${periodMs}`,
      ),
      'allocation 500@150000, export 1500@50000',
    );
    assert.equal(
      await query(
        `SELECT string_agg(due_neur::text, ',' ORDER BY due_neur) FROM state.energy_market_statements WHERE context = '${context}'`,
      ),
      '-150000000,75000000',
    );
    // The same statements through the API and the client, in kWh and EUR.
    const api = await getJson<StatementsView>(
      `${p.url}/api/energy/contexts/${context}/market/statements?trader=${bert.address}`,
    );
    assert.equal(api.status, 200, JSON.stringify(api.body));
    assert.deepEqual(
      api.body.statements.map((s) => [
        s.periodStartMs,
        s.consumedKwh,
        s.boughtKwh,
        s.boughtEur,
        s.dueEur,
      ]),
      [[periodMs, '0.5', '0.5', '0.075', '0.075']],
    );
    const all = await fetchMarketStatements(new HanzenetClient({ url: p.url }), context, {
      fromMs: periodMs,
      toMs: periodMs + QUARTER_MS,
    });
    assert.equal(all.statements.length, 2);
    assert.equal(all.totals.dueEur, '-0.075', 'anna is owed 0.15 EUR, bert owes 0.075');
    assert.equal(all.totals.exportedKwh, '1.5');
    // And through the CLI, as JSON and as CSV.
    const iso = new Date(periodMs).toISOString();
    const cli = await runCli([
      '--url',
      p.url,
      'market',
      'statements',
      '--context',
      context,
      '--from',
      iso,
      '--format',
      'csv',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const csv = cli.stdout.trim().split('\n');
    assert.equal(csv.length, 3, cli.stdout);
    assert.match(csv[0] ?? '', /^context,trader,periodStart,producedKwh,consumedKwh,.*,dueEur$/);
    assert.ok(
      csv.slice(1).some((line) => line.startsWith(`${context},${anna.address},${iso},2,0,`)),
    );
    assert.ok(csv.slice(1).some((line) => line.endsWith(',0.075')));
    const json = await runCli([
      '--url',
      p.url,
      'market',
      'statements',
      '--context',
      context,
      '--trader',
      anna.address,
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as StatementsView).totals.dueEur, '-0.15');
    const badTime = await runCli([
      '--url',
      p.url,
      'market',
      'statements',
      '--context',
      context,
      '--from',
      'yesterday',
    ]);
    assert.equal(badTime.code, 2, badTime.stderr);

    const bad = await getJson<{ error: { code: string } }>(
      `${p.url}/api/energy/contexts/${context}/market/statements?from=10&to=5`,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'bad_request');
    const unknown = await getJson<{ error: { code: string } }>(
      `${p.url}/api/energy/contexts/${context}/market/statements?period=1`,
    );
    assert.equal(unknown.status, 400);

    const again = await send(bert, 'SettlePeriod', { context, periodStartMs: periodMs });
    assert.equal(again.status, 'rejected');
    assert.equal(again.code, 'period_already_settled');
    assert.match(p.stderr(), /settled a market period/);
  } finally {
    await stopProcess(p);
    await dir.remove();
  }
});
