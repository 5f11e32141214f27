// The gateway's parts on a simulated clock (src/sim/scheduler.ts): report lines and outbox entries
// carry the simulated time, and a source's reconnect backoff waits on simulated time only, so a
// simulation can run the gateway without waiting for the wall clock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrivateKey } from '../src/core/keys.js';
import { MeterRunner } from '../src/meter/gateway/meter.js';
import { GatewayReporter } from '../src/meter/gateway/report.js';
import { createSource } from '../src/meter/gateway/sources.js';
import { emptyState } from '../src/meter/gateway/state.js';
import { SimScheduler } from '../src/sim/scheduler.js';
import { telegramAt } from './support/meter-chain.js';

const Q = 900_000;
const START_MS = Date.UTC(2026, 2, 2, 12, 0, 0);

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i += 1) await sleep(10);
  assert.ok(ok(), `timed out waiting for ${what}`);
}

test('reports and outbox entries carry the simulated time', () => {
  const sim = new SimScheduler(START_MS);
  const context = PrivateKey.generate().address;
  const state = emptyState(context);
  const lines: string[] = [];
  const runner = new MeterRunner(
    {
      config: {
        equipmentId: 'E1',
        gridId: 'E1',
        producerKeyFile: null,
        consumerKeyFile: null,
        producerAddress: null,
        consumerAddress: null,
        maxKw: 17.25,
        source: { type: 'stdin' },
      },
      context,
      producer: 'P',
      consumer: 'C',
      periodMs: Q,
      telegrams: null,
      maxClockSkewMs: 60_000,
      maxAgeMs: 86_400_000,
      // One telegram per quarter hour here, which is not a disconnect.
      disconnectAfterMs: 2 * Q,
      requireCrc: true,
      outboxMax: 100,
      scheduler: sim,
    },
    state,
    new GatewayReporter((l) => lines.push(l), sim),
  );
  runner.feed(telegramAt('E1', START_MS, { d1: 0n, d2: 100n, r1: 0n, r2: 0n }), sim.nowMs());
  sim.advanceTo(START_MS + Q);
  runner.feed(telegramAt('E1', START_MS + Q, { d1: 0n, d2: 150n, r1: 0n, r2: 0n }), sim.nowMs());
  const reports = lines.map((l) => JSON.parse(l) as { ts: string; event: string });
  assert.deepEqual(
    reports.map((r) => [r.event, r.ts]),
    [
      ['baseline', new Date(START_MS).toISOString()],
      ['reading', new Date(START_MS + Q).toISOString()],
    ],
  );
  assert.deepEqual(
    state.outbox.map((e) => [e.amountWh, e.createdMs]),
    [['50', START_MS + Q]],
  );
});

test('a TCP source retries with backoff on the simulated clock', async () => {
  // A port that refuses connections: listen on a free one, then close it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const sim = new SimScheduler(START_MS);
  const failures: [number, number][] = [];
  const stop = new AbortController();
  const source = createSource(
    { type: 'tcp', host: '127.0.0.1', port },
    { initialMs: 1000, maxMs: 4000 },
    sim,
  );
  const running = source.run(
    {
      data: async () => undefined,
      restart: () => undefined,
      connected: () => undefined,
      failed: (_message, retryInMs) => void failures.push([sim.monotonicMs(), retryInMs]),
    },
    stop.signal,
  );
  for (let n = 1; n <= 4; n += 1) {
    await until(`failure ${n}`, () => failures.length === n && sim.pendingCount === 1);
    await sleep(30);
    assert.equal(failures.length, n, 'no retry before the simulated wait is over');
    sim.runNext();
  }
  await until('failure 5', () => failures.length === 5);
  stop.abort();
  await running;
  assert.deepEqual(failures, [
    [0, 1000],
    [1000, 2000],
    [3000, 4000],
    [7000, 4000],
    [11000, 4000],
  ]);
  assert.equal(sim.pendingCount, 0, 'the abort cancelled the last wait');
});
