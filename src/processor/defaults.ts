// Defaults of the processor's settings, in a module of their own so that the CLI can show them
// without loading the processor.

/** How often a block is produced when transactions are waiting, ms. */
export const DEFAULT_BLOCK_INTERVAL_MS = 1000;

/**
 * The most transactions in one block. Blocks this size take about a second to execute on this
 * machine (docs/benchmark.md); with more waiting, the next block follows at once, and the block
 * loop commits one block while it executes the next.
 */
export const DEFAULT_BLOCK_TXS_MAX = 2000;
