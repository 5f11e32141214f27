// `hanzenet processor start` (what `npm start` runs): holds the data directory, checks the port,
// reads the processor key, opens the database (embedded PGlite in the data directory, or the
// PostgreSQL server of DATABASE_URL, with the chain's writer lock), and only then creates what is
// missing: the key and the chain. Installs the energy contracts on a new chain, serves the API and
// produces blocks until SIGINT/SIGTERM (see service-start.ts for the checks and the locks). The composition root of the producer role: the only place that picks the real
// clock, the real store and the energy application.

import { CHAIN_ID_PATTERN } from '../chain/genesis.js';
import { randomBytes } from 'node:crypto';
import { resolve, join } from 'node:path';
import { DASHBOARD_DIR_DEFAULT } from '../api/dashboard.js';
import { mirrorsRoutes } from '../api/mirrors.js';
import { createApiServer } from '../api/server.js';
import { MirrorWatch } from '../client/mirror-health.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../contracts/runtime/executor.js';
import { ChainError } from '../core/errors.js';
import { type Scheduler, systemScheduler } from '../core/scheduler.js';
import { registerEnergyRoutes } from '../energy/http-routes.js';
import { startWithClosers, stopOnSignals, untilAborted } from '../ledger/lifecycle.js';
import { serviceLogger } from '../ledger/log.js';
import type { Logger, LogLevel } from '../ledger/log.js';
import { SignaturePool } from '../ledger/signature-pool.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../processor/processor.js';
import { ChainStore } from '../store/chain-store.js';
import { createKeyFile, readKeyFile } from '../store/key-file.js';
import { installEnergyContracts } from './install-energy.js';
import { startSettlementAgent } from './settlement.js';
import { stackRoutes } from '../stack/http-routes.js';
import { stackSigner } from './stack.js';
import { listenOrExplain } from './port-check.js';
import { holdDataDir, openServiceDatabase } from './service-start.js';
import { checkSqlPortOption, openSqlPort, sqlAddress } from './sql-port.js';

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
  /** Run the settlement agent, which settles market periods after their gate closure (default true). */
  readonly settlementAgent?: boolean | undefined;
  /** How long to wait for an unreachable PostgreSQL server at start (default 30 s). */
  readonly databaseWaitMs?: number | undefined;
  /** Lowest level logged (default HANZENET_LOG_LEVEL, else info). */
  readonly logLevel?: LogLevel | undefined;
  /** Log every API request and its answer. */
  readonly logRequests?: boolean | undefined;
  /** Serve the web dashboard at `/` (default true; docs/dashboard.md). */
  readonly dashboard?: boolean | undefined;
  /** Serve the embedded database read-only to psql on 127.0.0.1:sqlPort (not with databaseUrl). */
  readonly sqlPort?: number | undefined;
  /**
   * The clock and timers of the block loop and the settlement agent (default the real ones).
   * `hanzenet demo` passes its time-lapse clock (src/demo/clock.ts).
   */
  readonly scheduler?: Scheduler | undefined;
  /** How often the settlement agent looks for periods to settle (default 5 s). */
  readonly settlementIntervalMs?: number | undefined;
  /** The mirror nodes' API URLs, whose health GET /api/mirrors shows (docs/api.md). */
  readonly mirrors?: readonly string[] | undefined;
}

export interface RunningProcessor {
  readonly url: string;
  /** The embedded SQL port's address, when it was asked for. */
  readonly sql: { readonly host: string; readonly port: number } | null;
  readonly processor: Processor;
  close(): Promise<void>;
}

export interface ProcessorStartHooks {
  /**
   * Told when the processor can no longer write safely (the PostgreSQL writer lock was lost); the
   * block loop is stopped already, the caller closes the rest. Default: log it.
   */
  readonly onFatal?: (err: ChainError) => void;
}

export async function startProcessor(
  opts: ProcessorStartOptions,
  log: Logger = serviceLogger(systemScheduler, undefined, opts.logLevel),
  hooks: ProcessorStartHooks = {},
): Promise<RunningProcessor> {
  const chainId = opts.chainId ?? `hanzenet-${randomBytes(4).toString('hex')}`;
  if (!CHAIN_ID_PATTERN.test(chainId)) {
    throw new ChainError(
      'bad_request',
      `chain id ${JSON.stringify(chainId)} must be 1-64 characters of letters, digits, '.', '_', ':' or '-'`,
    );
  }
  checkSqlPortOption(opts);
  const dataDir = resolve(opts.dataDir);
  const scheduler = opts.scheduler ?? systemScheduler;
  const keyFile = opts.keyFile ?? join(dataDir, 'processor.key');
  // Writing stops while the PostgreSQL writer lock is lost and resumes when it is held again.
  const writer = new PausableWriter(log);
  const ground = {
    role: 'processor' as const,
    dataDir,
    databaseUrl: opts.databaseUrl,
    host: opts.host,
    port: opts.port,
    sqlPort: opts.sqlPort,
    databaseWaitMs: opts.databaseWaitMs,
    onLockLost: (err: ChainError): void => writer.pause(err),
    onLockRegained: (): void => writer.resume(),
    onFatal: (err: ChainError): void => {
      log.error('stopping: another process writes the chain now', { error: err.toJSON() });
      writer.pause(err);
      hooks.onFatal?.(err);
    },
  };
  return startWithClosers(log, async (closers) => {
    // Every check comes before anything is created (key, tables, genesis).
    const created = await holdDataDir(ground, closers, log);
    const existingKey = await readKeyFile(keyFile);
    const db = await openServiceDatabase(ground, closers, created, log);
    const store = new ChainStore(db);
    await store.migrate();
    const key = existingKey ?? (await createKeyFile(keyFile));
    if (existingKey === null) {
      created.keyFile = keyFile;
      log.info('generated a new processor key', { address: key.address, keyFile });
    }
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
        scheduler,
        config,
        log: log.child('processor'),
      },
      chainId,
    );
    executorOwner = processor;
    writer.attach(processor);
    closers.add(() => processor.stop());
    if (isNewChain && opts.energy)
      await installEnergyContracts(processor, key, log.child('energy'));
    if (opts.settlementAgent !== false) {
      const agent = await startSettlementAgent(
        processor,
        db,
        dataDir,
        scheduler,
        log.child('settlement'),
        opts.settlementIntervalMs === undefined ? {} : { intervalMs: opts.settlementIntervalMs },
      );
      closers.add(() => agent.stop());
    }
    processor.ledgerMetrics.collectProcessMetrics();
    const mirrors = watchMirrors(opts.mirrors, processor);
    if (mirrors !== null) closers.add(() => mirrors.stop());
    const api = await createApiServer(processor, {
      routes: [
        registerEnergyRoutes,
        stackRoutes(stackSigner(key)),
        mirrorsRoutes(mirrors, 'processor'),
      ],
      requestLog: opts.logRequests === true ? log : undefined,
      dashboardDir: opts.dashboard === false ? undefined : DASHBOARD_DIR_DEFAULT,
    });
    closers.add(() => api.close());
    const sql =
      opts.sqlPort === undefined ? null : await openSqlPort(db, opts.sqlPort, closers, log);
    const url = await listenOrExplain(api, opts.port, opts.host);
    created.kept = true;
    return { url, sql, processor, close: () => closers.closeAll() };
  });
}

/** The watch of the mirror nodes (started), or null without any. */
function watchMirrors(
  urls: readonly string[] | undefined,
  processor: Processor,
): MirrorWatch | null {
  if (urls === undefined || urls.length === 0) return null;
  const watch = new MirrorWatch({
    urls,
    chainId: processor.chainId,
    scheduler: systemScheduler,
    headHeight: async () => (await processor.info()).head?.height ?? null,
  });
  watch.start();
  return watch;
}

/** Starts and stops the block loop as the writer lock comes and goes (one change at a time). */
class PausableWriter {
  #processor: Processor | null = null;
  #paused = false;
  #changing: Promise<void> = Promise.resolve();

  constructor(private readonly log: Logger) {}

  attach(processor: Processor): void {
    this.#processor = processor;
    if (!this.#paused) processor.start();
  }

  pause(err: ChainError): void {
    if (this.#paused) return;
    this.#paused = true;
    this.log.error('stopped producing blocks', { error: err.toJSON() });
    const processor = this.#processor;
    if (processor !== null) this.#changing = this.#changing.then(() => processor.stop());
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.log.info('holding the database lock again; producing blocks');
    const processor = this.#processor;
    if (processor !== null)
      this.#changing = this.#changing.then(() => {
        if (!this.#paused) processor.start();
      });
  }
}

/**
 * The CLI entry: starts, prints where to reach it as one JSON object, and stops on SIGINT/SIGTERM
 * (also when one comes during the start: the start finishes, then everything closes). Rejects with
 * the reason when the processor had to stop on its own (database_lock_lost).
 */
export async function runProcessor(opts: ProcessorStartOptions): Promise<void> {
  const log = serviceLogger(systemScheduler, undefined, opts.logLevel);
  const stopping = stopOnSignals(log);
  let fatal: ChainError | null = null;
  try {
    const running = await startProcessor(opts, log, {
      onFatal: (err) => {
        fatal = err;
        stopping.stop(err.code);
      },
    });
    const info = await running.processor.info();
    process.stdout.write(
      JSON.stringify({
        api: running.url,
        ...sqlAddress(running.sql),
        processorAddress: info.processorAddress,
        chainId: info.chainId,
        head: info.head,
        database: opts.databaseUrl ? 'postgres' : 'pglite',
        dataDir: resolve(opts.dataDir),
      }) + '\n',
    );
    await untilAborted(stopping.signal);
    await running.close();
  } finally {
    stopping.dispose();
  }
  if (fatal !== null) throw fatal;
}
