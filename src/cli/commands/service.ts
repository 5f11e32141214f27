// `hanzenet processor start` and `hanzenet node start`: parse the options, then load the module
// that runs the service (see processor-options.ts for the contract with it).

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from '../../ledger/log-level.js';
import { ClientError } from '../../client/errors.js';
import { MIRRORS_MAX } from '../../client/mirror-health.js';
import { DEFAULT_BLOCK_INTERVAL_MS, DEFAULT_BLOCK_TXS_MAX } from '../../processor/defaults.js';
import { DATABASE_WAIT_MS_DEFAULT } from '../../store/database-start.js';
import { intOption, portOption } from '../context.js';
import { sqlPortCliOption, sqlPortOf } from '../sql-port-option.js';
import type { NodeStartOptions, ProcessorStartOptions } from '../processor-options.js';
import { readNodeConfig, readProcessorConfig, withServiceConfig } from '../service-config.js';

interface ProcessorCliOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly blockIntervalMs: number;
  readonly blockTxsMax: number;
  readonly chainId?: string;
  readonly keyFile?: string;
  readonly energy: boolean;
  readonly settlementAgent: boolean;
  readonly config?: string;
  readonly databaseWaitMs?: number;
  readonly logLevel?: LogLevel;
  readonly logRequests?: boolean;
  readonly sqlPort?: number;
  readonly dashboard: boolean;
  /** From the flag or HANZENET_MIRRORS (parsed), or the config file (an array). */
  readonly mirrors?: readonly string[];
}

interface NodeCliOptions {
  readonly follow: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly processorAddress?: string;
  readonly exitOnAlarm?: boolean;
  readonly config?: string;
  readonly databaseWaitMs?: number;
  readonly logLevel?: LogLevel;
  readonly logRequests?: boolean;
  readonly sqlPort?: number;
  readonly dashboard: boolean;
}

export function processorStartOptions(o: ProcessorCliOptions): ProcessorStartOptions {
  const dataDir = resolve(o.dataDir);
  const keyFile = o.keyFile === undefined ? resolve(dataDir, 'processor.key') : resolve(o.keyFile);
  const base = {
    port: o.port,
    host: o.host,
    dataDir,
    blockIntervalMs: o.blockIntervalMs,
    blockTxsMax: o.blockTxsMax,
    keyFile,
    energy: o.energy,
    settlementAgent: o.settlementAgent,
  };
  // Absent unless given: the service applies its default (DATABASE_WAIT_MS_DEFAULT).
  const wait = o.databaseWaitMs === undefined ? {} : { databaseWaitMs: o.databaseWaitMs };
  return {
    ...base,
    ...wait,
    ...given('databaseUrl', o.databaseUrl),
    ...given('chainId', o.chainId),
    ...(o.mirrors === undefined || o.mirrors.length === 0 ? {} : { mirrors: [...o.mirrors] }),
    ...logOptions(o),
    ...sqlPortOf(o),
    ...noDashboard(o),
  };
}

/** `{dashboard: false}` when turned off; absent otherwise (the service serves it by default). */
function noDashboard(o: { readonly dashboard?: boolean }): { dashboard?: false } {
  return o.dashboard === false ? { dashboard: false } : {};
}

/** `--mirrors a,b`: the mirror nodes' URLs, each http(s), at most MIRRORS_MAX. */
function mirrorsOption(text: string): string[] {
  const urls = text
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of urls)
    if (!/^https?:\/\/[^\s,]+$/.test(url))
      throw new InvalidArgumentError(`expected http:// or https:// URLs, got "${url}"`);
  if (urls.length > MIRRORS_MAX)
    throw new InvalidArgumentError(`at most ${MIRRORS_MAX} mirror nodes, got ${urls.length}`);
  return urls;
}

/** The log settings of a service command (absent ones stay absent: the service has defaults). */
function logOptions(o: { readonly logLevel?: LogLevel; readonly logRequests?: boolean }): {
  logLevel?: LogLevel;
  logRequests?: boolean;
} {
  return {
    ...(o.logLevel !== undefined ? { logLevel: o.logLevel } : {}),
    ...(o.logRequests === true ? { logRequests: true } : {}),
  };
}

/** `--config <file>`, named also by the environment variable `env` (docs/config.md). */
function configOption(env: string): Option {
  return new Option(
    '--config <file>',
    'JSON config file (docs/config.md); flags and environment variables win over it',
  ).env(env);
}

/** `--dashboard` and `--no-dashboard`, the same on both service commands. */
function addDashboardOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--dashboard', 'serve the web dashboard at / (the default)').default(true),
    )
    .addOption(new Option('--no-dashboard', 'do not serve the web dashboard'));
}

/** `--log-level` and `--log-requests`, the same on every service command. */
function addLogOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--log-level <level>', `lowest level logged: ${LOG_LEVELS.join(', ')}`)
        .env('HANZENET_LOG_LEVEL')
        .argParser(logLevelOption),
    )
    .addOption(new Option('--log-requests', 'log every API request and its answer'))
    .addOption(new Option('--no-log-requests', 'do not log each request (the default)'));
}

function logLevelOption(text: string): LogLevel {
  try {
    return parseLogLevel(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function nodeStartOptions(o: NodeCliOptions): NodeStartOptions {
  const base = { follow: o.follow, port: o.port, host: o.host, dataDir: resolve(o.dataDir) };
  const exitOnAlarm = o.exitOnAlarm === true ? { exitOnAlarm: true } : {};
  const wait = o.databaseWaitMs === undefined ? {} : { databaseWaitMs: o.databaseWaitMs };
  return {
    ...base,
    ...wait,
    ...given('databaseUrl', o.databaseUrl),
    ...given('processorAddress', o.processorAddress),
    ...exitOnAlarm,
    ...logOptions(o),
    ...sqlPortOf(o),
    ...noDashboard(o),
  };
}

/** The options of `node start` as parsed by commander, with the config file applied. */
export function nodeStartOptionsOf(opts: NodeCliOptions, cmd: Command): NodeStartOptions {
  return nodeStartOptions(
    withServiceConfig(opts, readNodeConfig, (key) => cmd.getOptionValueSource(key)),
  );
}

/** The options of `processor start` as parsed by commander, with the config file applied. */
export function processorStartOptionsOf(
  opts: ProcessorCliOptions,
  cmd: Command,
): ProcessorStartOptions {
  return processorStartOptions(
    withServiceConfig(opts, readProcessorConfig, (key) => cmd.getOptionValueSource(key)),
  );
}

/** `{[name]: value}` when the value was given and is not empty, else `{}` (the field stays absent). */
function given<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [name]: value } as Record<K, string>);
}

/** Loads `relativePath` (next to the CLI's folder) and returns its exported function `name`. */
async function loadRunner<T>(
  relativePath: string,
  name: string,
): Promise<(options: T) => Promise<unknown>> {
  const url = new URL(relativePath, import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const missing =
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String((err as Error).message).includes(fileURLToPath(url));
    if (!missing) throw err;
    throw new ClientError(
      'internal',
      `this build has no ${relativePath} (looked for ${url})`,
      { module: relativePath },
      null,
      { cause: err },
    );
  }
  const run = mod[name];
  if (typeof run !== 'function') {
    throw new ClientError('internal', `${relativePath} does not export a function ${name}`, {
      module: relativePath,
    });
  }
  return run as (options: T) => Promise<unknown>;
}

export function register(program: Command): void {
  const processorStart = program
    .command('processor')
    .description('the processor')
    .command('start')
    .description('start the processor and its API (creates the chain on first start)')
    .addOption(
      new Option('--port <port>', 'API port')
        .env('HANZENET_PORT')
        .argParser(portOption)
        .default(8080),
    )
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(
      new Option('--data-dir <dir>', 'data directory').env('HANZENET_DATA_DIR').default('./data'),
    )
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL URL instead of the embedded database').env(
        'DATABASE_URL',
      ),
    )
    .addOption(
      new Option(
        '--database-wait-ms <ms>',
        `how long to keep trying an unreachable PostgreSQL server at start (default: ${DATABASE_WAIT_MS_DEFAULT})`,
      )
        .env('HANZENET_DATABASE_WAIT_MS')
        .argParser(intOption(0)),
    )
    .addOption(
      new Option('--block-interval-ms <ms>', 'how often the open block is sealed and committed')
        .env('HANZENET_BLOCK_INTERVAL_MS')
        .argParser(intOption(1))
        .default(DEFAULT_BLOCK_INTERVAL_MS),
    )
    .addOption(
      new Option(
        '--block-txs-max <n>',
        'most transactions in one block; a full block is sealed at once',
      )
        .env('HANZENET_BLOCK_TXS_MAX')
        .argParser(intOption(1))
        .default(DEFAULT_BLOCK_TXS_MAX),
    )
    .addOption(
      new Option('--chain-id <id>', 'chain id of a new chain (ignored when the chain exists)'),
    )
    .addOption(
      new Option('--key-file <file>', 'processor key file (default <data-dir>/processor.key)'),
    )
    .addOption(
      new Option('--energy', 'install the energy contracts on a new chain (the default)').default(
        true,
      ),
    )
    .addOption(new Option('--no-energy', 'do not install the energy contracts on a new chain'))
    .addOption(
      new Option(
        '--settlement-agent',
        'settle market periods after their gate closure (the default)',
      ).default(true),
    )
    .addOption(new Option('--no-settlement-agent', 'do not send SettlePeriod for market periods'))
    .addOption(
      new Option(
        '--mirrors <urls>',
        "the mirror nodes' API URLs, separated by commas: GET /api/mirrors shows their head, lag and alarm",
      )
        .env('HANZENET_MIRRORS')
        .argParser(mirrorsOption),
    )
    .addOption(configOption('HANZENET_PROCESSOR_CONFIG'))
    .addOption(sqlPortCliOption());
  addDashboardOptions(processorStart);
  addLogOptions(processorStart).action(async (opts: ProcessorCliOptions, cmd: Command) => {
    // The config file is checked before anything is loaded or created.
    const options = processorStartOptionsOf(opts, cmd);
    // Loaded only now, so that other commands do not load the database and the sandbox.
    const { runProcessor } = await import('../../app/start-processor.js');
    await runProcessor(options);
  });

  const nodeStart = program
    .command('node')
    .description('a mirror node')
    .command('start')
    .description(
      'start a mirror node that follows a processor (or another node) and verifies every block',
    )
    .addOption(
      new Option('--follow <url>', 'URL of the processor (or node) to mirror')
        .env('HANZENET_FOLLOW')
        .default('http://127.0.0.1:8080'),
    )
    .addOption(
      new Option('--port <port>', 'API port of this node')
        .env('HANZENET_PORT')
        .argParser(portOption)
        .default(8081),
    )
    .addOption(new Option('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(
      new Option('--data-dir <dir>', 'data directory')
        .env('HANZENET_DATA_DIR')
        .default('./data-node'),
    )
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL URL instead of the embedded database').env(
        'DATABASE_URL',
      ),
    )
    .addOption(
      new Option(
        '--database-wait-ms <ms>',
        `how long to keep trying an unreachable PostgreSQL server at start (default: ${DATABASE_WAIT_MS_DEFAULT})`,
      )
        .env('HANZENET_DATABASE_WAIT_MS')
        .argParser(intOption(0)),
    )
    .addOption(
      new Option(
        '--processor-address <address>',
        'the processor address block 0 must name (default: pinned from block 0)',
      ).env('HANZENET_PROCESSOR_ADDRESS'),
    )
    .addOption(
      new Option(
        '--exit-on-alarm',
        'exit (status 3) at the first alarm instead of serving reads of what was verified',
      ),
    )
    .addOption(new Option('--no-exit-on-alarm', 'keep serving reads after an alarm (the default)'))
    .addOption(configOption('HANZENET_NODE_CONFIG'))
    .addOption(sqlPortCliOption());
  addDashboardOptions(nodeStart);
  addLogOptions(nodeStart).action(async (opts: NodeCliOptions, cmd: Command) => {
    const options = nodeStartOptionsOf(opts, cmd);
    const run = await loadRunner<NodeStartOptions>('../../app/start-node.js', 'runNode');
    await run(options);
  });
}
