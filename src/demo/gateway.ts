// A neighbourhood's P1 gateway, run in the demo's process on the demo's clock: the real gateway
// (src/meter/gateway) with a config file of its own, one meter per household read over TCP from
// the simulated meters (meters.ts), each with its producer and consumer key files. Its reports
// are counted; the ones that mean something went wrong go to stderr.

import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrivateKey } from '../core/keys.js';
import type { Scheduler } from '../core/scheduler.js';
import { runGateway, type GatewayResult } from '../meter/gateway/run.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
import type { DemoMeter } from './meters.js';

/** A household's keys: the trader, its house meter (Consumer) and its solar meter (Producer). */
export interface HouseholdKeys {
  readonly trader: PrivateKey;
  readonly house: PrivateKey;
  readonly solar: PrivateKey;
  readonly houseKeyFile: string;
  readonly solarKeyFile: string;
}

/** Reports that mean something went wrong. */
const TROUBLE = new Set([
  'telegram_rejected',
  'tx_rejected',
  'fatal',
  'outbox_full',
  'source_error',
]);

/** Makes (or reads) the key files of `count` households in `dir`. */
export async function householdKeys(dir: string, count: number): Promise<HouseholdKeys[]> {
  const out: HouseholdKeys[] = [];
  for (let i = 1; i <= count; i++) {
    const file = (role: string): string => join(dir, `household-${i}-${role}.key`);
    out.push({
      trader: (await loadOrCreateKeyFile(file('trader'))).key,
      house: (await loadOrCreateKeyFile(file('house'))).key,
      solar: (await loadOrCreateKeyFile(file('solar'))).key,
      houseKeyFile: file('house'),
      solarKeyFile: file('solar'),
    });
  }
  return out;
}

export interface GatewaySetup {
  readonly dir: string;
  readonly api: string;
  readonly chainId: string;
  readonly context: string;
  readonly periodSeconds: number;
  readonly meters: readonly DemoMeter[];
  readonly keys: readonly HouseholdKeys[];
}

/** Writes the gateway's config file (docs/config.md, "The P1 gateway") and returns its path. */
export async function writeGatewayConfig(s: GatewaySetup): Promise<string> {
  await mkdir(s.dir, { recursive: true });
  const config = {
    api: s.api,
    chainId: s.chainId,
    context: s.context,
    stateDir: join(s.dir, 'state'),
    aggregation: { periodSeconds: s.periodSeconds },
    meters: s.meters.map((m, i) => ({
      equipmentId: m.equipmentId,
      producerKeyFile: s.keys[i]?.solarKeyFile,
      consumerKeyFile: s.keys[i]?.houseKeyFile,
      source: { type: 'tcp', host: '127.0.0.1', port: m.port },
    })),
  };
  const path = join(s.dir, 'gateway.json');
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

export interface RunningGateway {
  /** Readings the chain has accepted. */
  readonly accepted: () => number;
  stop(): Promise<GatewayResult>;
}

export function startGateway(
  configPath: string,
  clock: Scheduler,
  name: string,
  warn: (line: string) => void,
): RunningGateway {
  let accepted = 0;
  const stop = new AbortController();
  const write = (line: string): void => {
    const report = JSON.parse(line) as { event?: string };
    if (report.event === 'tx_accepted') accepted += 1;
    else if (TROUBLE.has(report.event ?? '')) warn(`${name} gateway: ${line.trim()}`);
  };
  const done = runGateway({ configPath, scheduler: clock, signal: stop.signal, write });
  done.catch((err: unknown) => warn(`${name} gateway stopped: ${(err as Error).message}`));
  return {
    accepted: () => accepted,
    async stop() {
      stop.abort();
      return done;
    },
  };
}
