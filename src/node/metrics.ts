// The mirror node's own metrics, next to the ones every ledger role has (src/ledger/metrics.ts):
// what it verified, how far it is behind its upstream, and its alarm. Read at every scrape of
// GET /metrics from the node's counters.

import type { LedgerMetrics } from '../ledger/metrics.js';

export interface NodeMetrics {
  /** Height of the last verified block; -1 before genesis. */
  readonly headHeight: number;
  /** processedMs of that block; 0 before genesis. */
  readonly headProcessedMs: number;
  readonly blocksVerified: number;
  readonly transactionsVerified: number;
  /** Highest height the upstream has announced (its head as last seen); -1 when unknown. */
  readonly upstreamHeight: number;
  readonly upstreamConnected: boolean;
  readonly reconnects: number;
  readonly alarm: boolean;
  /** Height of the block that raised the alarm; -1 without alarm. */
  readonly alarmHeight: number;
  readonly nowMs: number;
}

export function registerNodeMetrics(metrics: LedgerMetrics, read: () => NodeMetrics): void {
  metrics.gauge(
    'hanzenet_node_head_height',
    'Height of the last block this node verified and stored (-1 before genesis).',
    () => read().headHeight,
  );
  metrics.counter(
    'hanzenet_node_blocks_verified_total',
    'Blocks verified and stored since this process started.',
    () => read().blocksVerified,
  );
  metrics.counter(
    'hanzenet_node_transactions_verified_total',
    'Transactions verified (signature, id, valid-till, re-executed outcome) since this process started.',
    () => read().transactionsVerified,
  );
  metrics.gauge(
    'hanzenet_node_upstream_head_height',
    'Highest block height the upstream announced (-1 when not known yet).',
    () => read().upstreamHeight,
  );
  metrics.gauge(
    'hanzenet_node_lag_blocks',
    'Blocks the upstream has announced that this node has not verified yet.',
    () => {
      const m = read();
      return m.upstreamHeight < 0 || m.headHeight < 0
        ? 0
        : Math.max(0, m.upstreamHeight - m.headHeight);
    },
  );
  metrics.gauge(
    'hanzenet_node_head_age_seconds',
    'Seconds since the processor produced the last verified block.',
    () => {
      const m = read();
      return m.headHeight < 0 ? 0 : Math.max(0, (m.nowMs - m.headProcessedMs) / 1000);
    },
  );
  metrics.gauge(
    'hanzenet_node_upstream_connected',
    '1 while the live block feed of the upstream is connected.',
    () => (read().upstreamConnected ? 1 : 0),
  );
  metrics.counter(
    'hanzenet_node_reconnects_total',
    'Times the node lost the upstream and connected again.',
    () => read().reconnects,
  );
  metrics.gauge(
    'hanzenet_node_alarm',
    '1 when a check failed and the node stopped applying blocks (see GET /api/info, field alarm).',
    () => (read().alarm ? 1 : 0),
  );
  metrics.gauge(
    'hanzenet_node_alarm_height',
    'Height of the block that raised the alarm (-1 without alarm).',
    () => read().alarmHeight,
  );
}
