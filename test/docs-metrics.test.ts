// docs/metrics.md lists every metric the processor and a mirror node register.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LedgerMetrics } from '../src/ledger/metrics.js';
import { registerNodeMetrics } from '../src/node/metrics.js';
import { registerProcessorMetrics } from '../src/processor/metrics.js';

test('docs/metrics.md names every hanzenet_ metric of both roles', async () => {
  const doc = readFileSync('docs/metrics.md', 'utf8');
  const processor = new LedgerMetrics(() => 0);
  registerProcessorMetrics(processor, { size: 0 }, { size: 0 });
  const node = new LedgerMetrics(() => 0);
  registerNodeMetrics(node, () => ({
    headHeight: 0,
    headProcessedMs: 0,
    blocksVerified: 0,
    transactionsVerified: 0,
    upstreamHeight: 0,
    upstreamConnected: true,
    reconnects: 0,
    alarm: false,
    alarmHeight: -1,
    nowMs: 0,
  }));
  const names = new Set<string>();
  for (const m of [processor, node])
    for (const metric of await m.registry.getMetricsAsJSON()) names.add(metric.name);
  assert.ok(names.size >= 15, [...names].join(', '));
  const missing = [...names].filter((name) => !doc.includes(`\`${name}`));
  assert.deepEqual(missing, []);
});
