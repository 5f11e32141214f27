// The config files of `hanzenet processor start --config FILE` and `hanzenet node start --config
// FILE` (docs/config.md): one key per command option, checked by the JSON Schemas below through the
// shared mechanism of src/config/. A value from a flag or an environment variable wins over the
// file's; the file's wins over the option's default.

import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { MIRRORS_MAX } from '../client/mirror-health.js';
import { type ConfigKind, loadConfigFile, pathIn, withFileValues } from '../config/file.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS } from '../ledger/log-level.js';
import { DEFAULT_BLOCK_INTERVAL_MS, DEFAULT_BLOCK_TXS_MAX } from '../processor/defaults.js';
import { DATABASE_WAIT_MS_DEFAULT } from '../store/database-start.js';

const PROCESSOR_KIND: ConfigKind = { name: 'processor', code: 'usage_error' };
const NODE_KIND: ConfigKind = { name: 'node', code: 'usage_error' };

const port = (fallback: number) =>
  Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: fallback,
    description: 'API port (0: any free port)',
  });
const host = Type.String({
  minLength: 1,
  default: '127.0.0.1',
  description: 'interface to listen on',
});
const databaseUrl = Type.String({
  minLength: 1,
  description: 'a PostgreSQL server (15 or newer) instead of the embedded database',
});
const databaseWaitMs = Type.Integer({
  minimum: 0,
  default: DATABASE_WAIT_MS_DEFAULT,
  description: 'how long a start keeps trying an unreachable PostgreSQL server',
});
const logLevel = Type.Union(
  LOG_LEVELS.map((l) => Type.Literal(l)),
  { default: DEFAULT_LOG_LEVEL, description: 'lowest level logged' },
);
const logRequests = Type.Boolean({
  default: false,
  description: 'log every API request and its answer',
});
const sqlPort = Type.Integer({
  minimum: 0,
  maximum: 65_535,
  description:
    'serve the embedded database read-only to psql on 127.0.0.1:<port> (not with databaseUrl)',
});

const dashboard = Type.Boolean({
  default: true,
  description: 'serve the web dashboard at / (docs/dashboard.md)',
});

export const PROCESSOR_CONFIG_SCHEMA = Type.Object(
  {
    port: Type.Optional(port(8080)),
    host: Type.Optional(host),
    dataDir: Type.Optional(
      Type.String({ minLength: 1, default: './data', description: 'data directory' }),
    ),
    databaseUrl: Type.Optional(databaseUrl),
    databaseWaitMs: Type.Optional(databaseWaitMs),
    blockIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_BLOCK_INTERVAL_MS,
        description: 'how often the open block is sealed and committed',
      }),
    ),
    blockTxsMax: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: DEFAULT_BLOCK_TXS_MAX,
        description: 'most transactions in one block; a full block is sealed at once',
      }),
    ),
    chainId: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'chain id of a new chain (ignored when the chain exists)',
      }),
    ),
    keyFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'processor key file (default <dataDir>/processor.key)',
      }),
    ),
    energy: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'install the energy contracts on a new chain',
      }),
    ),
    settlementAgent: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'settle market periods after their gate closure (SettlePeriod)',
      }),
    ),
    logLevel: Type.Optional(logLevel),
    logRequests: Type.Optional(logRequests),
    dashboard: Type.Optional(dashboard),
    sqlPort: Type.Optional(sqlPort),
    mirrors: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://[^\\s,]+$' }), {
        maxItems: MIRRORS_MAX,
        description:
          "the mirror nodes' API URLs, whose health GET /api/mirrors shows (asked every 5 s)",
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'HanzeNet processor config',
    description: 'The config file of `hanzenet processor start --config FILE` (docs/config.md).',
  },
);

export const NODE_CONFIG_SCHEMA = Type.Object(
  {
    follow: Type.Optional(
      Type.String({
        minLength: 1,
        default: 'http://127.0.0.1:8080',
        description: 'the upstream: the processor, or another node',
      }),
    ),
    port: Type.Optional(port(8081)),
    host: Type.Optional(host),
    dataDir: Type.Optional(
      Type.String({ minLength: 1, default: './data-node', description: 'data directory' }),
    ),
    databaseUrl: Type.Optional(databaseUrl),
    databaseWaitMs: Type.Optional(databaseWaitMs),
    processorAddress: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'the processor block 0 must name (default: pinned from block 0)',
      }),
    ),
    exitOnAlarm: Type.Optional(
      Type.Boolean({ default: false, description: 'exit (status 3) at the first alarm' }),
    ),
    logLevel: Type.Optional(logLevel),
    logRequests: Type.Optional(logRequests),
    dashboard: Type.Optional(dashboard),
    sqlPort: Type.Optional(sqlPort),
  },
  {
    additionalProperties: false,
    title: 'HanzeNet mirror node config',
    description: 'The config file of `hanzenet node start --config FILE` (docs/config.md).',
  },
);

export type ProcessorConfigFile = Static<typeof PROCESSOR_CONFIG_SCHEMA>;
export type NodeConfigFile = Static<typeof NODE_CONFIG_SCHEMA>;

/** Keys whose values are paths: relative ones are taken from the config file's folder. */
const PATH_KEYS: ReadonlySet<string> = new Set(['dataDir', 'keyFile']);

/** A service config file's values, its relative paths made absolute. */
function readServiceConfig<T extends TSchema>(
  schema: T,
  kind: ConfigKind,
  file: string,
): Record<string, unknown> {
  const loaded = loadConfigFile(schema, kind, file);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(loaded.value as Record<string, unknown>))
    out[key] = PATH_KEYS.has(key) ? pathIn(loaded.baseDir, value as string) : value;
  return out;
}

export function readProcessorConfig(file: string): Record<string, unknown> {
  return readServiceConfig(PROCESSOR_CONFIG_SCHEMA, PROCESSOR_KIND, file);
}

export function readNodeConfig(file: string): Record<string, unknown> {
  return readServiceConfig(NODE_CONFIG_SCHEMA, NODE_KIND, file);
}

/**
 * The options of a service command with its config file (`config`, when given and not empty)
 * filled in: flag > environment > file > default.
 */
export function withServiceConfig<O extends { readonly config?: string | undefined }>(
  options: O,
  read: (file: string) => Record<string, unknown>,
  sourceOf: (key: string) => string | undefined,
): O {
  if (options.config === undefined || options.config === '') return options;
  return withFileValues(options, read(options.config), sourceOf);
}
