// The metrics of a ledger role (processor or mirror node), on prom-client, served at GET /metrics
// in the Prometheus text format. Each role has its own registry (several can run in one process,
// as in tests and the simulator). What every role has: the head, blocks and transactions by final
// status and contract type, block execute and commit times. The role adds its own gauges (the
// processor its admission queue, the node its lag and alarm) with `gauge`, read at scrape time.
// Process and event-loop metrics are added by the composition root (`collectProcessMetrics`), not
// here: a simulated run has no real process to describe. docs/operations.md lists every metric.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TxView } from '../chain/views.js';

/** Seconds: from a millisecond to a minute, for block execute and commit times. */
const BLOCK_SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export class LedgerMetrics {
  readonly registry = new Registry();
  readonly #transactions: Counter<'status' | 'contract_type'>;
  readonly #blocks: Counter;
  readonly #execute: Histogram;
  readonly #commit: Histogram;
  #processMetrics = false;

  constructor(headHeight: () => number) {
    const registers = [this.registry];
    this.#transactions = new Counter({
      name: 'hanzenet_transactions_total',
      help: 'Transactions that became final since start, by status (accepted, rejected, invalid) and contract type.',
      labelNames: ['status', 'contract_type'],
      registers,
    });
    this.#blocks = new Counter({
      name: 'hanzenet_blocks_total',
      help: 'Blocks committed since start.',
      registers,
    });
    this.#execute = new Histogram({
      name: 'hanzenet_block_execute_seconds',
      help: "Time to execute a block's transactions (the processor while the block fills; a node re-executing it).",
      buckets: BLOCK_SECONDS_BUCKETS,
      registers,
    });
    this.#commit = new Histogram({
      name: 'hanzenet_block_commit_seconds',
      help: 'Time to commit a block, its outcomes and state changes in one database transaction.',
      buckets: BLOCK_SECONDS_BUCKETS,
      registers,
    });
    this.gauge(
      'hanzenet_head_height',
      'Height of the last committed block (-1 before genesis).',
      headHeight,
    );
  }

  /** A gauge whose value is read from `read` at every scrape. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A counter whose total is read from `read` at every scrape (the role keeps the count). */
  counter(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** A committed block; `executeMs` null when the role did not time its execution. */
  blockCommitted(executeMs: number | null, commitMs: number | null): void {
    this.#blocks.inc();
    if (executeMs !== null) this.#execute.observe(executeMs / 1000);
    if (commitMs !== null) this.#commit.observe(commitMs / 1000);
  }

  txFinal(view: TxView): void {
    this.#transactions.inc({ status: view.status, contract_type: view.contractType ?? 'unknown' });
  }

  /** Adds the process's CPU, memory, handles and event-loop lag (the real process only). */
  collectProcessMetrics(): void {
    if (this.#processMetrics) return;
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.#processMetrics = true;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
