// End-to-end: reconciliation in a market context on a real processor process. A household meter
// (a producer and a consumer key) reports two ended quarter hours for trader anna; the
// processor's settlement agent settles them; then the meter moves to trader bert. The grid
// operator's CSV differs from the chain in both quarter hours. `hanzenet reconcile --settle`
// books the differences with MarketCorrection to anna, the trader the meter had when the energy
// was metered (not bert, its trader now); the agent's next settlement settles them as imbalance
// and anna's statement shows the correction; a second run changes nothing. On the embedded
// database, and on PostgreSQL too when DATABASE_URL is set.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { signTx } from '../src/chain/tx.js';
import type { ContractView, TxView } from '../src/chain/views.js';
import { HanzenetClient } from '../src/client/client.js';
import { toHex } from '../src/core/bytes.js';
import { PrivateKey } from '../src/core/keys.js';
import { fetchMarketStatements } from '../src/energy/client.js';
import type { StatementView } from '../src/energy/market-statements.js';
import type { ReconcileReport } from '../src/meter/reconcile/run.js';
import { runCli } from './support/cli-run.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

const QUARTER_MS = 900_000;
const GRID_ID = '871687400000000077';

for (const backend of e2eBackends({ one: 'pglite' })) {
  test(`reconcile --settle corrects a market period for the trader of the time, once (${backend.name})`, {
    timeout: 180_000,
  }, async () => {
    const dir = await tempDir('hz-reconcile-market');
    const database = await backend.databaseUrl();
    const p = await startProcessorProcess({
      dataDir: join(dir.path, 'chain'),
      databaseUrl: database.url,
      blockIntervalMs: 100,
    });
    const client = new HanzenetClient({ url: p.url });
    try {
      const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
      const accept = async (
        key: PrivateKey,
        type: string,
        payload: Record<string, unknown>,
      ): Promise<void> => {
        const hash = contracts.find((c) => c.type === type)?.hash ?? '';
        const tx = signTx(
          { contractHashHex: hash, validTillMs: 0, payloadText: JSON.stringify(payload) },
          key,
          p.chainId,
        );
        const res = await postJson<TxView>(`${p.url}/api/transactions`, {
          base64tx: Buffer.from(tx.bytes).toString('base64'),
          wait: true,
        });
        assert.equal(res.body.status, 'accepted', `${type}: ${JSON.stringify(res.body)}`);
      };
      const owner = PrivateKey.generate();
      const context = owner.address;
      const [anna, bert, pv, house] = [1, 2, 3, 4].map(() => PrivateKey.generate()) as [
        PrivateKey,
        PrivateKey,
        PrivateKey,
        PrivateKey,
      ];
      const link = async (trader: PrivateKey): Promise<void> => {
        await accept(owner, 'Producer', {
          context,
          address: pv.address,
          allowed: true,
          trader: trader.address,
          labels: ['solar'],
        });
        await accept(owner, 'Consumer', {
          context,
          address: house.address,
          allowed: true,
          trader: trader.address,
          labels: [],
        });
      };
      for (const trader of [anna, bert])
        await accept(owner, 'Trader', { context, address: trader.address, allowed: true });
      await link(anna);
      await accept(owner, 'Market', { context, on: true, gateClosureSeconds: 0 });
      // Three quarter hours that have ended: A and B metered for anna, C after the move to bert.
      const a = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - 3 * QUARTER_MS;
      const [b, c] = [a + QUARTER_MS, a + 2 * QUARTER_MS];
      await accept(owner, 'MarketPrices', {
        context,
        fromMs: a,
        localEur: ['0.15', '0.15', '0.15'],
        supplyEur: ['0.3', '0.3', '0.3'],
        feedInEur: ['0.05', '0.05', '0.05'],
      });
      const reading = async (key: PrivateKey, amount: string, register: string, endMs: number) =>
        accept(key, 'Energy', {
          context,
          amount,
          register,
          readingMs: endMs,
          sinceMs: endMs - QUARTER_MS,
        });
      await reading(house, '-0.5', '0.5', b);
      await reading(pv, '0.3', '0.3', b);
      await reading(house, '-0.4', '0.9', c);
      await reading(pv, '0.2', '0.5', c);
      const statementsOf = async (periodMs: number): Promise<StatementView[]> =>
        (
          await fetchMarketStatements(client, context, {
            fromMs: periodMs,
            toMs: periodMs + QUARTER_MS,
          })
        ).statements;
      const settled = async (periodMs: number): Promise<StatementView[]> => {
        // The agent settles every ended period within a few of its 5-second rounds.
        for (let i = 0; i < 600; i += 1) {
          const s = await statementsOf(periodMs);
          if (s.length > 0) return s;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(
          `the period starting at ${new Date(periodMs).toISOString()} was not settled`,
        );
      };
      await settled(a);
      await settled(b);
      await link(bert);

      // The grid operator: 0.123 kWh more consumed in A, 0.05 kWh less returned in B.
      const iso = (ms: number): string => new Date(ms).toISOString();
      await writeFile(
        join(dir.path, 'grid.csv'),
        `${GRID_ID},${iso(a)},0.623,0.3\n${GRID_ID},${iso(b)},0.4,0.15\n`,
      );
      await writeFile(
        join(dir.path, 'meters.json'),
        JSON.stringify({
          meters: [
            {
              equipmentId: 'E9900000000000077',
              gridId: GRID_ID,
              producerAddress: pv.address,
              consumerAddress: house.address,
            },
          ],
        }),
      );
      const ownerKeyFile = join(dir.path, 'owner.json');
      await writeFile(
        ownerKeyFile,
        JSON.stringify({
          privateKey: owner.toWIF(),
          publicKey: toHex(owner.publicKey),
          address: owner.address,
        }),
        { mode: 0o600 },
      );
      const args = [
        '--url',
        p.url,
        'reconcile',
        '--context',
        context,
        '--csv',
        join(dir.path, 'grid.csv'),
        '--meters',
        join(dir.path, 'meters.json'),
        '--price-eur-per-kwh',
        '0.3',
        '--settle',
        '--signing-keyfile',
        ownerKeyFile,
      ];
      const first = await runCli(args, { timeoutMs: 60_000 });
      assert.equal(first.code, 0, first.stderr);
      const r1 = JSON.parse(first.stdout) as ReconcileReport;
      assert.deepEqual(
        r1.settlement?.transactions.map((t) => [
          t.intervalStartUtc,
          t.direction,
          t.amountKwh,
          t.trader,
          t.periodStartMs,
          t.status,
        ]),
        [
          [iso(a), 'delivered', '0.123', anna.address, a, 'settled'],
          [iso(b), 'returned', '-0.05', anna.address, b, 'settled'],
        ],
      );
      const tx = await client.getTransaction(r1.settlement?.transactions[0]?.txId ?? '');
      assert.equal(tx.contractType, 'MarketCorrection');

      // The next settlement (of C, where bert's meter booked energy) settles the corrections.
      await reading(house, '-0.1', '1', c + QUARTER_MS);
      const later = await settled(c);
      const annaC = later.find((s) => s.trader === anna.address);
      assert.ok(annaC !== undefined, 'anna has a statement for C: her corrections');
      // 0.123 kWh more consumed at the supply price 0.30 and 0.05 kWh less produced at the feed-in
      // price 0.05: anna owes 0.0369 + 0.0025 EUR.
      assert.deepEqual(
        [
          annaC.consumedKwh,
          annaC.correctedKwh,
          annaC.correctionKwh,
          annaC.correctionEur,
          annaC.dueEur,
        ],
        ['0', '-0.173', '0.173', '0.0394', '0.0394'],
      );
      const bertC = later.find((s) => s.trader === bert.address);
      assert.deepEqual([bertC?.consumedKwh, bertC?.correctedKwh], ['0.1', '0']);

      // A second run sends the same ids: nothing is booked twice.
      const second = await runCli(args, { timeoutMs: 60_000 });
      assert.equal(second.code, 0, second.stderr);
      const r2 = JSON.parse(second.stdout) as ReconcileReport;
      assert.equal(r2.settlement?.settled, 0);
      assert.equal(r2.settlement?.alreadySettled, 2);
      assert.deepEqual(
        r2.settlement?.transactions.map((t) => t.txId),
        r1.settlement?.transactions.map((t) => t.txId),
      );
      const registrations = await getJson<{ registrations: { trader: string }[] }>(
        `${p.url}/api/energy/contexts/${context}/devices/${house.address}/registrations`,
      );
      assert.deepEqual(
        registrations.body.registrations.map((r) => r.trader),
        [anna.address, bert.address],
      );
      const all = await fetchMarketStatements(client, context, {});
      assert.equal(all.totals.correctedKwh, '-0.173', 'the corrections were settled once');
    } finally {
      client.close();
      await stopProcess(p);
      await database.drop();
      await dir.remove();
    }
  });
}
