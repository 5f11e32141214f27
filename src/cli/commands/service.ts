// `hanzenet processor start` and `hanzenet node start`: parse the options, then load the module
// that runs the service (see processor-options.ts for the contract with it).

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { ClientError } from '../../client/errors.js';
import { intOption, portOption } from '../context.js';
import type { NodeStartOptions, ProcessorStartOptions } from '../processor-options.js';

interface ProcessorCliOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly blockIntervalMs: number;
  readonly chainId?: string;
  readonly keyFile?: string;
  readonly energy: boolean;
}

interface NodeCliOptions {
  readonly follow: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
}

export function processorStartOptions(o: ProcessorCliOptions): ProcessorStartOptions {
  const dataDir = resolve(o.dataDir);
  const keyFile = o.keyFile === undefined ? resolve(dataDir, 'processor.key') : resolve(o.keyFile);
  const base = { port: o.port, host: o.host, dataDir, blockIntervalMs: o.blockIntervalMs, keyFile, energy: o.energy };
  return { ...base, ...given('databaseUrl', o.databaseUrl), ...given('chainId', o.chainId) };
}

export function nodeStartOptions(o: NodeCliOptions): NodeStartOptions {
  const base = { follow: o.follow, port: o.port, host: o.host, dataDir: resolve(o.dataDir) };
  return { ...base, ...given('databaseUrl', o.databaseUrl) };
}

/** `{[name]: value}` when the value was given and is not empty, else `{}` (the field stays absent). */
function given<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [name]: value } as Record<K, string>);
}

/** Loads `relativePath` (next to the CLI's folder) and returns its exported function `name`. */
async function loadRunner<T>(relativePath: string, name: string): Promise<(options: T) => Promise<unknown>> {
  const url = new URL(relativePath, import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(fileURLToPath(url));
    if (!missing) throw err;
    throw new ClientError('internal', `this build has no ${relativePath} (looked for ${url})`, { module: relativePath }, null, { cause: err });
  }
  const run = mod[name];
  if (typeof run !== 'function') {
    throw new ClientError('internal', `${relativePath} does not export a function ${name}`, { module: relativePath });
  }
  return run as (options: T) => Promise<unknown>;
}

export function register(program: Command): void {
  program
    .command('processor')
    .description('the processor')
    .command('start')
    .description('start the processor and its API (creates the chain on first start)')
    .addOption(new Option('--port <port>', 'API port').env('HANZENET_PORT').argParser(portOption).default(8080))
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(new Option('--data-dir <dir>', 'data directory').env('HANZENET_DATA_DIR').default('./data'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL instead of the embedded database').env('DATABASE_URL'))
    .addOption(new Option('--block-interval-ms <ms>', 'block interval').env('HANZENET_BLOCK_INTERVAL_MS').argParser(intOption(1)).default(1000))
    .addOption(new Option('--chain-id <id>', 'chain id of a new chain (ignored when the chain exists)'))
    .addOption(new Option('--key-file <file>', 'processor key file (default <data-dir>/processor.key)'))
    .addOption(new Option('--no-energy', 'do not install the energy contracts on a new chain'))
    .action(async (opts: ProcessorCliOptions) => {
      // Loaded only now, so that other commands do not load the database and the sandbox.
      const { runProcessor } = await import('../../processor/main.js');
      await runProcessor(processorStartOptions(opts));
    });

  program
    .command('node')
    .description('a mirror node')
    .command('start')
    .description('start a mirror node that follows a processor')
    .addOption(new Option('--follow <url>', 'URL of the processor to mirror').env('HANZENET_FOLLOW').default('http://127.0.0.1:8080'))
    .addOption(new Option('--port <port>', 'API port of this node').env('HANZENET_PORT').argParser(portOption).default(8081))
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(new Option('--data-dir <dir>', 'data directory').env('HANZENET_DATA_DIR').default('./data-node'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL instead of the embedded database').env('DATABASE_URL'))
    .action(async (opts: NodeCliOptions) => {
      const run = await loadRunner<NodeStartOptions>('../../node/main.js', 'runNode');
      await run(nodeStartOptions(opts));
    });
}
