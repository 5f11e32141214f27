// The metrics every ledger role serves: transactions by final status and contract type, blocks,
// execute and commit time histograms, gauges and counters read at scrape time; one registry per
// role, so two roles in one process never mix their figures.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TxView } from '../src/chain/views.js';
import { LedgerMetrics } from '../src/ledger/metrics.js';

function view(status: TxView['status'], contractType: string | null): TxView {
  return { status, contractType } as TxView;
}

function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

test('transactions are counted by status and contract type; blocks and their times observed', async () => {
  let head = 4;
  const m = new LedgerMetrics(() => head);
  m.txFinal(view('accepted', 'Energy'));
  m.txFinal(view('accepted', 'Energy'));
  m.txFinal(view('rejected', 'Transfer'));
  m.txFinal(view('invalid', null));
  m.blockCommitted(12, 30);
  m.blockCommitted(null, 2500);
  m.blockCommitted(5, null);
  head = 6;
  const text = await m.render();
  assert.equal(
    seriesValue(text, 'hanzenet_transactions_total{status="accepted",contract_type="Energy"}'),
    2,
  );
  assert.equal(
    seriesValue(text, 'hanzenet_transactions_total{status="rejected",contract_type="Transfer"}'),
    1,
  );
  assert.equal(
    seriesValue(text, 'hanzenet_transactions_total{status="invalid",contract_type="unknown"}'),
    1,
  );
  assert.equal(seriesValue(text, 'hanzenet_blocks_total'), 3);
  assert.equal(seriesValue(text, 'hanzenet_head_height'), 6);
  assert.equal(seriesValue(text, 'hanzenet_block_execute_seconds_count'), 2);
  assert.equal(seriesValue(text, 'hanzenet_block_execute_seconds_sum'), 0.017);
  assert.equal(seriesValue(text, 'hanzenet_block_execute_seconds_bucket{le="0.01"}'), 1);
  assert.equal(seriesValue(text, 'hanzenet_block_commit_seconds_count'), 2);
  assert.equal(seriesValue(text, 'hanzenet_block_commit_seconds_bucket{le="2.5"}'), 2);
  assert.equal(seriesValue(text, 'hanzenet_block_commit_seconds_bucket{le="1"}'), 1);
});

test('role gauges and counters are read at every scrape; registries do not mix', async () => {
  const a = new LedgerMetrics(() => 1);
  const b = new LedgerMetrics(() => 2);
  let queue = 3;
  let reconnects = 0;
  a.gauge('hanzenet_admission_queue_length', 'queue', () => queue);
  a.counter('hanzenet_node_reconnects_total', 'reconnects', () => reconnects);
  assert.equal(seriesValue(await a.render(), 'hanzenet_admission_queue_length'), 3);
  queue = 0;
  reconnects = 5;
  const text = await a.render();
  assert.equal(seriesValue(text, 'hanzenet_admission_queue_length'), 0);
  assert.equal(seriesValue(text, 'hanzenet_node_reconnects_total'), 5);
  assert.match(text, /# TYPE hanzenet_node_reconnects_total counter/);
  const other = await b.render();
  assert.equal(seriesValue(other, 'hanzenet_head_height'), 2);
  assert.doesNotMatch(other, /hanzenet_admission_queue_length/);
});

test('process metrics are added once, on request', async () => {
  const m = new LedgerMetrics(() => 0);
  assert.doesNotMatch(await m.render(), /process_cpu_user_seconds_total/);
  m.collectProcessMetrics();
  m.collectProcessMetrics();
  const text = await m.render();
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
});
