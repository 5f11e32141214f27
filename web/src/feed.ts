// The live block feed over the API's WebSocket (/api/ws, docs/api.md): one connection for the whole
// page, `subscribe` with blocks, one callback per committed block. Nothing polls: when the
// connection drops, it reconnects after a growing pause and first reads the blocks it missed. A
// mirror node also pushes its alarm on this feed the moment it raises it.

import { api } from './api.js';
import type { BlockView, ChainAlarm } from './types.js';

export type FeedState = 'connecting' | 'live' | 'offline';
type BlockListener = (block: BlockView) => void;
type StateListener = (state: FeedState) => void;
type AlarmListener = (alarm: ChainAlarm) => void;

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
const CATCH_UP_BLOCKS_MAX = 100;

export class BlockFeed {
  #socket: WebSocket | null = null;
  #blocks = new Set<BlockListener>();
  #states = new Set<StateListener>();
  #alarms = new Set<AlarmListener>();
  #state: FeedState = 'connecting';
  #lastHeight: number | null = null;
  #retryMs = RETRY_FIRST_MS;
  #closed = false;

  get state(): FeedState {
    return this.#state;
  }

  onBlock(fn: BlockListener): () => void {
    this.#blocks.add(fn);
    return () => this.#blocks.delete(fn);
  }

  onAlarm(fn: AlarmListener): () => void {
    this.#alarms.add(fn);
    return () => this.#alarms.delete(fn);
  }

  onState(fn: StateListener): () => void {
    this.#states.add(fn);
    return () => this.#states.delete(fn);
  }

  start(): void {
    if (this.#closed || this.#socket !== null) return;
    const url = new URL('api/ws', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url.href);
    this.#socket = socket;
    this.#setState('connecting');
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'subscribe', blocks: true, id: 'dashboard' }));
    });
    socket.addEventListener('message', (ev) => this.#message(String(ev.data)));
    socket.addEventListener('close', () => this.#dropped(socket));
  }

  close(): void {
    this.#closed = true;
    this.#socket?.close(1000);
  }

  #message(text: string): void {
    const msg = JSON.parse(text) as { type: string; block?: BlockView; alarm?: ChainAlarm };
    if (msg.type === 'subscribed') {
      this.#retryMs = RETRY_FIRST_MS;
      this.#setState('live');
      this.#catchUp().catch((err: unknown) => console.warn('catching up on blocks failed', err));
    } else if (msg.type === 'block' && msg.block !== undefined) this.#deliver(msg.block);
    else if (msg.type === 'alarm' && msg.alarm !== undefined)
      for (const fn of this.#alarms) fn(msg.alarm);
  }

  #deliver(block: BlockView): void {
    if (this.#lastHeight !== null && block.height <= this.#lastHeight) return;
    this.#lastHeight = block.height;
    for (const fn of this.#blocks) fn(block);
  }

  /** After a reconnect: the blocks committed while the connection was down, at most a page. */
  async #catchUp(): Promise<void> {
    if (this.#lastHeight === null) return;
    const missed = await api.blocks(this.#lastHeight + 1, CATCH_UP_BLOCKS_MAX);
    for (const b of missed) this.#deliver(b);
  }

  #dropped(socket: WebSocket): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    if (this.#closed) return;
    this.#setState('offline');
    setTimeout(() => this.start(), this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  #setState(state: FeedState): void {
    this.#state = state;
    for (const fn of this.#states) fn(state);
  }
}
