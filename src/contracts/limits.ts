// Limits of contract execution. Every node of a chain must use the same values: they decide
// outcomes, so they are part of the protocol (docs/contract-api.md, "Limits"). Shared by the
// runtime, which enforces them, and by authoring and payload checks, which refuse what would
// exceed them.

/** Limits that decide outcomes: every node of a chain must use the same values. */
export interface ExecutionLimits {
  /** QuickJS interrupts (about 10,000 operations each) one transaction may use. */
  readonly gasInterruptsPerTx: number;
  /** Memory limit of the QuickJS runtime of one block (all contracts together). */
  readonly memoryBytesPerBlock: number;
}

export const DEFAULT_EXECUTION_LIMITS: ExecutionLimits = {
  gasInterruptsPerTx: 200,
  memoryBytesPerBlock: 64 * 1024 * 1024,
};

/**
 * The larger budget of a contract whose manifest asks for `"budget": "settlement"`: one
 * transaction that settles a whole market period (up to 10,000 orders and their traders; decision
 * 0011). Part of the protocol like the limits below; only the processor creates contracts, so
 * which contracts get it is the chain operator's decision, visible in each contract's manifest.
 */
export const SETTLEMENT_BUDGET = {
  /** gasInterruptsPerTx is multiplied by this. */
  gasFactor: 100,
  dbCallsPerTx: 100_000,
} as const;

/** Fixed limits of the contract runtime (docs/contract-api.md, "Limits"). Part of the protocol. */
export const CONTRACT_LIMITS = {
  /** QuickJS stack limit. Small enough that QuickJS, not V8, notices deep recursion first. */
  stackBytes: 64 * 1024,
  /** ctx.db calls per transaction. */
  dbCallsPerTx: 10_000,
  /** Rows ctx.db.find may return to one transaction in total. */
  findRowsPerTx: 100_000,
  findLimitDefault: 1000,
  findLimitMax: 10_000,
  /** Bytes of one row as JSON (bigint as decimal strings). */
  rowBytesMax: 64 * 1024,
  /** Nesting depth of json column values, keys and payload values. */
  jsonDepthMax: 64,
  /** UTF-8 bytes of a reject message (longer ones are cut). */
  messageBytesMax: 1024,
  /** Characters of a thrown error's message kept in the outcome. */
  errorMessageCharsMax: 200,
} as const;
