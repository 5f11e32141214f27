// The live block feed: a WebSocket subscription to `/api/ws` that reconnects with backoff and
// fills every gap over HTTP, so the callback sees each block exactly once, in height order, even
// across dropped connections and missed pushes.

import WebSocket from 'ws';
import type { BlockView } from '../chain/views.js';
import { asBlockView } from './check.js';
import { ClientError } from './errors.js';
import { isRecord } from './http.js';
import { jittered, sleep } from './timers.js';

export type BlockListener = (block: BlockView, raw: Uint8Array) => void | Promise<void>;

export interface SubscribeBlocksOptions {
  /** Ends the subscription; the returned promise then resolves. */
  readonly signal?: AbortSignal;
  /** Deliver every block from this height on (fetched over HTTP first), then the live ones. */
  readonly fromHeight?: number;
  /** Told about each connection or catch-up failure; the feed reconnects by itself. */
  readonly onError?: (err: ClientError) => void;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

/** What the feed needs from the client: ranges of block views and of raw blocks. */
export interface BlockSource {
  readonly wsUrl: string;
  blocks(fromHeight: number, limit: number): Promise<BlockView[]>;
  rawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]>;
}

const PAGE_BLOCKS = 100;
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** An error thrown by the caller's listener: it ends the feed instead of causing a reconnect. */
class ListenerFailure extends Error {
  constructor(readonly error: unknown) {
    super('the block listener threw', { cause: error });
  }
}

export async function subscribeBlocks(
  source: BlockSource,
  onBlock: BlockListener,
  opts: SubscribeBlocksOptions = {},
): Promise<void> {
  const feed = new BlockFeed(source, onBlock, opts);
  await feed.run();
}

class BlockFeed {
  private lastHeight: number | null;
  private queue: Promise<void> = Promise.resolve();
  private failure: ListenerFailure | null = null;
  private readonly signal: AbortSignal;
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly source: BlockSource,
    private readonly onBlock: BlockListener,
    private readonly opts: SubscribeBlocksOptions,
  ) {
    this.lastHeight = opts.fromHeight === undefined ? null : opts.fromHeight - 1;
    this.signal = opts.signal ?? new AbortController().signal;
    this.minMs = opts.reconnectMinMs ?? 250;
    this.maxMs = opts.reconnectMaxMs ?? 30_000;
  }

  async run(): Promise<void> {
    let delayMs = this.minMs;
    while (!this.signal.aborted) {
      const opened = await this.connectOnce();
      await this.queue;
      if (this.failure !== null) throw this.failure.error;
      if (this.signal.aborted) return;
      delayMs = opened ? this.minMs : Math.min(delayMs * 2, this.maxMs);
      await sleep(jittered(delayMs), this.signal);
    }
  }

  /** Resolves when the socket closes; true when it had opened. */
  private connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let opened = false;
      const ws = new WebSocket(this.source.wsUrl, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      const onAbort = (): void => ws.close(1000);
      this.signal.addEventListener('abort', onAbort, { once: true });
      ws.on('open', () => {
        opened = true;
        ws.send(JSON.stringify({ type: 'subscribe', blocks: true }));
        // Blocks produced while we were away (or since fromHeight) come over HTTP.
        if (this.lastHeight !== null) this.enqueue(ws, () => this.catchUp(null));
      });
      ws.on('message', (data) => this.onMessage(ws, String(data)));
      ws.on('error', (err) => {
        const url = this.source.wsUrl;
        this.report(
          new ClientError('unreachable', `block feed ${url}: ${err.message}`, { url }, null, {
            cause: err,
          }),
        );
      });
      ws.on('close', () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve(opened);
      });
    });
  }

  private onMessage(ws: WebSocket, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      this.report(
        new ClientError(
          'bad_response',
          'block feed sent a frame that is not JSON',
          { frame: text.slice(0, 200) },
          null,
          { cause: err },
        ),
      );
      return;
    }
    if (!isRecord(msg) || msg['type'] !== 'block') return;
    const raw = msg['raw'];
    let view: BlockView;
    try {
      view = asBlockView(msg['block']);
    } catch (err) {
      this.report(err as ClientError);
      return;
    }
    const rawBytes =
      typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'base64')) : new Uint8Array(0);
    this.enqueue(ws, () => this.onPush(view, rawBytes));
  }

  /** Runs `step` after every earlier step; a fetch failure closes the socket so we reconnect. */
  private enqueue(ws: WebSocket, step: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== null || this.signal.aborted) return;
      try {
        await step();
      } catch (err) {
        if (err instanceof ListenerFailure) {
          this.failure = err;
          ws.close(1000);
        } else {
          this.report(toClientError(err));
          ws.close(1000);
        }
      }
    });
  }

  private async onPush(view: BlockView, raw: Uint8Array): Promise<void> {
    if (this.lastHeight !== null && view.height <= this.lastHeight) return;
    if (this.lastHeight !== null && view.height > this.lastHeight + 1)
      await this.catchUp(view.height - 1);
    await this.deliver(view, raw);
  }

  /** Delivers blocks after lastHeight over HTTP, up to `toHeight` (null: until the head). */
  private async catchUp(toHeight: number | null): Promise<void> {
    while (
      this.lastHeight !== null &&
      (toHeight === null || this.lastHeight < toHeight) &&
      !this.signal.aborted
    ) {
      const from = this.lastHeight + 1;
      const limit =
        toHeight === null ? PAGE_BLOCKS : Math.min(PAGE_BLOCKS, toHeight - this.lastHeight);
      const [views, raws] = await Promise.all([
        this.source.blocks(from, limit),
        this.source.rawBlocks(from, limit),
      ]);
      const count = Math.min(views.length, raws.length);
      for (let i = 0; i < count; i++) {
        const view = views[i];
        const raw = raws[i];
        if (view === undefined || raw === undefined) break;
        if (view.height !== from + i) {
          throw new ClientError(
            'bad_response',
            `asked for blocks from ${from}, got height ${view.height} at position ${i}`,
            { from, height: view.height },
          );
        }
        await this.deliver(view, raw);
      }
      if (count < limit) return;
    }
  }

  private async deliver(view: BlockView, raw: Uint8Array): Promise<void> {
    if (this.signal.aborted) return;
    try {
      await this.onBlock(view, raw);
    } catch (err) {
      throw new ListenerFailure(err);
    }
    this.lastHeight = view.height;
  }

  private report(err: ClientError): void {
    if (this.signal.aborted) return;
    this.opts.onError?.(err);
  }
}

function toClientError(err: unknown): ClientError {
  if (err instanceof ClientError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ClientError('internal', `block feed: ${message}`, {}, null, { cause: err });
}
