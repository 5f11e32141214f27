// End-to-end: a real mirror node process follows a real processor process whose settlement agent
// settles market periods (one-minute periods, gate closure 0): two periods that ended before the
// test began (community allocation and external settlement), late energy for the first of them,
// and the current period, cleared by the double auction with labels. The node re-executes every
// settlement, raises no alarm, and its API answers market statements and figures exactly as the
// processor's does, for every grouping asked. On PGlite, and on PostgreSQL when DATABASE_URL is
// set.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PrivateKey } from '../src/core/keys.js';
import type { StatementsView } from '../src/energy/market-statements.js';
import { contextSender } from './support/context-sender.js';
import { infoOf, metricOf, untilHead } from './support/node-e2e.js';
import {
  e2eBackends,
  getJson,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedNode, StartedProcessor } from './support/processes.js';

const MINUTE_MS = 60_000;

/** Polls the processor's statements until the period starting at `startMs` has some. */
async function untilSettled(p: StartedProcessor, context: string, startMs: number): Promise<void> {
  const url = `${p.url}/api/energy/contexts/${context}/market/statements?from=${startMs}`;
  const deadline = Date.now() + 150_000;
  for (;;) {
    const body = (await getJson<StatementsView>(url)).body;
    if (body.statements.some((s) => s.periodStartMs === startMs)) return;
    assert.ok(Date.now() < deadline, `the period starting at ${startMs} was not settled in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Most of each test is waiting for the current minute to end: the backends run side by side.
describe('a mirror node and market settlements', { concurrency: true }, () => {
  for (const backend of e2eBackends({ one: 'pglite' })) {
    test(`[${backend.name}] a mirror node follows settled market periods and answers the same statements and figures`, {
      timeout: 240_000,
    }, async () => {
      const dir = await tempDir('node-market');
      const [dbP, dbN] = await Promise.all([backend.databaseUrl(), backend.databaseUrl()]);
      const running: (StartedProcessor | StartedNode)[] = [];
      try {
        const p = await startProcessorProcess({
          dataDir: `${dir.path}/p`,
          databaseUrl: dbP.url,
          blockIntervalMs: 100,
        });
        running.push(p);
        const n = await startNodeProcess({
          follow: p.url,
          dataDir: `${dir.path}/n`,
          databaseUrl: dbN.url,
        });
        running.push(n);
        const owner = PrivateKey.generate();
        const context = owner.address;
        const send = await contextSender(p, context);
        const [anna, bert, carl, annaSolar, bertHouse, carlHouse, carlLate] = Array.from(
          { length: 7 },
          () => PrivateKey.generate(),
        ) as [PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey];
        for (const trader of [anna, bert, carl])
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
        await send(owner, 'Consumer', {
          address: carlHouse.address,
          allowed: true,
          trader: carl.address,
          labels: ['solar'],
        });
        await send(owner, 'Consumer', {
          address: carlLate.address,
          allowed: true,
          trader: carl.address,
          labels: [],
        });
        await send(owner, 'Market', {
          on: true,
          periodSeconds: 60,
          gateClosureSeconds: 0,
          auction: true,
        });
        // The auction's period: the current minute, or the next when more than half of it is gone.
        const nowMs = Date.now();
        const current =
          Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + (nowMs % MINUTE_MS > 30_000 ? MINUTE_MS : 0);
        const [past1, past2] = [current - 3 * MINUTE_MS, current - 2 * MINUTE_MS];
        await send(owner, 'MarketPrices', {
          fromMs: past1,
          localEur: ['0.15', '0.16', '0.17', '0.18'],
          supplyEur: ['0.3', '0.31', '0.32', '0.33'],
          feedInEur: ['0.05', '0.06', '0.07', '0.08'],
        });
        // Two past periods, settled by the agent as soon as they have energy (bert's second reading
        // spans both).
        await send(annaSolar, 'Energy', { amount: '2', register: '2', readingMs: past1 + 59_000 });
        await send(bertHouse, 'Energy', {
          amount: '-0.5',
          register: '0.5',
          readingMs: past1 + 59_000,
        });
        await send(bertHouse, 'Energy', {
          amount: '-1.25',
          register: '1.75',
          readingMs: past2 + 30_000,
        });
        // The auction's period: orders, then readings dated in it (a meter may be up to an hour ahead).
        await send(anna, 'Order', { side: 'sell', priceEur: '0.1', labels: [], fromMs: current });
        await send(bert, 'Order', { side: 'buy', priceEur: '0.2', labels: [], fromMs: current });
        await send(carl, 'Order', {
          side: 'buy',
          priceEur: '0.25',
          amount: '0.3',
          labels: ['solar'],
          fromMs: current,
        });
        await send(annaSolar, 'Energy', {
          amount: '1',
          register: '3',
          readingMs: current + 59_000,
          sinceMs: current,
        });
        await send(bertHouse, 'Energy', {
          amount: '-0.5',
          register: '2.25',
          readingMs: current + 59_000,
          sinceMs: current,
        });
        await send(carlHouse, 'Energy', {
          amount: '-0.4',
          register: '0.4',
          readingMs: current + 59_000,
        });
        // Carl's offline meter comes back with a reading of the first period after it was settled:
        // late energy, settled with the auction's period.
        await untilSettled(p, context, past2);
        await send(carlLate, 'Energy', {
          amount: '-0.4',
          register: '0.4',
          readingMs: past1 + 50_000,
        });
        await untilSettled(p, context, current);

        const head = (await infoOf(p.url)).head?.height ?? 0;
        await untilHead(n.url, head, 60_000, n.stderr);
        assert.equal(await metricOf(n.url, 'hanzenet_node_alarm'), 0, 'the node raised no alarm');
        const base = (url: string): string => `${url}/api/energy/contexts/${context}/market`;
        const statements = (await getJson<StatementsView>(`${base(p.url)}/statements`)).body;
        // The chain is worth comparing: three settled periods, auction trades and late energy in it.
        const at = (startMs: number, trader: PrivateKey) =>
          statements.statements.find(
            (s) => s.periodStartMs === startMs && s.trader === trader.address,
          );
        assert.deepEqual([...new Set(statements.statements.map((s) => s.periodStartMs))].sort(), [
          past1,
          past2,
          current,
        ]);
        // Carl's solar bid takes 0.3 kWh of anna's 1 kWh, bert's bid 0.5 kWh; the allocation gives
        // carl the 0.1 kWh of solar his bid left out. Carl's 0.4 kWh of the first period came late.
        assert.deepEqual(
          [at(current, carl)?.boughtKwh, at(current, bert)?.boughtKwh, at(current, carl)?.lateKwh],
          ['0.4', '0.5', '-0.4'],
        );
        for (const query of [
          'statements',
          `statements?trader=${carl.address}`,
          `statements?from=${past2}&to=${current + MINUTE_MS}`,
          'statements?group=day&tz=Europe/Amsterdam',
          'statements?group=month',
          'figures',
          'figures?group=day&tz=Europe/Amsterdam',
          'figures?group=month&limit=1',
        ]) {
          const [mine, theirs] = await Promise.all([
            getJson(`${base(p.url)}/${query}`),
            getJson(`${base(n.url)}/${query}`),
          ]);
          assert.equal(mine.status, 200, `${query}: ${JSON.stringify(mine.body)}`);
          assert.deepEqual(
            [theirs.status, theirs.body],
            [mine.status, mine.body],
            `the node answers ${query} as the processor does`,
          );
        }
        assert.equal((await infoOf(n.url)).alarm ?? null, null);
      } finally {
        for (const r of running.reverse()) await stopProcess(r);
        await dir.remove();
        await dbP.drop();
        await dbN.drop();
      }
    });
  }
});
