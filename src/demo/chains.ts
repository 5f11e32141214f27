// The demo's chains: each a processor started in this process on the demo's clock (the processor's
// own composition root, src/app/start-processor.ts, with the energy contracts and its settlement
// agent), with its data directory, keys and gateway under the demo's data directory.

import { join } from 'node:path';
import { startProcessor, type RunningProcessor } from '../app/start-processor.js';
import { HanzenetClient } from '../client/client.js';
import type { PrivateKey } from '../core/keys.js';
import type { LogLevel } from '../ledger/log.js';
import { serviceLogger } from '../ledger/log.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
import type { TimeLapseClock } from './clock.js';

/**
 * A block every 100 ms: the settlement agent settles a context's periods one per block, in order,
 * so this bounds how fast a day can be settled (a few periods a second).
 */
export const BLOCK_INTERVAL_MS = 100;
/** The settlement agent looks for periods whose gate has closed twice a second. */
export const SETTLEMENT_INTERVAL_MS = 500;

export interface DemoChain {
  /** `neighbourhood`, or with --stack `n1`, `n2`, `city`. */
  readonly name: string;
  readonly dir: string;
  readonly running: RunningProcessor;
  readonly client: HanzenetClient;
  readonly chainId: string;
  readonly processorAddress: string;
  /** The context's owner: its address is the context. */
  readonly owner: PrivateKey;
}

/** The processors log warnings and errors only, unless HANZENET_LOG_LEVEL says otherwise. */
function logLevel(): LogLevel | undefined {
  return process.env['HANZENET_LOG_LEVEL'] ? undefined : 'warn';
}

export async function startChain(
  name: string,
  dataDir: string,
  host: string,
  port: number,
  clock: TimeLapseClock,
): Promise<DemoChain> {
  const dir = join(dataDir, name);
  const level = logLevel();
  const running = await startProcessor(
    {
      port,
      host,
      dataDir: join(dir, 'processor'),
      blockIntervalMs: BLOCK_INTERVAL_MS,
      chainId: `hanzenet-demo-${name}`,
      energy: true,
      settlementAgent: true,
      settlementIntervalMs: SETTLEMENT_INTERVAL_MS,
      logLevel: level,
      scheduler: clock,
    },
    serviceLogger(clock, name, level),
  );
  try {
    const client = new HanzenetClient({ url: running.url });
    const info = await running.processor.info();
    const owner = (await loadOrCreateKeyFile(join(dir, 'keys', 'owner.key'))).key;
    return {
      name,
      dir,
      running,
      client,
      chainId: info.chainId,
      processorAddress: info.processorAddress,
      owner,
    };
  } catch (err) {
    await running.close();
    throw err;
  }
}

export async function stopChain(chain: DemoChain): Promise<void> {
  chain.client.close();
  await chain.running.close();
}
