// One shared WebSocket (`/api/ws`) that asks the server to push the final view of watched
// transactions. It is opened on the first watch and closed when nobody watches any more, so an
// idle client holds no socket and a CLI process can exit. When the socket cannot be opened or
// drops, `status` says 'down' and the waiters poll over HTTP instead (see awaitTransaction).

import WebSocket from 'ws';
import type { TxView } from '../chain/views.js';
import { isFinal, isTxView } from './check.js';
import { isRecord } from './http.js';

export type WatchStatus = 'idle' | 'connecting' | 'open' | 'down';

type Listener = (view: TxView) => void;

const IDS_PER_MESSAGE_MAX = 1000;
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** After a failed or dropped socket, waiters poll for this long before a new socket is tried. */
const RETRY_AFTER_MS = 5_000;

export class TxWatcher {
  private socket: WebSocket | null = null;
  private state: WatchStatus = 'idle';
  private readonly listeners = new Map<string, Set<Listener>>();
  private unsent = new Set<string>();
  private flushQueued = false;
  private retryAtMs = 0;

  constructor(private readonly url: string) {}

  get status(): WatchStatus {
    return this.state;
  }

  /** Calls `listener` with the final view of `idHex` (lowercase) if the server pushes it. */
  watch(idHex: string, listener: Listener): () => void {
    let set = this.listeners.get(idHex);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(idHex, set);
      this.unsent.add(idHex);
    }
    set.add(listener);
    this.ensureSocket();
    this.queueFlush();
    return () => this.unwatch(idHex, listener);
  }

  /** Closes the socket; current waiters fall back to polling. */
  close(): void {
    this.listeners.clear();
    this.closeSocket();
  }

  private unwatch(idHex: string, listener: Listener): void {
    const set = this.listeners.get(idHex);
    if (set === undefined) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(idHex);
    this.unsent.delete(idHex);
    if (this.listeners.size === 0) this.closeSocket();
  }

  private ensureSocket(): void {
    if (this.socket !== null || Date.now() < this.retryAtMs) return;
    const ws = new WebSocket(this.url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.socket = ws;
    this.state = 'connecting';
    ws.on('open', () => {
      if (this.socket !== ws) return;
      this.state = 'open';
      this.unsent = new Set(this.listeners.keys());
      this.flush();
    });
    ws.on('message', (data) => this.onMessage(String(data)));
    // Failures are reported through 'close', which always follows 'error'.
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (this.listeners.size > 0) {
        this.state = 'down';
        this.retryAtMs = Date.now() + RETRY_AFTER_MS;
      } else {
        this.state = 'idle';
      }
    });
  }

  private closeSocket(): void {
    const ws = this.socket;
    this.socket = null;
    this.state = 'idle';
    this.unsent.clear();
    if (ws !== null) ws.close(1000);
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Watches made in the same tick go out in one message.
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    const ws = this.socket;
    if (ws === null || this.state !== 'open' || this.unsent.size === 0) return;
    const ids = [...this.unsent];
    this.unsent.clear();
    for (let i = 0; i < ids.length; i += IDS_PER_MESSAGE_MAX) {
      ws.send(JSON.stringify({ type: 'watch', ids: ids.slice(i, i + IDS_PER_MESSAGE_MAX) }));
    }
  }

  private onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return; // Not ours to interpret: the server only promises JSON, and polling still runs.
    }
    if (!isRecord(msg) || msg['type'] !== 'tx' || !isTxView(msg['tx'])) return;
    const view = msg['tx'];
    if (!isFinal(view)) return;
    const set = this.listeners.get(view.id.toLowerCase());
    if (set === undefined) return;
    for (const listener of [...set]) listener(view);
  }
}
