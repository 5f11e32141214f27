// The processor's settings and their defaults, in a module of their own so that the CLI can show
// them without loading the processor.

/** How often a block is produced when transactions are waiting, ms. */
export const DEFAULT_BLOCK_INTERVAL_MS = 1000;

/**
 * The most transactions in one block. Blocks this size take about a second to execute on this
 * machine (docs/benchmark.md); with more waiting, the next block follows at once, and the block
 * loop commits one block while it executes the next.
 */
export const DEFAULT_BLOCK_TXS_MAX = 2000;

export interface ProcessorConfig {
  /** How often a block is produced when transactions are waiting. Default 1000. */
  readonly blockIntervalMs: number;
  readonly txsPerBlockMax: number;
  readonly pendingMax: number;
  /** Invalid transactions remembered for status queries (they are never in a block). */
  readonly invalidRememberedMax: number;
}

export const DEFAULT_PROCESSOR_CONFIG: ProcessorConfig = {
  blockIntervalMs: DEFAULT_BLOCK_INTERVAL_MS,
  txsPerBlockMax: DEFAULT_BLOCK_TXS_MAX,
  pendingMax: 200_000,
  invalidRememberedMax: 100_000,
};

/** Backoff after failed blocks: 250 ms doubling to at most 30 s. */
export function backoffMs(consecutiveFailures: number): number {
  return consecutiveFailures > 0
    ? Math.min(30_000, 250 * 2 ** Math.min(consecutiveFailures, 7))
    : 0;
}
