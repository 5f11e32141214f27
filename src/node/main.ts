// `hanzenet node start`: a mirror node. Opens its own database (embedded PGlite in the data
// directory, or the PostgreSQL server of DATABASE_URL), verifies the upstream's genesis block on
// first start, serves the same read API as the processor over what it verified, and follows the
// upstream until SIGINT/SIGTERM. See docs/node.md.

import { join, resolve } from 'node:path';
import { createApiServer } from '../api/server.js';
import type { ChainAlarm } from '../chain/views.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../contracts/executor.js';
import { ChainError } from '../core/errors.js';
import { isAddress } from '../core/keys.js';
import { registerEnergyRoutes } from '../energy/http-routes.js';
import { ChainStore } from '../store/chain-store.js';
import { openDatabase } from '../store/database.js';
import { Follower } from './follower.js';
import type { FollowerOptions } from './follower.js';
import { describeError, jsonNodeLogger } from './log.js';
import type { NodeLogger } from './log.js';
import { MirrorNode } from './mirror.js';
import { SignaturePool } from './signature-pool.js';
import { HttpUpstream } from './upstream.js';
import type { Upstream } from './upstream.js';

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
}

/** The exit status of a node that raised an alarm (on SIGINT/SIGTERM, or at once with --exit-on-alarm). */
export const EXIT_ALARM = 3;
/** A pushed block is serialised with its view; downstream nodes should get large blocks pushed too. */
const WS_SEND_BUFFER_MAX_BYTES = 32 * 1024 * 1024;

export interface RunningNode {
  readonly url: string;
  /** The head the node resumed from (its stored head at start), or block 0 on a first start. */
  readonly startHead: { readonly height: number; readonly hash: string } | null;
  readonly node: MirrorNode;
  readonly follower: Follower;
  close(): Promise<void>;
}

export interface StartNodeDeps {
  readonly log?: NodeLogger;
  /** Aborting it while the node waits for the genesis block gives up starting (shutting_down). */
  readonly signal?: AbortSignal;
  /** Another upstream than HTTP to opts.follow (tests). */
  readonly upstream?: Upstream;
  readonly follower?: FollowerOptions;
}

/** Thrown by startNode when the genesis block itself raises the alarm: there is nothing to serve. */
export class GenesisAlarm extends ChainError {
  constructor(readonly alarm: ChainAlarm) {
    super('chain_mismatch', `the genesis block failed its checks: ${alarm.message}`, { alarm });
  }
}

export async function startNode(opts: NodeStartOptions, deps: StartNodeDeps = {}): Promise<RunningNode> {
  const log = deps.log ?? jsonNodeLogger;
  const pinned = opts.processorAddress ?? null;
  if (pinned !== null && !isAddress(pinned)) {
    throw new ChainError('bad_request', `the processor address ${JSON.stringify(pinned)} is not a valid address (base58check, starting with 1)`, { processorAddress: pinned });
  }
  const upstream = deps.upstream ?? new HttpUpstream(opts.follow);
  const db = await openDatabase(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : { dataDir: join(resolve(opts.dataDir), 'pgdata') });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  try {
    const store = new ChainStore(db);
    await store.migrate();
    const signatures = await SignaturePool.start();
    closers.unshift(() => signatures.close());
    const node = await MirrorNode.open({
      store,
      openExecutor: () => createExecutor({ reader: store, residentRows: DEFAULT_RESIDENT_ROWS }),
      signatures,
      upstream,
      clock: { nowMs: () => Date.now() },
      log,
      processorAddress: pinned,
    });
    closers.unshift(() => node.close());
    const follower = new Follower(node, upstream, log, deps.follower);
    closers.unshift(() => follower.stop());
    // A first start needs block 0 before it can serve anything; a restart serves what it has at once.
    if (node.headInfo === null) {
      follower.start();
      await untilGenesis(node, follower, deps.signal);
    }
    const head = node.headInfo;
    const startHead = head === null ? null : { height: head.height, hash: head.hashHex };
    const api = await createApiServer(node, { wsSendBufferMaxBytes: WS_SEND_BUFFER_MAX_BYTES, routes: [registerEnergyRoutes] });
    closers.unshift(() => api.close());
    const url = await api.listen(opts.port, opts.host);
    follower.start();
    return { url, startHead, node, follower, close: () => runClosers(closers, log) };
  } catch (err) {
    await runClosers(closers, log);
    throw err;
  }
}

/** Waits until block 0 is verified; a genesis alarm or an abort ends the wait with an error. */
async function untilGenesis(node: MirrorNode, follower: Follower, signal: AbortSignal | undefined): Promise<void> {
  const offs: (() => void)[] = [];
  try {
    await new Promise<void>((resolveWait, reject) => {
      offs.push(node.onBlock(() => resolveWait()));
      const onAbort = (): void => reject(new ChainError('shutting_down', 'stopped before the genesis block was verified'));
      if (signal?.aborted === true) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      offs.push(() => signal?.removeEventListener('abort', onAbort));
      void follower.finished.then(() => {
        const alarm = node.alarm;
        reject(alarm === null ? new ChainError('shutting_down', 'the follower stopped before the genesis block was verified') : new GenesisAlarm(alarm));
      });
    });
  } finally {
    for (const off of offs) off();
  }
}

async function runClosers(closers: (() => Promise<void>)[], log: NodeLogger): Promise<void> {
  for (const close of closers.splice(0)) {
    try {
      await close();
    } catch (err) {
      log.error('error while shutting down', { error: describeError(err) });
    }
  }
}

/**
 * The CLI entry: starts, prints one JSON line {api, follow, chainId, processorAddress, head, ...}
 * once it serves, and stops on SIGINT/SIGTERM (or at the first alarm with exitOnAlarm). A node
 * that raised an alarm exits with status 3.
 */
export async function runNode(opts: NodeStartOptions): Promise<void> {
  const log = jsonNodeLogger;
  const stopping = new AbortController();
  const onSignal = (signal: string): void => {
    if (stopping.signal.aborted) return;
    log.info('shutting down', { signal });
    stopping.abort();
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    let running: RunningNode;
    try {
      running = await startNode(opts, { log, signal: stopping.signal });
    } catch (err) {
      if (err instanceof GenesisAlarm) {
        exitWithAlarmStatus();
        return;
      }
      if (err instanceof ChainError && err.code === 'shutting_down' && stopping.signal.aborted) return;
      throw err;
    }
    const { node } = running;
    const info = await node.info();
    process.stdout.write(
      JSON.stringify({
        api: running.url,
        follow: node.upstreamUrl,
        chainId: info.chainId,
        processorAddress: info.processorAddress,
        head: running.startHead,
        database: opts.databaseUrl ? 'postgres' : 'pglite',
        dataDir: resolve(opts.dataDir),
      }) + '\n',
    );
    const offAlarm = node.onAlarm(() => {
      if (opts.exitOnAlarm === true) onSignal('alarm');
    });
    if (node.alarm !== null && opts.exitOnAlarm === true) onSignal('alarm');
    await new Promise<void>((resolveStop) => {
      if (stopping.signal.aborted) resolveStop();
      else stopping.signal.addEventListener('abort', () => resolveStop(), { once: true });
    });
    offAlarm();
    await running.close();
    if (node.alarm !== null) exitWithAlarmStatus();
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

/** The CLI sets the exit code after runNode returns; the exit hook has the last word. */
function exitWithAlarmStatus(): void {
  process.exitCode = EXIT_ALARM;
  process.once('exit', () => {
    process.exitCode = EXIT_ALARM;
  });
}
