// The settlement agent's rounds, with the due periods and the outcomes given: it settles oldest
// first, and since periods of a context settle in order, a period that cannot be settled (no
// prices, or a rejection) holds back that context's later periods for the round, while other
// contexts go on. The agent against a real processor is in test/e2e-settlement-agent.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../src/ledger/log.js';
import type { Logger } from '../src/ledger/log.js';
import { SettlementAgent } from '../src/market/settlement-agent.js';
import { SimScheduler } from '../src/sim/scheduler.js';
import type { QueryResult, Sql } from '../src/store/types.js';

interface Due {
  readonly context: string;
  readonly start: number;
  readonly prices: boolean;
}

/** A database that answers the agent's one query with these periods. */
function dueSql(periods: readonly Due[]): Sql {
  return {
    async query<R>(): Promise<QueryResult<R>> {
      const rows = periods.map((p) => ({
        context: p.context,
        start_ms: String(p.start),
        has_prices: p.prices,
      }));
      return { rows: rows as R[] };
    },
  };
}

function recordingLog(warnings: string[]): Logger {
  return {
    ...silentLogger,
    warn: (msg: string, fields?: Record<string, unknown>) =>
      warnings.push(`${msg} ${fields?.['context']}@${fields?.['periodStartMs']}`),
  };
}

test('a period that cannot be settled holds back the later periods of its context only', async () => {
  const due: Due[] = [
    { context: 'A', start: 1, prices: false },
    { context: 'B', start: 1, prices: true },
    { context: 'C', start: 1, prices: true },
    { context: 'A', start: 2, prices: true },
    { context: 'B', start: 2, prices: true },
    { context: 'C', start: 2, prices: true },
  ];
  const sent: string[] = [];
  const warnings: string[] = [];
  const agent = new SettlementAgent(
    dueSql(due),
    {
      async settle(context, periodStartMs) {
        sent.push(`${context}@${periodStartMs}`);
        // C's first period is refused (say its prices were withdrawn): C@2 must wait.
        return context === 'C'
          ? { status: 'rejected', code: 'prices_missing' }
          : { status: 'accepted' };
      },
    },
    new SimScheduler(0),
    recordingLog(warnings),
  );
  // Started on a simulated clock that never advances: only the rounds called here run.
  agent.start();
  assert.equal(await agent.round(), 2);
  assert.deepEqual(sent, ['B@1', 'C@1', 'B@2']);
  assert.deepEqual(warnings, [
    'a market period cannot be settled: its owner has set no prices A@1',
    'a market period was not settled C@1',
  ]);
  // The next round reports A's missing prices no more.
  sent.length = 0;
  await agent.round();
  assert.equal(warnings.filter((w) => w.endsWith('A@1')).length, 1);
  await agent.stop();
});

test('a period settled by someone else first does not hold back the next one', async () => {
  const sent: string[] = [];
  const agent = new SettlementAgent(
    dueSql([
      { context: 'A', start: 1, prices: true },
      { context: 'A', start: 2, prices: true },
    ]),
    {
      async settle(context, periodStartMs) {
        sent.push(`${context}@${periodStartMs}`);
        return periodStartMs === 1
          ? { status: 'rejected', code: 'period_already_settled' }
          : { status: 'accepted' };
      },
    },
    new SimScheduler(0),
    silentLogger,
  );
  agent.start();
  assert.equal(await agent.round(), 1);
  assert.deepEqual(sent, ['A@1', 'A@2']);
  await agent.stop();
});
