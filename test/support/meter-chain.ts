// End-to-end helpers for the P1 gateway and reconciliation tests: a real processor with a context
// (an owner, a household trader for production and one for consumption, a producer and a consumer
// meter key, 15-minute settlement periods), key files on disk, a gateway config, and the gateway
// run as a real `hanzenet meter gateway` process whose JSON report lines are collected.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HanzenetClient } from '../../src/client/client.js';
import { toHex } from '../../src/core/bytes.js';
import { PrivateKey } from '../../src/core/keys.js';
import { fetchEnergyBalances } from '../../src/energy/client.js';
import { simulateTelegrams, type SimulatedTelegram } from '../../src/meter/sim/simulate.js';
import {
  buildTelegram,
  formatDsmrTimestamp,
  formatEnergyKwh,
  hexOfText,
} from '../../src/meter/p1/write.js';
import { CLI, startProcessorProcess, type StartedProcessor } from './processes.js';

export const QUARTER_MS = 900_000;

export interface MeterContext {
  readonly dir: string;
  readonly client: HanzenetClient;
  readonly owner: PrivateKey;
  /** The household's trader that production is booked on, and the one for consumption. */
  readonly producerTrader: PrivateKey;
  readonly consumerTrader: PrivateKey;
  readonly producer: PrivateKey;
  readonly consumer: PrivateKey;
  readonly ownerKeyFile: string;
  readonly producerKeyFile: string;
  readonly consumerKeyFile: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function startProcessorOn(dataDir: string, port: number): Promise<StartedProcessor> {
  return startProcessorProcess({
    dataDir,
    blockIntervalMs: 100,
    extraArgs: ['--port', String(port)],
  });
}

async function keyFile(dir: string, name: string, key: PrivateKey): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      privateKey: key.toWIF(),
      publicKey: toHex(key.publicKey),
      address: key.address,
    }),
    { mode: 0o600 },
  );
  return path;
}

/** Registers the traders and meter keys of a context (settlement per 15 minutes). */
export async function setUpContext(url: string, dir: string): Promise<MeterContext> {
  const client = new HanzenetClient({ url });
  const owner = PrivateKey.generate();
  const producerTrader = PrivateKey.generate();
  const consumerTrader = PrivateKey.generate();
  const producer = PrivateKey.generate();
  const consumer = PrivateKey.generate();
  const context = owner.address;
  const calls: [string, Record<string, unknown>][] = [
    ['Trader', { context, address: producerTrader.address, allowed: true }],
    ['Trader', { context, address: consumerTrader.address, allowed: true }],
    [
      'Producer',
      {
        context,
        address: producer.address,
        allowed: true,
        trader: producerTrader.address,
        labels: ['solar'],
      },
    ],
    [
      'Consumer',
      {
        context,
        address: consumer.address,
        allowed: true,
        trader: consumerTrader.address,
        labels: [],
      },
    ],
    ['SettlementPeriod', { context, periodSeconds: 900 }],
  ];
  for (const [contractType, payload] of calls) {
    const view = await client.executeContract({
      contractType,
      payload,
      key: owner,
      validTillMs: 0,
    });
    if (view.status !== 'accepted')
      throw new Error(
        `${contractType} ended ${view.status}: ${view.code ?? ''} ${view.message ?? ''}`,
      );
  }
  return {
    dir,
    client,
    owner,
    producerTrader,
    consumerTrader,
    producer,
    consumer,
    ownerKeyFile: await keyFile(dir, 'owner', owner),
    producerKeyFile: await keyFile(dir, 'producer', producer),
    consumerKeyFile: await keyFile(dir, 'consumer', consumer),
  };
}

/** The trader's total over all its balances, Wh. */
export async function traderTotalWh(
  client: HanzenetClient,
  context: string,
  trader: string,
): Promise<bigint> {
  const view = await fetchEnergyBalances(client, context, { trader });
  const total = view.totals.find((t) => t.trader === trader)?.amount ?? '0';
  const [whole = '0', frac = ''] = total.replace('-', '').split('.');
  const wh = BigInt(whole) * 1000n + BigInt(frac.padEnd(3, '0'));
  return total.startsWith('-') ? -wh : wh;
}

/** A day (or `count` telegrams) of simulated DSMR 5.0 telegrams every 10 s, ending before now. */
export function simulatedDay(
  equipmentId: string,
  count: number,
  seed = 7,
): { telegrams: SimulatedTelegram[]; startMs: number } {
  const now = Date.now();
  const startMs = Math.floor((now - count * 10_000) / QUARTER_MS) * QUARTER_MS - QUARTER_MS;
  const telegrams = simulateTelegrams(
    {
      equipmentId,
      startMs,
      intervalS: 10,
      seed,
      latitude: 53.2,
      longitude: 6.57,
      pvKwp: 4,
      baseLoadW: 300,
      gas: false,
    },
    count,
  );
  return { telegrams, startMs };
}

export function producedWh(t: readonly SimulatedTelegram[], from = 0, to = t.length - 1): bigint {
  const a = t[from]?.registersWh;
  const b = t[to]?.registersWh;
  if (a === undefined || b === undefined) throw new Error('no such telegram');
  return b.returnedTariff1 + b.returnedTariff2 - a.returnedTariff1 - a.returnedTariff2;
}

export function consumedWh(t: readonly SimulatedTelegram[], from = 0, to = t.length - 1): bigint {
  const a = t[from]?.registersWh;
  const b = t[to]?.registersWh;
  if (a === undefined || b === undefined) throw new Error('no such telegram');
  return b.deliveredTariff1 + b.deliveredTariff2 - a.deliveredTariff1 - a.deliveredTariff2;
}

export interface GatewayConfigInput {
  readonly api: string;
  readonly context: string;
  readonly stateDir: string;
  readonly equipmentId: string;
  readonly producerKeyFile: string;
  readonly consumerKeyFile: string;
  readonly source: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
}

export async function writeGatewayConfig(path: string, c: GatewayConfigInput): Promise<void> {
  const config = {
    api: c.api,
    context: c.context,
    stateDir: c.stateDir,
    maxAgeMs: 3 * 86_400_000,
    retry: { initialMs: 100, maxMs: 1000 },
    ...c.extra,
    meters: [
      {
        equipmentId: c.equipmentId,
        producerKeyFile: c.producerKeyFile,
        consumerKeyFile: c.consumerKeyFile,
        source: c.source,
      },
    ],
  };
  await writeFile(path, JSON.stringify(config, null, 2));
}

export interface GatewayProcess {
  readonly proc: ChildProcess;
  /** Every report line so far, parsed. */
  readonly reports: () => Record<string, unknown>[];
  readonly stderr: () => string;
  readonly exited: Promise<number | string>;
  /** Resolves with the first report that matches, or rejects after `timeoutMs`. */
  waitFor(
    match: (r: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export function spawnGateway(configPath: string, stdin?: string | Buffer): GatewayProcess {
  const env = { ...process.env };
  delete env['HANZENET_URL'];
  const proc = spawn(process.execPath, [CLI, 'meter', 'gateway', '--config', configPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  let err = '';
  const listeners: (() => void)[] = [];
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    for (const l of listeners) l();
  });
  proc.stdout?.resume();
  // A test may kill the gateway while it still writes to its stdin.
  proc.stdin?.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  if (stdin !== undefined) proc.stdin?.end(stdin);
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const reports = (): Record<string, unknown>[] =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{"ts"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitFor = (
    match: (r: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = reports().find(match);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no matching report within ${timeoutMs} ms; stderr:\n${err.slice(-4000)}`),
          ),
        timeoutMs,
      );
      if (!check()) listeners.push(() => void check());
      void exited.then(() => {
        if (!check()) {
          clearTimeout(timer);
          reject(
            new Error(`the gateway exited before a matching report; stderr:\n${err.slice(-4000)}`),
          );
        }
      });
    });
  return { proc, reports, stderr: () => err, exited, waitFor };
}

export interface Registers {
  readonly d1: bigint;
  readonly d2: bigint;
  readonly r1: bigint;
  readonly r2: bigint;
}

/** A DSMR 5.0 telegram with a correct CRC, for hand-made edge cases. */
export function telegramAt(equipmentId: string, timestampMs: number, r: Registers): string {
  return buildTelegram('/HNZ5\\2HanzeNet-TEST', [
    '1-3:0.2.8(50)',
    `0-0:1.0.0(${formatDsmrTimestamp(timestampMs)})`,
    `0-0:96.1.1(${hexOfText(equipmentId)})`,
    `1-0:1.8.1(${formatEnergyKwh(r.d1)})`,
    `1-0:1.8.2(${formatEnergyKwh(r.d2)})`,
    `1-0:2.8.1(${formatEnergyKwh(r.r1)})`,
    `1-0:2.8.2(${formatEnergyKwh(r.r2)})`,
    '0-0:96.14.0(0002)',
    '1-0:1.7.0(00.000*kW)',
    '1-0:2.7.0(00.000*kW)',
  ]);
}
