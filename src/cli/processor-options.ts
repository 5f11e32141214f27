// The options `hanzenet processor start` and `hanzenet node start` hand to the modules that run
// them. The CLI imports those modules only when the command runs (so `hanzenet key generate` does
// not load PGlite or QuickJS):
//
//   processor start -> import('../processor/main.js'), then `await runProcessor(options)`
//   node start      -> import('../node/main.js'),      then `await runNode(options)`
//
// Contract with those modules: the function starts the service and resolves once it is serving
// (or when it has stopped); it prints its own startup report (JSON on stdout) and handles
// SIGINT/SIGTERM itself. The CLI prints nothing after it resolves and does not call
// process.exit, so the process lives as long as the service holds its sockets open. When the
// promise rejects, the CLI prints the error as JSON on stderr and exits with code 1 (a ChainError's
// code is kept).

export interface ProcessorStartOptions {
  /** TCP port of the HTTP/WebSocket API (--port, HANZENET_PORT; default 8080). */
  readonly port: number;
  /** Interface to listen on (--host; default 127.0.0.1). */
  readonly host: string;
  /** Absolute path of the data directory: PGlite files, key file (--data-dir, HANZENET_DATA_DIR; default ./data). */
  readonly dataDir: string;
  /** PostgreSQL connection URL (--database-url, DATABASE_URL); absent = embedded PGlite in dataDir. */
  readonly databaseUrl?: string;
  /** Block interval in ms (--block-interval-ms, HANZENET_BLOCK_INTERVAL_MS; default 1000). */
  readonly blockIntervalMs: number;
  /** Chain id for a new chain (--chain-id); absent = the processor's default. Ignored for an existing chain. */
  readonly chainId?: string;
  /** Absolute path of the processor key file (--key-file; default <dataDir>/processor.key). */
  readonly keyFile: string;
  /** Install the energy contracts when creating a new chain (false with --no-energy). */
  readonly energy: boolean;
}

export interface NodeStartOptions {
  /** Base URL of the processor to mirror (--follow, HANZENET_FOLLOW; default http://127.0.0.1:8080). */
  readonly follow: string;
  /** TCP port of the node's own API (--port, HANZENET_PORT; default 8081). */
  readonly port: number;
  /** Interface to listen on (--host; default 127.0.0.1). */
  readonly host: string;
  /** Absolute path of the data directory (--data-dir, HANZENET_DATA_DIR; default ./data-node). */
  readonly dataDir: string;
  /** PostgreSQL connection URL (--database-url, DATABASE_URL); absent = embedded PGlite in dataDir. */
  readonly databaseUrl?: string;
}

export type RunProcessor = (options: ProcessorStartOptions) => Promise<unknown>;
export type RunNode = (options: NodeStartOptions) => Promise<unknown>;
