// `hanzenet processor start` (what `npm start` runs): opens the database (embedded PGlite in the
// data directory, or the PostgreSQL server of DATABASE_URL), loads or creates the processor key and
// the chain, installs the energy contracts on a new chain, serves the API and produces blocks until
// SIGINT/SIGTERM. The composition root of the producer role: the only place that picks the real
// clock, the real store and the energy application.

import { randomBytes } from 'node:crypto';
import { resolve, join } from 'node:path';
import { createApiServer } from '../api/server.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../contracts/runtime/executor.js';
import { ChainError } from '../core/errors.js';
import { systemScheduler } from '../core/scheduler.js';
import { registerEnergyRoutes } from '../energy/http-routes.js';
import { startWithClosers, stopOnSignals, untilAborted } from '../ledger/lifecycle.js';
import { serviceLogger } from '../ledger/log.js';
import type { Logger, LogLevel } from '../ledger/log.js';
import { SignaturePool } from '../ledger/signature-pool.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../processor/processor.js';
import { openDatabase } from '../store/database.js';
import { ChainStore } from '../store/chain-store.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
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
  /** Lowest level logged (default HANZENET_LOG_LEVEL, else info). */
  readonly logLevel?: LogLevel | undefined;
  /** Log every API request and its answer. */
  readonly logRequests?: boolean | undefined;
}

export interface RunningProcessor {
  readonly url: string;
  readonly processor: Processor;
  close(): Promise<void>;
}

const CHAIN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export async function startProcessor(
  opts: ProcessorStartOptions,
  log: Logger = serviceLogger(systemScheduler, undefined, opts.logLevel),
): Promise<RunningProcessor> {
  const chainId = opts.chainId ?? `hanzenet-${randomBytes(4).toString('hex')}`;
  if (!CHAIN_ID_PATTERN.test(chainId)) {
    throw new ChainError(
      'bad_request',
      `chain id ${JSON.stringify(chainId)} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
  const dataDir = resolve(opts.dataDir);
  const keyFile = opts.keyFile ?? join(dataDir, 'processor.key');
  const { key, created } = await loadOrCreateKeyFile(keyFile);
  if (created) log.info('generated a new processor key', { address: key.address, keyFile });
  const db = await openDatabase(
    opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : { dataDir: join(dataDir, 'pgdata') },
  );
  return startWithClosers(log, async (closers) => {
    closers.add(() => db.close());
    const store = new ChainStore(db);
    await store.migrate();
    const verifier = await SignaturePool.start();
    closers.add(() => verifier.close());
    const openExecutor = (): ReturnType<typeof createExecutor> =>
      createExecutor({ reader: store, residentRows: DEFAULT_RESIDENT_ROWS });
    const executor = await openExecutor();
    // The processor owns its executor once it is open (it may replace it).
    let executorOwner: { close(): Promise<void> } = executor;
    closers.add(() => executorOwner.close());
    // A chain that never had a contract is new (also when a first start died before installing).
    const isNewChain = (await store.listContracts()).length === 0;
    const config = {
      ...DEFAULT_PROCESSOR_CONFIG,
      blockIntervalMs: opts.blockIntervalMs,
      txsPerBlockMax: opts.blockTxsMax ?? DEFAULT_PROCESSOR_CONFIG.txsPerBlockMax,
    };
    const processor = await Processor.open(
      {
        store,
        executor,
        reopenExecutor: openExecutor,
        verifier,
        key,
        scheduler: systemScheduler,
        config,
        log: log.child('processor'),
      },
      chainId,
    );
    executorOwner = processor;
    processor.start();
    closers.add(() => processor.stop());
    if (isNewChain && opts.energy)
      await installEnergyContracts(processor, key, log.child('energy'));
    processor.ledgerMetrics.collectProcessMetrics();
    const api = await createApiServer(processor, {
      routes: [registerEnergyRoutes],
      requestLog: opts.logRequests === true ? log : undefined,
    });
    const url = await api.listen(opts.port, opts.host);
    closers.add(() => api.close());
    return { url, processor, close: () => closers.closeAll() };
  });
}

/** The CLI entry: starts, prints where to reach it as one JSON object, and stops on signals. */
export async function runProcessor(opts: ProcessorStartOptions): Promise<void> {
  const log = serviceLogger(systemScheduler, undefined, opts.logLevel);
  const running = await startProcessor(opts, log);
  const info = await running.processor.info();
  process.stdout.write(
    JSON.stringify({
      api: running.url,
      processorAddress: info.processorAddress,
      chainId: info.chainId,
      head: info.head,
      database: opts.databaseUrl ? 'postgres' : 'pglite',
      dataDir: resolve(opts.dataDir),
    }) + '\n',
  );
  const stopping = stopOnSignals(log);
  try {
    await untilAborted(stopping.signal);
    await running.close();
  } finally {
    stopping.dispose();
  }
}
