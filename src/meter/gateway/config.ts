// The P1 gateway's configuration file (docs/config.md, docs/meter.md "Config"): JSON, checked
// against its JSON Schema (config-schema.ts) and then for what a schema cannot say, before
// anything starts. Relative paths are taken relative to the config file's folder. The same
// `meters` list (equipment id and key files) is what `hanzenet reconcile --meters` reads.

import { join } from 'node:path';
import { type ConfigKind, checkConfig, configError, pathIn } from '../../config/file.js';
import type { ChainError } from '../../core/errors.js';
import { isAddress } from '../../core/keys.js';
import {
  GATEWAY_CONFIG_KIND,
  GATEWAY_CONFIG_SCHEMA,
  GATEWAY_DEFAULTS,
  METERS_CONFIG_KIND,
  METERS_FILE_SCHEMA,
  type MeterConfigFile,
  type SourceConfigFile,
} from './config-schema.js';

export type DsmrLine = '5.0' | '4.x' | '2.2';

export interface SerialSource {
  readonly type: 'serial';
  readonly device: string;
  readonly baud: number;
  readonly dataBits: 7 | 8;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
  /** Configure the tty with stty before reading (false: it is configured already, e.g. a pty). */
  readonly stty: boolean;
}

export type SourceConfig =
  | { readonly type: 'file'; readonly path: string }
  | { readonly type: 'stdin' }
  | { readonly type: 'tcp'; readonly host: string; readonly port: number }
  | SerialSource
  | {
      readonly type: 'mqtt';
      readonly url: string;
      readonly topic: string;
      readonly clientId: string | null;
      readonly qos: 0 | 1 | 2;
      readonly username: string | null;
      readonly password: string | null;
    };

export interface MeterConfig {
  readonly equipmentId: string;
  /** The meter's id in the grid operator's CSV (default: the equipment id). */
  readonly gridId: string;
  /** Key files: required by the gateway, which signs with them. */
  readonly producerKeyFile: string | null;
  readonly consumerKeyFile: string | null;
  /** Addresses: enough for reconciliation, which only reads (a key file gives the address too). */
  readonly producerAddress: string | null;
  readonly consumerAddress: string | null;
  readonly maxKw: number;
  readonly source: SourceConfig;
}

export interface GatewayConfig {
  readonly api: string;
  readonly chainId: string | null;
  readonly context: string;
  readonly stateDir: string;
  readonly statusFile: string;
  readonly periodSeconds: number;
  /** Also cut a reading after this many telegrams (null: only at period boundaries). */
  readonly telegrams: number | null;
  readonly maxKw: number;
  readonly maxClockSkewMs: number;
  readonly maxAgeMs: number;
  readonly disconnectAfterMs: number;
  readonly requireCrc: boolean;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly outboxMax: number;
  readonly meters: readonly MeterConfig[];
}

/** Serial line settings per DSMR version (P1 companion standard). */
export const DSMR_SERIAL: Readonly<
  Record<DsmrLine, { baud: number; dataBits: 7 | 8; parity: 'none' | 'even' }>
> = {
  '5.0': { baud: 115_200, dataBits: 8, parity: 'none' },
  '4.x': { baud: 115_200, dataBits: 7, parity: 'even' },
  '2.2': { baud: 9_600, dataBits: 7, parity: 'even' },
};

export { GATEWAY_DEFAULTS } from './config-schema.js';

/** Where a problem was found: the file (null: a config not read from a file) and its kind. */
interface Origin {
  readonly kind: ConfigKind;
  readonly file: string | null;
}

function invalid(field: string, message: string, at: Origin): ChainError {
  return configError(at.kind, at.file, field, message);
}

/**
 * Checks a parsed config; `baseDir` resolves relative paths, `file` (when the config came from
 * one) is named in errors. Throws gateway_config_invalid naming the key path.
 */
export function checkGatewayConfig(
  raw: unknown,
  baseDir: string,
  file: string | null = null,
): GatewayConfig {
  const c = checkConfig(GATEWAY_CONFIG_SCHEMA, raw, GATEWAY_CONFIG_KIND, file);
  const at: Origin = { kind: GATEWAY_CONFIG_KIND, file };
  if (!isAddress(c.context))
    throw invalid('context', `expected an address, got "${c.context}"`, at);
  const periodSeconds = c.aggregation?.periodSeconds ?? GATEWAY_DEFAULTS.periodSeconds;
  if (86_400 % periodSeconds !== 0)
    throw invalid(
      'aggregation.periodSeconds',
      `must divide a day (86400), got ${periodSeconds}`,
      at,
    );
  const stateDir = pathIn(baseDir, c.stateDir);
  const maxKw = c.maxKw ?? GATEWAY_DEFAULTS.maxKw;
  const meters = meterConfigs(c.meters, baseDir, maxKw, true, at);
  if (meters.filter((m) => m.source.type === 'stdin').length > 1)
    throw invalid('meters', 'only one meter can read stdin', at);
  return {
    api: c.api,
    chainId: c.chainId ?? null,
    context: c.context,
    stateDir,
    statusFile:
      c.statusFile === undefined ? join(stateDir, 'status.json') : pathIn(baseDir, c.statusFile),
    periodSeconds,
    telegrams: c.aggregation?.telegrams ?? null,
    maxKw,
    maxClockSkewMs: c.maxClockSkewMs ?? GATEWAY_DEFAULTS.maxClockSkewMs,
    maxAgeMs: c.maxAgeMs ?? GATEWAY_DEFAULTS.maxAgeMs,
    disconnectAfterMs: c.disconnectAfterMs ?? GATEWAY_DEFAULTS.disconnectAfterMs,
    requireCrc: c.requireCrc ?? true,
    retryInitialMs: c.retry?.initialMs ?? GATEWAY_DEFAULTS.retryInitialMs,
    retryMaxMs: c.retry?.maxMs ?? GATEWAY_DEFAULTS.retryMaxMs,
    outboxMax: c.outboxMax ?? GATEWAY_DEFAULTS.outboxMax,
    meters,
  };
}

/** The meters of a file holding a gateway config, or only {"meters": [...]} (for reconciliation). */
export function checkMetersFile(
  raw: unknown,
  baseDir: string,
  file: string | null = null,
): MeterConfig[] {
  const c = checkConfig(METERS_FILE_SCHEMA, raw, METERS_CONFIG_KIND, file);
  const at: Origin = { kind: METERS_CONFIG_KIND, file };
  return meterConfigs(c.meters, baseDir, GATEWAY_DEFAULTS.maxKw, false, at);
}

/**
 * The checked `meters` list with defaults and absolute paths. The gateway (`signing`) needs each
 * meter's key files; reconciliation only needs the addresses, given as producerAddress /
 * consumerAddress or through the key files.
 */
function meterConfigs(
  raw: readonly MeterConfigFile[],
  baseDir: string,
  maxKw: number,
  signing: boolean,
  at: Origin,
): MeterConfig[] {
  const meters = raw.map((m, i) => meterConfig(m, `meters[${i}].`, baseDir, maxKw, signing, at));
  const ids = new Set<string>();
  const gridIds = new Set<string>();
  for (const m of meters) {
    if (ids.has(m.equipmentId))
      throw invalid('meters', `equipment id ${m.equipmentId} appears twice`, at);
    if (gridIds.has(m.gridId)) throw invalid('meters', `grid id ${m.gridId} appears twice`, at);
    ids.add(m.equipmentId);
    gridIds.add(m.gridId);
  }
  return meters;
}

function meterConfig(
  raw: MeterConfigFile,
  where: string,
  baseDir: string,
  maxKw: number,
  signing: boolean,
  at: Origin,
): MeterConfig {
  const keyFile = (key: 'producerKeyFile' | 'consumerKeyFile'): string | null => {
    const given = raw[key];
    if (given !== undefined) return pathIn(baseDir, given);
    if (signing)
      throw invalid(
        `${where}${key}`,
        'expected a non-empty string (the gateway signs with it), got nothing',
        at,
      );
    return null;
  };
  const address = (key: 'producerAddress' | 'consumerAddress'): string | null => {
    const a = raw[key] ?? null;
    if (a !== null && !isAddress(a))
      throw invalid(`${where}${key}`, `expected an address, got "${a}"`, at);
    return a;
  };
  const m: MeterConfig = {
    equipmentId: raw.equipmentId,
    gridId: raw.gridId ?? raw.equipmentId,
    producerKeyFile: keyFile('producerKeyFile'),
    consumerKeyFile: keyFile('consumerKeyFile'),
    producerAddress: address('producerAddress'),
    consumerAddress: address('consumerAddress'),
    maxKw: raw.maxKw ?? maxKw,
    source: raw.source === undefined ? { type: 'stdin' } : sourceConfig(raw.source, baseDir),
  };
  if (m.producerKeyFile === null && m.producerAddress === null)
    throw invalid(`${where}producerAddress`, 'give producerAddress or producerKeyFile', at);
  if (m.consumerKeyFile === null && m.consumerAddress === null)
    throw invalid(`${where}consumerAddress`, 'give consumerAddress or consumerKeyFile', at);
  return m;
}

/** A checked source with its defaults (a serial line's from its DSMR version) and absolute paths. */
function sourceConfig(raw: SourceConfigFile, baseDir: string): SourceConfig {
  switch (raw.type) {
    case 'file':
      return { type: 'file', path: pathIn(baseDir, raw.path) };
    case 'stdin':
      return { type: 'stdin' };
    case 'tcp':
      return { type: 'tcp', host: raw.host, port: raw.port };
    case 'serial': {
      const line = DSMR_SERIAL[raw.dsmr ?? '5.0'];
      return {
        type: 'serial',
        device: pathIn(baseDir, raw.device),
        baud: raw.baud ?? line.baud,
        dataBits: (raw.dataBits ?? line.dataBits) as 7 | 8,
        parity: raw.parity ?? line.parity,
        stopBits: (raw.stopBits ?? 1) as 1 | 2,
        stty: raw.stty ?? true,
      };
    }
    case 'mqtt':
      return {
        type: 'mqtt',
        url: raw.url,
        topic: raw.topic,
        clientId: raw.clientId ?? null,
        qos: (raw.qos ?? 1) as 0 | 1 | 2,
        username: raw.username ?? null,
        password: raw.password ?? null,
      };
  }
}

/** The stty arguments that configure a tty for a serial source (raw: no line editing, no echo). */
export function sttyArgs(s: SerialSource): string[] {
  const parity =
    s.parity === 'none'
      ? ['-parenb']
      : s.parity === 'even'
        ? ['parenb', '-parodd']
        : ['parenb', 'parodd'];
  return [
    '-F',
    s.device,
    String(s.baud),
    `cs${s.dataBits}`,
    ...parity,
    s.stopBits === 2 ? 'cstopb' : '-cstopb',
    'raw',
    '-echo',
    '-ixon',
    '-ixoff',
    '-crtscts',
    'clocal',
    'cread',
  ];
}
