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

// The services' options are defined where they are used; the type import is erased at run time,
// so the CLI still loads no processor code until `processor start` runs.
import type { ProcessorStartOptions } from '../app/start-processor.js';
import type { NodeStartOptions } from '../app/start-node.js';
export type { NodeStartOptions, ProcessorStartOptions };

export type RunProcessor = (options: ProcessorStartOptions) => Promise<unknown>;
export type RunNode = (options: NodeStartOptions) => Promise<unknown>;
