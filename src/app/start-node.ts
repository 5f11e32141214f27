// `hanzenet node start`: a mirror node. Opens its own database (embedded PGlite in the data
// directory, or the PostgreSQL server of DATABASE_URL), verifies the upstream's genesis block on
// first start, serves the same read API as the processor over what it verified, and follows the
// upstream until SIGINT/SIGTERM. See docs/node.md. The composition root of the follower role: the
// only place that picks the real clock, the real network and the real store.

import { resolve } from 'node:path';
import { DASHBOARD_DIR_DEFAULT } from '../api/dashboard.js';
import { mirrorsRoutes } from '../api/mirrors.js';
import { createApiServer } from '../api/server.js';
import type { ChainAlarm } from '../chain/views.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../contracts/runtime/executor.js';
import { ChainError } from '../core/errors.js';
import { isAddress } from '../core/keys.js';
import { registerEnergyRoutes } from '../energy/http-routes.js';
import { stackRoutes } from '../stack/http-routes.js';
import { systemScheduler } from '../core/scheduler.js';
import type { Scheduler } from '../core/scheduler.js';
import { startWithClosers, stopOnSignals, untilAborted } from '../ledger/lifecycle.js';
import { serviceLogger } from '../ledger/log.js';
import type { LogLevel } from '../ledger/log.js';
import type { Logger } from '../ledger/log.js';
import { SignaturePool, SIGNATURES_INLINE_BELOW } from '../ledger/signature-pool.js';
import { Follower } from '../node/follower.js';
import type { FollowerOptions } from '../node/follower.js';
import { MirrorNode } from '../node/mirror.js';
import { HttpUpstream } from '../node/upstream.js';
import type { Upstream } from '../node/upstream.js';
import { ChainStore } from '../store/chain-store.js';
import { listenOrExplain } from './port-check.js';
import { holdDataDir, openServiceDatabase } from './service-start.js';
import { checkSqlPortOption, openSqlPort, sqlAddress } from './sql-port.js';

/** What `hanzenet node start` hands over (the CLI's NodeStartOptions in src/cli/processor-options.ts). */
export interface NodeStartOptions {
  /** Base URL of the upstream: the processor, or another node. */
  readonly follow: string;
  readonly port: number;
  readonly host: string;
  /** Data directory; the embedded database lives in <dataDir>/pgdata. */
  readonly dataDir: string;
  /** PostgreSQL server instead of the embedded database. */
  readonly databaseUrl?: string | undefined;
  /** The processor address block 0 must name; absent: pinned from block 0. */
  readonly processorAddress?: string | undefined;
  /** Stop (exit status 3) at the first alarm instead of serving reads of what was verified. */
  readonly exitOnAlarm?: boolean | undefined;
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
}

/** The exit status of a node that raised an alarm (on SIGINT/SIGTERM, or at once with --exit-on-alarm). */
export const EXIT_ALARM = 3;
/** A pushed block is serialised with its view; downstream nodes should get large blocks pushed too. */
const WS_SEND_BUFFER_MAX_BYTES = 32 * 1024 * 1024;

export interface RunningNode {
  readonly url: string;
  /** The head the node resumed from (its stored head at start), or block 0 on a first start. */
  readonly startHead: { readonly height: number; readonly hash: string } | null;
  /** The embedded SQL port's address, when it was asked for. */
  readonly sql: { readonly host: string; readonly port: number } | null;
  readonly node: MirrorNode;
  readonly follower: Follower;
  close(): Promise<void>;
}

export interface StartNodeDeps {
  readonly log?: Logger;
  /** Default the real clock and timers. */
  readonly scheduler?: Scheduler;
  /** Aborting it while the node waits for the genesis block gives up starting (shutting_down). */
  readonly signal?: AbortSignal;
  /** Another upstream than HTTP to opts.follow (tests). */
  readonly upstream?: Upstream;
  readonly follower?: FollowerOptions;
  /** Told when the node can no longer write safely (the PostgreSQL writer lock was lost). */
  readonly onFatal?: (err: ChainError) => void;
}

/** Thrown by startNode when the genesis block itself raises the alarm: there is nothing to serve. */
export class GenesisAlarm extends ChainError {
  constructor(readonly alarm: ChainAlarm) {
    super('chain_mismatch', `the genesis block failed its checks: ${alarm.message}`, { alarm });
  }
}

export async function startNode(
  opts: NodeStartOptions,
  deps: StartNodeDeps = {},
): Promise<RunningNode> {
  const scheduler = deps.scheduler ?? systemScheduler;
  const log = deps.log ?? serviceLogger(scheduler, 'node', opts.logLevel);
  const pinned = opts.processorAddress ?? null;
  if (pinned !== null && !isAddress(pinned)) {
    throw new ChainError(
      'bad_request',
      `the processor address ${JSON.stringify(pinned)} is not a valid address (base58check, starting with 1)`,
      { processorAddress: pinned },
    );
  }
  checkSqlPortOption(opts);
  const upstream = deps.upstream ?? new HttpUpstream(opts.follow, scheduler);
  let stopApplying: () => void = () => undefined;
  const ground = {
    role: 'node' as const,
    dataDir: resolve(opts.dataDir),
    databaseUrl: opts.databaseUrl,
    host: opts.host,
    port: opts.port,
    sqlPort: opts.sqlPort,
    databaseWaitMs: opts.databaseWaitMs,
    // A mirror node does not pause: it stops, and its supervisor starts it again.
    onLockLost: (err: ChainError): void => {
      log.error('stopping: the node lost its database lock', { error: err.toJSON() });
      stopApplying();
      deps.onFatal?.(err);
    },
    onLockRegained: (): void => undefined,
    onFatal: (err: ChainError): void => {
      stopApplying();
      deps.onFatal?.(err);
    },
  };
  return startWithClosers(log, async (closers) => {
    // Every check comes before anything is created (tables, block 0).
    const created = await holdDataDir(ground, closers, log);
    const db = await openServiceDatabase(ground, closers, created, log);
    const store = new ChainStore(db);
    await store.migrate();
    const signatures = await SignaturePool.start({ inlineBelow: SIGNATURES_INLINE_BELOW });
    closers.add(() => signatures.close());
    const node = await MirrorNode.open({
      store,
      openExecutor: () => createExecutor({ reader: store, residentRows: DEFAULT_RESIDENT_ROWS }),
      signatures,
      upstream,
      scheduler,
      log,
      processorAddress: pinned,
    });
    closers.add(() => node.close());
    const follower = new Follower(node, upstream, log.child('follower'), scheduler, deps.follower);
    stopApplying = () => void follower.stop();
    closers.add(() => follower.stop());
    // A first start needs block 0 before it can serve anything; a restart serves what it has at once.
    if (node.headInfo === null) {
      follower.start();
      await untilGenesis(node, follower, deps.signal);
    }
    const head = node.headInfo;
    const startHead = head === null ? null : { height: head.height, hash: head.hashHex };
    node.ledgerMetrics.collectProcessMetrics();
    const api = await createApiServer(node, {
      requestLog: opts.logRequests === true ? log : undefined,
      wsSendBufferMaxBytes: WS_SEND_BUFFER_MAX_BYTES,
      // A mirror node holds no processor key: it serves the stack's reads, not its signatures.
      routes: [registerEnergyRoutes, stackRoutes(null), mirrorsRoutes(null, 'node')],
      dashboardDir: opts.dashboard === false ? undefined : DASHBOARD_DIR_DEFAULT,
    });
    closers.add(() => api.close());
    const sql =
      opts.sqlPort === undefined ? null : await openSqlPort(db, opts.sqlPort, closers, log);
    const url = await listenOrExplain(api, opts.port, opts.host);
    follower.start();
    created.kept = true;
    return { url, sql, startHead, node, follower, close: () => closers.closeAll() };
  });
}

/** Waits until block 0 is verified; a genesis alarm or an abort ends the wait with an error. */
async function untilGenesis(
  node: MirrorNode,
  follower: Follower,
  signal: AbortSignal | undefined,
): Promise<void> {
  const offs: (() => void)[] = [];
  try {
    await new Promise<void>((resolveWait, reject) => {
      offs.push(node.onBlock(() => resolveWait()));
      const onAbort = (): void =>
        reject(new ChainError('shutting_down', 'stopped before the genesis block was verified'));
      if (signal?.aborted === true) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      offs.push(() => signal?.removeEventListener('abort', onAbort));
      void follower.finished.then(() => {
        const alarm = node.alarm;
        reject(
          alarm === null
            ? new ChainError(
                'shutting_down',
                'the follower stopped before the genesis block was verified',
              )
            : new GenesisAlarm(alarm),
        );
      });
    });
  } finally {
    for (const off of offs) off();
  }
}

/**
 * The CLI entry: starts, prints one JSON line {api, follow, chainId, processorAddress, head, ...}
 * once it serves, and stops on SIGINT/SIGTERM (or at the first alarm with exitOnAlarm). A node
 * that raised an alarm exits with status 3.
 */
export async function runNode(opts: NodeStartOptions): Promise<void> {
  const log = serviceLogger(systemScheduler, 'node', opts.logLevel);
  const stopping = stopOnSignals(log);
  let fatal: ChainError | null = null;
  const onFatal = (err: ChainError): void => {
    fatal = err;
    stopping.stop(err.code);
  };
  try {
    let running: RunningNode;
    try {
      running = await startNode(opts, { log, signal: stopping.signal, onFatal });
    } catch (err) {
      if (err instanceof GenesisAlarm) {
        exitWithAlarmStatus();
        return;
      }
      if (err instanceof ChainError && err.code === 'shutting_down' && stopping.signal.aborted)
        return;
      throw err;
    }
    const { node } = running;
    const info = await node.info();
    process.stdout.write(
      JSON.stringify({
        api: running.url,
        ...sqlAddress(running.sql),
        follow: node.upstreamUrl,
        chainId: info.chainId,
        processorAddress: info.processorAddress,
        head: running.startHead,
        database: opts.databaseUrl ? 'postgres' : 'pglite',
        dataDir: resolve(opts.dataDir),
      }) + '\n',
    );
    const offAlarm = node.onAlarm(() => {
      if (opts.exitOnAlarm === true) stopping.stop('alarm');
    });
    if (node.alarm !== null && opts.exitOnAlarm === true) stopping.stop('alarm');
    await untilAborted(stopping.signal);
    offAlarm();
    await running.close();
    if (node.alarm !== null) exitWithAlarmStatus();
  } finally {
    stopping.dispose();
  }
  if (fatal !== null) throw fatal;
}

/** The CLI sets the exit code after runNode returns; the exit hook has the last word. */
function exitWithAlarmStatus(): void {
  process.exitCode = EXIT_ALARM;
  process.once('exit', () => {
    process.exitCode = EXIT_ALARM;
  });
}
