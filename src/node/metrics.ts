// The mirror node's metrics in the Prometheus text format (served at GET /metrics).

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

interface Metric {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly value: number;
}

export function renderMetrics(m: NodeMetrics): string {
  const lagBlocks =
    m.upstreamHeight < 0 || m.headHeight < 0 ? 0 : Math.max(0, m.upstreamHeight - m.headHeight);
  const headAgeSeconds = m.headHeight < 0 ? 0 : Math.max(0, (m.nowMs - m.headProcessedMs) / 1000);
  const metrics: Metric[] = [
    {
      name: 'hanzenet_node_head_height',
      type: 'gauge',
      help: 'Height of the last block this node verified and stored (-1 before genesis).',
      value: m.headHeight,
    },
    {
      name: 'hanzenet_node_blocks_verified_total',
      type: 'counter',
      help: 'Blocks verified and stored since this process started.',
      value: m.blocksVerified,
    },
    {
      name: 'hanzenet_node_transactions_verified_total',
      type: 'counter',
      help: 'Transactions verified (signature, id, valid-till, re-executed outcome) since this process started.',
      value: m.transactionsVerified,
    },
    {
      name: 'hanzenet_node_upstream_head_height',
      type: 'gauge',
      help: 'Highest block height the upstream announced (-1 when not known yet).',
      value: m.upstreamHeight,
    },
    {
      name: 'hanzenet_node_lag_blocks',
      type: 'gauge',
      help: 'Blocks the upstream has announced that this node has not verified yet.',
      value: lagBlocks,
    },
    {
      name: 'hanzenet_node_head_age_seconds',
      type: 'gauge',
      help: 'Seconds since the processor produced the last verified block.',
      value: headAgeSeconds,
    },
    {
      name: 'hanzenet_node_upstream_connected',
      type: 'gauge',
      help: '1 while the live block feed of the upstream is connected.',
      value: m.upstreamConnected ? 1 : 0,
    },
    {
      name: 'hanzenet_node_reconnects_total',
      type: 'counter',
      help: 'Times the node lost the upstream and connected again.',
      value: m.reconnects,
    },
    {
      name: 'hanzenet_node_alarm',
      type: 'gauge',
      help: '1 when a check failed and the node stopped applying blocks (see GET /api/info, field alarm).',
      value: m.alarm ? 1 : 0,
    },
    {
      name: 'hanzenet_node_alarm_height',
      type: 'gauge',
      help: 'Height of the block that raised the alarm (-1 without alarm).',
      value: m.alarmHeight,
    },
  ];
  return metrics
    .map(
      (x) =>
        `# HELP ${x.name} ${x.help}\n# TYPE ${x.name} ${x.type}\n${x.name} ${formatValue(x.value)}\n`,
    )
    .join('');
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
