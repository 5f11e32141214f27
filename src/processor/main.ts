// `hanzenet processor start` (what `npm start` runs): opens the database (embedded PGlite in the
// data directory, or the PostgreSQL server of DATABASE_URL), loads or creates the processor key and
// the chain, installs the energy contracts on a new chain, serves the API and produces blocks until
// SIGINT/SIGTERM.

import { randomBytes } from 'node:crypto';
import { resolve, join } from 'node:path';
import { createApiServer } from '../api/server.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../contracts/executor.js';
import { ChainError } from '../core/errors.js';
import { registerEnergyRoutes } from '../energy/http-routes.js';
import { openDatabase } from '../store/database.js';
import { ChainStore } from '../store/chain-store.js';
import { systemClock } from './clock.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from './processor.js';
import type { Logger } from './processor.js';
import { VerifyPool } from './verify-pool.js';
import { installEnergyContracts } from './install-energy.js';

export interface ProcessorStartOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  readonly blockIntervalMs: number;
  /** Most transactions in one block (default DEFAULT_PROCESSOR_CONFIG.txsPerBlockMax). */
  readonly blockTxsMax?: number | undefined;
  /** Used only when a new chain is created; default `hanzenet-` and 8 random hex digits. */
  readonly chainId?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Install the energy contracts on a new chain (default true). */
  readonly energy: boolean;
}

export interface RunningProcessor {
  readonly url: string;
  readonly processor: Processor;
  close(): Promise<void>;
}

export const jsonLogger: Logger = {
  info: (msg, fields) => process.stderr.write(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg, ...fields }) + '\n'),
  error: (msg, fields) => process.stderr.write(JSON.stringify({ level: 'error', time: new Date().toISOString(), msg, ...fields }) + '\n'),
};

const CHAIN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export async function startProcessor(opts: ProcessorStartOptions, log: Logger = jsonLogger): Promise<RunningProcessor> {
  const chainId = opts.chainId ?? `hanzenet-${randomBytes(4).toString('hex')}`;
  if (!CHAIN_ID_PATTERN.test(chainId)) {
    throw new ChainError('bad_request', `chain id ${JSON.stringify(chainId)} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'`);
  }
  const dataDir = resolve(opts.dataDir);
  const { key, created } = await loadOrCreateKeyFile(opts.keyFile ?? join(dataDir, 'processor.key'));
  if (created) log.info('generated a new processor key', { address: key.address, keyFile: opts.keyFile ?? join(dataDir, 'processor.key') });
  const db = await openDatabase(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : { dataDir: join(dataDir, 'pgdata') });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  try {
    const store = new ChainStore(db);
    await store.migrate();
    const verifier = await VerifyPool.start();
    closers.unshift(() => verifier.close());
    const openExecutor = (): ReturnType<typeof createExecutor> => createExecutor({ reader: store, residentRows: DEFAULT_RESIDENT_ROWS });
    const executor = await openExecutor();
    closers.unshift(() => executor.close());
    // A chain that never had a contract is new (also when a first start died before installing).
    const isNewChain = (await store.listContracts()).length === 0;
    const processor = await Processor.open(
      { store, executor, reopenExecutor: openExecutor, verifier, key, clock: systemClock, config: { ...DEFAULT_PROCESSOR_CONFIG, blockIntervalMs: opts.blockIntervalMs, txsPerBlockMax: opts.blockTxsMax ?? DEFAULT_PROCESSOR_CONFIG.txsPerBlockMax }, log },
      chainId,
    );
    processor.start();
    closers.unshift(() => processor.stop());
    if (isNewChain && opts.energy) await installEnergyContracts(processor, key, log);
    const api = await createApiServer(processor, { routes: [registerEnergyRoutes] });
    const url = await api.listen(opts.port, opts.host);
    closers.unshift(() => api.close());
    return { url, processor, close: () => runClosers(closers) };
  } catch (err) {
    await runClosers(closers);
    throw err;
  }
}

async function runClosers(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.splice(0)) {
    try {
      await close();
    } catch (err) {
      jsonLogger.error('error while shutting down', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** The CLI entry: starts, prints where to reach it as one JSON object, and stops on signals. */
export async function runProcessor(opts: ProcessorStartOptions): Promise<void> {
  const running = await startProcessor(opts);
  const info = await running.processor.info();
  process.stdout.write(
    JSON.stringify({ api: running.url, processorAddress: info.processorAddress, chainId: info.chainId, head: info.head, database: opts.databaseUrl ? 'postgres' : 'pglite', dataDir: resolve(opts.dataDir) }) + '\n',
  );
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      jsonLogger.info('shutting down', { signal });
      running.close().then(resolveStop, (err: unknown) => {
        jsonLogger.error('shutdown failed', { error: String(err) });
        process.exitCode = 1;
        resolveStop();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
