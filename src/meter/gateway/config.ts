// The P1 gateway's configuration file (docs/meter.md, "Gateway config"): JSON, checked field by
// field before anything starts. Relative paths are taken relative to the config file's folder.
// The same `meters` list (equipment id and key files) is what `hanzenet reconcile --meters` reads.

import { isAbsolute, join } from 'node:path';
import { ChainError } from '../../core/errors.js';
import { isAddress } from '../../core/keys.js';

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

export const GATEWAY_DEFAULTS = {
  periodSeconds: 900,
  maxKw: 17.25,
  maxClockSkewMs: 60_000,
  maxAgeMs: 7 * 86_400_000,
  disconnectAfterMs: 60_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  outboxMax: 20_000,
} as const;

const METERS_MAX = 1000;
const TOP_KEYS = [
  'api',
  'chainId',
  'context',
  'stateDir',
  'statusFile',
  'aggregation',
  'maxKw',
  'maxClockSkewMs',
  'maxAgeMs',
  'disconnectAfterMs',
  'requireCrc',
  'retry',
  'outboxMax',
  'meters',
];

type Json = Record<string, unknown>;

function invalid(field: string, message: string): ChainError {
  return new ChainError('gateway_config_invalid', `${field}: ${message}`, { field });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Json, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k))
      throw invalid(`${where}${k}`, `unknown field (expected one of ${keys.join(', ')})`);
}

function str(o: Json, key: string, where: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v === '')
    throw invalid(`${where}${key}`, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function optStr(o: Json, key: string, where: string): string | null {
  return o[key] === undefined || o[key] === null ? null : str(o, key, where);
}

function num(
  o: Json,
  key: string,
  where: string,
  min: number,
  max: number,
  fallback: number,
  integer = true,
): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !(v >= min && v <= max) || (integer && !Number.isSafeInteger(v))) {
    throw invalid(
      `${where}${key}`,
      `expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(o[key])}`,
    );
  }
  return v;
}

function pathIn(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : join(baseDir, p);
}

/** Checks a parsed config; `baseDir` resolves relative paths. Throws gateway_config_invalid. */
export function checkGatewayConfig(raw: unknown, baseDir: string): GatewayConfig {
  if (!isObject(raw)) throw invalid('(file)', 'expected a JSON object');
  onlyKeys(raw, TOP_KEYS, '');
  const context = str(raw, 'context', '');
  if (!isAddress(context)) throw invalid('context', `expected an address, got "${context}"`);
  const api = str(raw, 'api', '');
  if (!/^(https?|wss?):\/\//.test(api))
    throw invalid('api', `expected an http:// or https:// URL, got "${api}"`);
  const aggregation = raw['aggregation'] ?? {};
  if (!isObject(aggregation))
    throw invalid('aggregation', 'expected an object {periodSeconds, telegrams}');
  onlyKeys(aggregation, ['periodSeconds', 'telegrams'], 'aggregation.');
  const periodSeconds = num(
    aggregation,
    'periodSeconds',
    'aggregation.',
    1,
    86_400,
    GATEWAY_DEFAULTS.periodSeconds,
  );
  if (86_400 % periodSeconds !== 0)
    throw invalid('aggregation.periodSeconds', `must divide a day (86400), got ${periodSeconds}`);
  const telegrams =
    aggregation['telegrams'] === undefined || aggregation['telegrams'] === null
      ? null
      : num(aggregation, 'telegrams', 'aggregation.', 1, 1_000_000, 1);
  const retry = raw['retry'] ?? {};
  if (!isObject(retry)) throw invalid('retry', 'expected an object {initialMs, maxMs}');
  onlyKeys(retry, ['initialMs', 'maxMs'], 'retry.');
  const stateDir = pathIn(baseDir, str(raw, 'stateDir', ''));
  const maxKw = num(raw, 'maxKw', '', 0.001, 100_000, GATEWAY_DEFAULTS.maxKw, false);
  const meters = checkMeters(raw['meters'], baseDir, maxKw, true);
  if (meters.filter((m) => m.source.type === 'stdin').length > 1)
    throw invalid('meters', 'only one meter can read stdin');
  const chainId = optStr(raw, 'chainId', '');
  const requireCrc = raw['requireCrc'] ?? true;
  if (typeof requireCrc !== 'boolean') throw invalid('requireCrc', 'expected true or false');
  return {
    api,
    chainId,
    context,
    stateDir,
    statusFile:
      raw['statusFile'] === undefined
        ? join(stateDir, 'status.json')
        : pathIn(baseDir, str(raw, 'statusFile', '')),
    periodSeconds,
    telegrams,
    maxKw,
    maxClockSkewMs: num(raw, 'maxClockSkewMs', '', 0, 86_400_000, GATEWAY_DEFAULTS.maxClockSkewMs),
    maxAgeMs: num(raw, 'maxAgeMs', '', 1000, 100 * 365 * 86_400_000, GATEWAY_DEFAULTS.maxAgeMs),
    disconnectAfterMs: num(
      raw,
      'disconnectAfterMs',
      '',
      1000,
      365 * 86_400_000,
      GATEWAY_DEFAULTS.disconnectAfterMs,
    ),
    requireCrc,
    retryInitialMs: num(
      retry,
      'initialMs',
      'retry.',
      10,
      3_600_000,
      GATEWAY_DEFAULTS.retryInitialMs,
    ),
    retryMaxMs: num(retry, 'maxMs', 'retry.', 10, 3_600_000, GATEWAY_DEFAULTS.retryMaxMs),
    outboxMax: num(raw, 'outboxMax', '', 1, 1_000_000, GATEWAY_DEFAULTS.outboxMax),
    meters,
  };
}

/**
 * The `meters` list. The gateway (`signing`) needs each meter's key files; reconciliation only
 * needs the addresses, given as producerAddress / consumerAddress or through the key files.
 */
export function checkMeters(
  raw: unknown,
  baseDir: string,
  maxKw: number,
  signing: boolean,
): MeterConfig[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > METERS_MAX)
    throw invalid('meters', `expected an array of 1 to ${METERS_MAX} meters`);
  const meters = raw.map((m, i) => checkMeter(m, `meters[${i}].`, baseDir, maxKw, signing));
  const ids = new Set<string>();
  const gridIds = new Set<string>();
  for (const m of meters) {
    if (ids.has(m.equipmentId))
      throw invalid('meters', `equipment id ${m.equipmentId} appears twice`);
    if (gridIds.has(m.gridId)) throw invalid('meters', `grid id ${m.gridId} appears twice`);
    ids.add(m.equipmentId);
    gridIds.add(m.gridId);
  }
  return meters;
}

/** The meters of a file holding a gateway config, or only {"meters": [...]} (for reconciliation). */
export function checkMetersFile(raw: unknown, baseDir: string): MeterConfig[] {
  if (!isObject(raw)) throw invalid('(file)', 'expected a JSON object with "meters"');
  return checkMeters(raw['meters'], baseDir, GATEWAY_DEFAULTS.maxKw, false);
}

const METER_KEYS = [
  'equipmentId',
  'gridId',
  'producerKeyFile',
  'consumerKeyFile',
  'producerAddress',
  'consumerAddress',
  'maxKw',
  'source',
];

function checkMeter(
  raw: unknown,
  where: string,
  baseDir: string,
  maxKw: number,
  signing: boolean,
): MeterConfig {
  if (!isObject(raw)) throw invalid(where.slice(0, -1), 'expected an object');
  onlyKeys(raw, METER_KEYS, where);
  const equipmentId = str(raw, 'equipmentId', where);
  if (!/^[\x21-\x7e]{1,96}$/.test(equipmentId))
    throw invalid(`${where}equipmentId`, 'expected 1 to 96 printable ASCII characters');
  const keyFile = (key: string): string | null =>
    signing || raw[key] !== undefined ? pathIn(baseDir, str(raw, key, where)) : null;
  const address = (key: string): string | null => {
    const a = optStr(raw, key, where);
    if (a !== null && !isAddress(a))
      throw invalid(`${where}${key}`, `expected an address, got "${a}"`);
    return a;
  };
  const m: MeterConfig = {
    equipmentId,
    gridId: str(raw, 'gridId', where, equipmentId),
    producerKeyFile: keyFile('producerKeyFile'),
    consumerKeyFile: keyFile('consumerKeyFile'),
    producerAddress: address('producerAddress'),
    consumerAddress: address('consumerAddress'),
    maxKw: num(raw, 'maxKw', where, 0.001, 100_000, maxKw, false),
    source:
      raw['source'] === undefined
        ? { type: 'stdin' }
        : checkSource(raw['source'], `${where}source.`, baseDir),
  };
  if (m.producerKeyFile === null && m.producerAddress === null)
    throw invalid(`${where}producerAddress`, 'give producerAddress or producerKeyFile');
  if (m.consumerKeyFile === null && m.consumerAddress === null)
    throw invalid(`${where}consumerAddress`, 'give consumerAddress or consumerKeyFile');
  return m;
}

function checkSource(raw: unknown, where: string, baseDir: string): SourceConfig {
  if (!isObject(raw)) throw invalid(where.slice(0, -1), 'expected an object with "type"');
  const type = raw['type'];
  switch (type) {
    case 'file':
      onlyKeys(raw, ['type', 'path'], where);
      return { type, path: pathIn(baseDir, str(raw, 'path', where)) };
    case 'stdin':
      onlyKeys(raw, ['type'], where);
      return { type };
    case 'tcp':
      onlyKeys(raw, ['type', 'host', 'port'], where);
      return { type, host: str(raw, 'host', where), port: num(raw, 'port', where, 1, 65_535, 0) };
    case 'serial':
      return checkSerial(raw, where, baseDir);
    case 'mqtt': {
      onlyKeys(raw, ['type', 'url', 'topic', 'clientId', 'qos', 'username', 'password'], where);
      const url = str(raw, 'url', where);
      if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url))
        throw invalid(`${where}url`, `expected an mqtt:// URL, got "${url}"`);
      const qos = num(raw, 'qos', where, 0, 2, 1) as 0 | 1 | 2;
      return {
        type,
        url,
        topic: str(raw, 'topic', where),
        clientId: optStr(raw, 'clientId', where),
        qos,
        username: optStr(raw, 'username', where),
        password: optStr(raw, 'password', where),
      };
    }
    default:
      throw invalid(
        `${where}type`,
        `expected file, stdin, tcp, serial or mqtt, got ${JSON.stringify(type)}`,
      );
  }
}

function checkSerial(raw: Json, where: string, baseDir: string): SerialSource {
  onlyKeys(
    raw,
    ['type', 'device', 'dsmr', 'baud', 'dataBits', 'parity', 'stopBits', 'stty'],
    where,
  );
  const dsmr = raw['dsmr'] ?? '5.0';
  if (dsmr !== '5.0' && dsmr !== '4.x' && dsmr !== '2.2')
    throw invalid(`${where}dsmr`, `expected "5.0", "4.x" or "2.2", got ${JSON.stringify(dsmr)}`);
  const line = DSMR_SERIAL[dsmr];
  const dataBits = num(raw, 'dataBits', where, 7, 8, line.dataBits) as 7 | 8;
  const parity = raw['parity'] ?? line.parity;
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd')
    throw invalid(`${where}parity`, `expected none, even or odd, got ${JSON.stringify(parity)}`);
  const stty = raw['stty'] ?? true;
  if (typeof stty !== 'boolean') throw invalid(`${where}stty`, 'expected true or false');
  return {
    type: 'serial',
    device: pathIn(baseDir, str(raw, 'device', where)),
    baud: num(raw, 'baud', where, 300, 4_000_000, line.baud),
    dataBits,
    parity,
    stopBits: num(raw, 'stopBits', where, 1, 2, 1) as 1 | 2,
    stty,
  };
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
