// Keeps a mirror node up to date with its upstream. Each session: check the upstream serves our
// chain, open the live block feed, catch up over HTTP from the node's head (the upstream must still
// serve the head block itself, byte for byte), then apply pushed blocks as they come. Catch-up is
// pipelined: the next batch is fetched, decoded and signature-checked while the current one is
// re-executed and committed. A lost connection ends the session; the next starts after an
// exponential backoff with jitter and fetches whatever was missed. Blocks are applied strictly in
// height order, each once; the first failed check raises the alarm and ends the follower.

import { jittered } from '../client/timers.js';
import { sleepOn } from '../core/scheduler.js';
import type { Scheduler } from '../core/scheduler.js';
import { describeError } from '../ledger/log.js';
import type { Logger } from '../ledger/log.js';
import { AlarmError, alarmError } from './alarm.js';
import { announcedHeight } from '../chain/block-layout.js';
import type { MirrorNode, PreparedBatch } from './mirror.js';
import type { FeedConnection, Upstream } from './upstream.js';

export interface FollowerOptions {
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Aim for catch-up batches of about this many bytes. Default 16 MiB. */
  readonly batchBytesTarget?: number;
  /** At most this many blocks per catch-up request (the API's limit is 1000). */
  readonly batchBlocksMax?: number;
  /** Blocks asked for in the first request, before their size is known. Default 16. */
  readonly firstBatchBlocks?: number;
  /** Pushed blocks (and bytes) held while the node is busy; beyond that they are dropped and fetched over HTTP. */
  readonly pushQueueMax?: number;
  readonly pushQueueBytesMax?: number;
  readonly progressLogMs?: number;
  /**
   * Spreads a reconnect delay so that many nodes do not reconnect in step. Default: +-25 % from
   * Math.random; the simulator passes one drawn from its seed.
   */
  readonly jitter?: (delayMs: number) => number;
}

const DEFAULTS = {
  reconnectMinMs: 250,
  reconnectMaxMs: 30_000,
  batchBytesTarget: 16 * 1024 * 1024,
  batchBlocksMax: 1000,
  firstBatchBlocks: 16,
  pushQueueMax: 256,
  pushQueueBytesMax: 64 * 1024 * 1024,
  progressLogMs: 10_000,
};

interface FetchedBatch {
  readonly fromHeight: number;
  readonly limit: number;
  readonly count: number;
  readonly bytes: number;
  readonly prepared: PreparedBatch;
}

/** Pushed blocks waiting for the node, in arrival order; bounded. */
class PushQueue {
  private readonly items: Uint8Array[] = [];
  private bytes = 0;
  private wake: (() => void) | null = null;
  private closedReason: string | null = null;
  overflowed = false;
  opened = false;
  private openWaiters: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly bytesMax: number,
  ) {}

  push(raw: Uint8Array): void {
    if (this.items.length >= this.max || this.bytes + raw.length > this.bytesMax) {
      this.items.length = 0;
      this.bytes = 0;
      this.overflowed = true;
    } else {
      this.items.push(raw);
      this.bytes += raw.length;
    }
    this.notify();
  }

  open(): void {
    this.opened = true;
    for (const w of this.openWaiters.splice(0)) w();
  }

  close(reason: string): void {
    this.closedReason ??= reason;
    for (const w of this.openWaiters.splice(0)) w();
    this.notify();
  }

  get reason(): string | null {
    return this.closedReason;
  }

  /** Resolves once the connection opened or ended. */
  whenSettled(): Promise<void> {
    if (this.opened || this.closedReason !== null) return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  /** The next pushed block, 'overflow' when some were dropped, or null once closed. */
  async next(): Promise<Uint8Array | 'overflow' | null> {
    for (;;) {
      if (this.overflowed) {
        this.overflowed = false;
        return 'overflow';
      }
      const item = this.items.shift();
      if (item !== undefined) {
        this.bytes -= item.length;
        return item;
      }
      if (this.closedReason !== null) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

export class Follower {
  private readonly opts: typeof DEFAULTS;
  private readonly jitter: (delayMs: number) => number;
  private readonly abort = new AbortController();
  private done: Promise<void> | null = null;
  private feed: FeedConnection | null = null;
  private limit: number;
  private lastProgressLog: { ms: number; height: number; txs: number } | null = null;
  private catchUpTxs = 0;

  constructor(
    private readonly node: MirrorNode,
    private readonly upstream: Upstream,
    private readonly log: Logger,
    private readonly scheduler: Scheduler,
    opts: FollowerOptions = {},
  ) {
    const { jitter, ...sizes } = opts;
    this.opts = { ...DEFAULTS, ...definedOnly(sizes) };
    this.jitter = jitter ?? jittered;
    this.limit = Math.min(this.opts.firstBatchBlocks, this.opts.batchBlocksMax);
  }

  /** Starts following; `finished` resolves when the follower stops (stop() or an alarm). */
  start(): void {
    this.done ??= this.run();
  }

  get finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.feed?.close();
    await this.finished;
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async run(): Promise<void> {
    let delayMs = this.opts.reconnectMinMs;
    while (!this.signal.aborted && this.node.alarm === null) {
      let progressed = false;
      try {
        if (this.node.headInfo === null) await this.bootstrap();
        progressed = await this.session();
      } catch (err) {
        if (err instanceof AlarmError || this.node.alarm !== null || this.signal.aborted) break;
        this.log.warn('following the upstream failed; trying again', {
          upstream: this.upstream.url,
          error: describeError(err),
          retryInMs: delayMs,
        });
        await this.recover();
      }
      if (this.signal.aborted || this.node.alarm !== null) break;
      if (progressed) delayMs = this.opts.reconnectMinMs;
      await sleepOn(this.scheduler, this.jitter(delayMs), this.signal);
      if (!progressed) delayMs = Math.min(delayMs * 2, this.opts.reconnectMaxMs);
    }
  }

  private async recover(): Promise<void> {
    try {
      await this.node.recover();
    } catch (err) {
      this.log.error('recovering after a failure failed; trying again later', {
        error: describeError(err),
      });
    }
  }

  /** Block 0: fetched alone, since it tells the chain id every later block is decoded with. */
  private async bootstrap(): Promise<void> {
    const [raw] = await this.upstream.rawBlocks(0, 1, this.signal);
    if (raw === undefined)
      throw new Error(`the upstream ${this.upstream.url} has no genesis block yet`);
    await this.node.applyGenesis(raw);
    this.log.info('verified the genesis block', {
      chainId: this.node.chainKeys?.chainId,
      processorAddress: this.node.chainKeys?.processorAddress,
    });
  }

  /** One connection: check, subscribe, catch up, follow. True when it got anywhere. */
  private async session(): Promise<boolean> {
    await this.checkUpstreamChain();
    const queue = new PushQueue(this.opts.pushQueueMax, this.opts.pushQueueBytesMax);
    this.feed = this.upstream.subscribe({
      onOpen: () => queue.open(),
      onBlock: (raw) => queue.push(raw),
      onClose: (_opened, reason) => queue.close(reason),
    });
    let applied = 0;
    try {
      await queue.whenSettled();
      if (this.signal.aborted) return false;
      this.node.noteUpstreamConnected(queue.opened);
      applied += await this.catchUp();
      if (!queue.opened) {
        this.log.warn('the live block feed is not available; polling over HTTP', {
          upstream: this.upstream.url,
          reason: queue.reason,
        });
        return applied > 0;
      }
      this.log.info('following the live block feed', {
        upstream: this.upstream.url,
        height: this.node.headInfo?.height,
      });
      applied += await this.followLive(queue);
      if (this.signal.aborted) return true;
      this.log.warn('the live block feed closed; reconnecting', {
        upstream: this.upstream.url,
        reason: queue.reason,
        height: this.node.headInfo?.height,
      });
      return true;
    } finally {
      this.feed.close();
      this.feed = null;
      this.node.noteUpstreamConnected(false);
    }
  }

  /** The upstream must serve this node's chain; a node that serves another is a misconfiguration or worse. */
  private async checkUpstreamChain(): Promise<void> {
    const info = await this.upstream.info(this.signal);
    const keys = this.node.chainKeys;
    if (info.head !== null) this.node.noteUpstreamHeight(info.head.height);
    if (
      keys === null ||
      (info.chainId === keys.chainId && info.processorAddress === keys.processorAddress)
    )
      return;
    const height = this.node.headInfo?.height ?? 0;
    this.fail(
      alarmError(
        'chain_mismatch',
        { height },
        'chain',
        { chainId: keys.chainId, processorAddress: keys.processorAddress },
        { chainId: info.chainId, processorAddress: info.processorAddress },
        `the upstream ${this.upstream.url} serves chain ${JSON.stringify(info.chainId)} of processor ${info.processorAddress}, but this node mirrors chain ${JSON.stringify(keys.chainId)} of processor ${keys.processorAddress}`,
      ),
    );
  }

  /** Records the alarm and ends the follower. */
  private fail(err: AlarmError): never {
    this.node.raise(err.fields);
    throw err;
  }

  private async followLive(queue: PushQueue): Promise<number> {
    let applied = 0;
    for (;;) {
      const next = await queue.next();
      if (next === null || this.signal.aborted) return applied;
      if (next === 'overflow') {
        applied += await this.catchUp();
        continue;
      }
      applied += await this.onPush(next);
    }
  }

  private async onPush(raw: Uint8Array): Promise<number> {
    const head = this.node.headInfo;
    if (head === null) return 0;
    const height = announcedHeight(raw);
    if (height !== null) this.node.noteUpstreamHeight(height);
    if (height !== null && height <= head.height) {
      await this.node.checkRepeat(height, raw);
      return 0;
    }
    if (height !== null && height > head.height + 1) {
      // Pushes were missed (or arrive out of order): fetch the gap over HTTP, in order.
      return this.catchUp();
    }
    const prepared = await this.node.prepare({ fromHeight: head.height + 1, raws: [raw] });
    return this.node.apply(prepared, this.signal);
  }

  /**
   * Fetches and applies blocks from the node's head until the upstream has no more. The first
   * request starts at the head itself, which the upstream must still serve unchanged.
   */
  private async catchUp(): Promise<number> {
    const head = this.node.headInfo;
    if (head === null) return 0;
    let applied = 0;
    let next = this.fetch(head.height, this.limit);
    let first = true;
    for (;;) {
      const batch = await next;
      if (first && batch.count === 0) {
        await this.upstreamLacksHead(head.height);
        return applied;
      }
      first = false;
      this.adapt(batch);
      const more = batch.count >= batch.limit && !this.signal.aborted;
      if (more) {
        next = this.fetch(batch.fromHeight + batch.count, this.limit);
        // Handled when awaited; this only keeps an abandoned fetch from being an unhandled rejection.
        next.catch(() => undefined);
      }
      const n = await this.node.apply(batch.prepared, this.signal);
      applied += n;
      this.catchUpTxs += batch.prepared.items.reduce(
        (sum, item) => sum + (item.block?.txs.length ?? 0),
        0,
      );
      this.logProgress();
      if (!more || this.signal.aborted) return applied;
    }
  }

  private async fetch(fromHeight: number, limit: number): Promise<FetchedBatch> {
    let raws: Uint8Array[];
    try {
      raws = await this.upstream.rawBlocks(fromHeight, limit, this.signal);
    } catch (err) {
      // A batch too large to arrive in time (a slow link) would fail the same way again.
      this.limit = Math.max(1, Math.floor(limit / 2));
      throw err;
    }
    if (raws.length > 0) this.node.noteUpstreamHeight(fromHeight + raws.length - 1);
    const bytes = raws.reduce((sum, r) => sum + r.length, 0);
    const prepared = await this.node.prepare({ fromHeight, raws });
    return { fromHeight, limit, count: raws.length, bytes, prepared };
  }

  /** Sizes the next request so that a batch holds about batchBytesTarget bytes. */
  private adapt(batch: FetchedBatch): void {
    if (batch.count === 0) return;
    const perBlock = Math.max(1, batch.bytes / batch.count);
    this.limit = Math.max(
      1,
      Math.min(this.opts.batchBlocksMax, Math.floor(this.opts.batchBytesTarget / perBlock)),
    );
  }

  /** The upstream does not serve the node's head block: it is behind, or it lost blocks. */
  private async upstreamLacksHead(headHeight: number): Promise<void> {
    const info = await this.upstream.info(this.signal);
    const theirs = info.head?.height ?? -1;
    if (theirs >= headHeight) return;
    if (info.role === 'processor') {
      this.fail(
        alarmError(
          'history_mismatch',
          { height: headHeight },
          'head.height',
          `at least ${headHeight}`,
          theirs,
          `the processor at ${this.upstream.url} serves a chain up to block ${theirs}, but it already produced block ${headHeight}, which this node verified: its history was truncated`,
        ),
      );
    }
    this.log.warn('the upstream node is behind this node; waiting for it', {
      upstream: this.upstream.url,
      upstreamHeight: theirs,
      height: headHeight,
    });
  }

  private logProgress(): void {
    const now = this.scheduler.monotonicMs();
    const head = this.node.headInfo;
    if (head === null) return;
    const last = this.lastProgressLog;
    if (last === null) {
      this.lastProgressLog = { ms: now, height: head.height, txs: this.catchUpTxs };
      return;
    }
    if (now - last.ms < this.opts.progressLogMs) return;
    const seconds = (now - last.ms) / 1000;
    this.log.info('catching up', {
      height: head.height,
      blocksPerSecond: Math.round((head.height - last.height) / seconds),
      txPerSecond: Math.round((this.catchUpTxs - last.txs) / seconds),
      batchBlocks: this.limit,
    });
    this.lastProgressLog = { ms: now, height: head.height, txs: this.catchUpTxs };
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
