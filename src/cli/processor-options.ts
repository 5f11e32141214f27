// The options `hanzenet processor start` and `hanzenet node start` hand to the modules that run
// them. The CLI imports those modules only when the command runs (so `hanzenet key generate` does
// not load PGlite or QuickJS):
//
//   processor start -> import('../app/start-processor.js'), then `await runProcessor(options)`
//   node start      -> import('../app/start-node.js'),      then `await runNode(options)`
//
// Contract with those modules: the function starts the service and resolves once it is serving
// (or when it has stopped); it prints its own startup report (JSON on stdout) and handles
// SIGINT/SIGTERM itself. The CLI prints nothing after it resolves and does not call
// process.exit, so the process lives as long as the service holds its sockets open. When the
// promise rejects, the CLI prints the error as JSON on stderr and exits with code 1 (a ChainError's
// code is kept).

// The processor's options are defined where they are used; the type import is erased at run time,
// so the CLI still loads no processor code until `processor start` runs.
import type { ProcessorStartOptions } from '../app/start-processor.js';
export type { ProcessorStartOptions };

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
  /**
   * The processor address block 0 must name (--processor-address, HANZENET_PROCESSOR_ADDRESS);
   * absent = the address block 0 names is pinned on first start.
   */
  readonly processorAddress?: string;
  /** Exit (code 3) as soon as an alarm is raised (--exit-on-alarm); default: keep serving reads. */
  readonly exitOnAlarm?: boolean;
  /** How long to wait for an unreachable PostgreSQL server at start (--database-wait-ms). */
  readonly databaseWaitMs?: number;
}

export type RunProcessor = (options: ProcessorStartOptions) => Promise<unknown>;
export type RunNode = (options: NodeStartOptions) => Promise<unknown>;
