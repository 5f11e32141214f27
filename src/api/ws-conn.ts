// What every WebSocket connection of the API shares: a bounded send buffer (a client that reads
// too slowly is dropped with close code 1013 instead of making the server hold its backlog), a
// keepalive (the server pings; a connection that missed a whole interval of pongs is closed), and
// cleanups that run exactly once when the connection ends.

import { WebSocket } from 'ws';
import type { ReportError } from './tx-final-hub.js';

/** Close code for "try again later", used when a client does not keep up with what we send. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Close code for "going away": server shutdown or a client that stopped answering pings. */
export const CLOSE_GOING_AWAY = 1001;

export interface ConnLimits {
  /** Bytes that may wait in the send buffer; one more message and the connection is dropped. */
  readonly sendBufferMaxBytes: number;
  /** How long a closing connection may take to finish the close handshake before it is cut. */
  readonly closeGraceMs: number;
}

export class ApiSocket {
  /** Set by a pong; cleared by each keepalive ping. */
  alive = true;
  private readonly cleanups = new Set<() => void>();
  private killTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly ws: WebSocket,
    private readonly limits: ConnLimits,
    private readonly reportError: ReportError,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.end());
    // A protocol error (bad frame, oversize message) closes the socket; ws reports it here first.
    ws.on('error', () => undefined);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends text; drops the connection (1013) when the send buffer would exceed its bound. */
  send(text: string): boolean {
    if (!this.open) return false;
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.limits.sendBufferMaxBytes) {
      this.close(CLOSE_TRY_AGAIN_LATER, 'Send buffer full: the client reads too slowly.');
      return false;
    }
    this.ws.send(text);
    return true;
  }

  /** Serialises and sends; a value that cannot be serialised is reported, never thrown. */
  sendJson(value: unknown): boolean {
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      this.reportError(err, 'serialising a WebSocket message');
      return false;
    }
    return this.send(text);
  }

  /** Starts the close handshake and cuts the connection if it does not finish in time. */
  close(code: number, reason: string): void {
    if (this.ended || this.killTimer !== undefined) return;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
    }
    this.killTimer = setTimeout(() => this.ws.terminate(), this.limits.closeGraceMs);
  }

  /** Registers `fn` to run once when the connection ends; returns a function that unregisters it. */
  onEnd(fn: () => void): () => void {
    if (this.ended) {
      fn();
      return () => undefined;
    }
    this.cleanups.add(fn);
    return () => {
      this.cleanups.delete(fn);
    };
  }

  /** Resolves when the connection has fully closed. */
  whenEnded(): Promise<void> {
    return new Promise((resolve) => {
      this.onEnd(resolve);
    });
  }

  /** Sends a ping, or closes the connection when the previous ping got no pong. */
  keepalive(): void {
    if (!this.open) return;
    if (!this.alive) {
      this.close(CLOSE_GOING_AWAY, 'No longer responding to keep alive.');
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    const all = [...this.cleanups];
    this.cleanups.clear();
    for (const fn of all) {
      try {
        fn();
      } catch (err) {
        this.reportError(err, 'cleaning up a closed WebSocket connection');
      }
    }
  }
}
