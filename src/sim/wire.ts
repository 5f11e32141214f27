// What the simulated processes say to each other over the SimNetwork, and one process's end of
// it. Every request, answer, pushed block and ping is one message, so the run's network faults
// (loss, duplicates, delays that reorder, cut links) apply to all of them. A request whose answer
// does not come fails after a time limit on the process's own scheduler with a `retry` error, as
// an HTTP request that times out does; a block feed whose pings go unanswered closes, as the
// real WebSocket feed does (src/node/upstream.ts).

import { ChainError, isErrorCode } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { Cancel } from '../core/scheduler.js';
import type { FeedConnection, FeedHandlers } from '../node/upstream.js';
import type { IncarnationScheduler } from './incarnation.js';
import type { SimNetwork } from './network.js';

export type Call =
  | { readonly op: 'info' }
  | { readonly op: 'rawBlocks'; readonly fromHeight: number; readonly limit: number }
  | { readonly op: 'submit'; readonly txs: readonly Uint8Array[] }
  | { readonly op: 'transaction'; readonly idHex: string };

export type Answer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export type SimMessage =
  | { readonly kind: 'request'; readonly id: string; readonly call: Call }
  | { readonly kind: 'response'; readonly id: string; readonly answer: Answer }
  | { readonly kind: 'subscribe'; readonly feedId: string }
  | { readonly kind: 'subscribed'; readonly feedId: string }
  | {
      readonly kind: 'block';
      readonly feedId: string;
      /** The push's number on its feed, from 1: a gap means the stream broke. */
      readonly seq: number;
      readonly height: number;
      readonly raw: Uint8Array;
    }
  | { readonly kind: 'ping'; readonly feedId: string }
  /** `seq`: the last push sent on the feed, so a lost last push is noticed too. */
  | { readonly kind: 'pong'; readonly feedId: string; readonly seq: number }
  | { readonly kind: 'unsubscribe'; readonly feedId: string };

export type SimWire = SimNetwork<SimMessage>;

/** How a message is named in the trace. */
export function describeMessage(m: SimMessage): string {
  switch (m.kind) {
    case 'request':
      return `request ${m.id} ${m.call.op}${m.call.op === 'rawBlocks' ? ` from ${m.call.fromHeight}` : ''}${m.call.op === 'submit' ? ` ${m.call.txs.length} txs` : ''}`;
    case 'response':
      return `response ${m.id} ${m.answer.ok ? 'ok' : m.answer.code}`;
    case 'block':
      return `block ${m.height} feed ${m.feedId}`;
    default:
      return `${m.kind} feed ${m.feedId}`;
  }
}

/** A request without an answer in this time fails (an HTTP time limit). */
export const CALL_TIMEOUT_MS = 10_000;
/** A feed whose subscription is not confirmed in this time is closed (the WebSocket handshake). */
export const FEED_HANDSHAKE_MS = 5_000;
/** The feed's ping interval: no pong within one interval closes it. */
export const FEED_PING_MS = 5_000;

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly cancelTimer: Cancel;
}

interface OpenFeed {
  readonly handlers: FeedHandlers;
  opened: boolean;
  pongSeen: boolean;
  /** The last push delivered. */
  seq: number;
  close(reason: string): void;
}

/** Where the messages a process serves (requests, subscriptions, pings) go. */
export type ServeHandler = (message: SimMessage, from: string) => void;

/**
 * One incarnation's end of the network: it listens on the process's address, sends requests and
 * matches their answers, keeps its feeds alive with pings, and passes what others ask of it to
 * the server it is given. Ids carry the incarnation, so an answer meant for the process's previous
 * life matches nothing.
 */
export class Endpoint {
  private readonly calls = new Map<string, PendingCall>();
  private readonly feeds = new Map<string, OpenFeed>();
  private readonly stopListening: () => void;
  private serveHandler: ServeHandler | null = null;
  private nextId = 1;

  constructor(
    private readonly network: SimWire,
    private readonly scheduler: IncarnationScheduler,
    readonly address: string,
    private readonly incarnation: number,
  ) {
    this.stopListening = network.listen(address, (message, from) => this.receive(message, from));
  }

  serve(handler: ServeHandler): void {
    this.serveHandler = handler;
  }

  send(to: string, message: SimMessage): void {
    if (this.scheduler.isAlive) this.network.send(this.address, to, message);
  }

  /** The crash: the address goes quiet; calls and feeds under way never hear anything again. */
  close(): void {
    this.stopListening();
    this.calls.clear();
    this.feeds.clear();
  }

  /** Sends a request; its answer's value, or a ChainError (`retry` when no answer came in time). */
  call(
    to: string,
    call: Call,
    signal?: AbortSignal,
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<unknown> {
    const id = this.newId();
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new ChainError('shutting_down', `the ${call.op} request to ${to} was aborted`));
        return;
      }
      const onAbort = (): void => {
        this.settle(id)?.reject(
          new ChainError('shutting_down', `the ${call.op} request to ${to} was aborted`),
        );
      };
      const cancelTimer = this.scheduler.after(timeoutMs, () => {
        this.settle(id)?.reject(
          new ChainError('retry', `no answer from ${to} to ${call.op} within ${timeoutMs} ms`),
        );
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.calls.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        cancelTimer,
      });
      this.send(to, { kind: 'request', id, call });
    });
  }

  /** Subscribes to `to`'s block feed. */
  openFeed(to: string, handlers: FeedHandlers): FeedConnection {
    const feedId = this.newId();
    let ended = false;
    let cancelTimer: Cancel = () => undefined;
    const feed: OpenFeed = {
      handlers,
      opened: false,
      pongSeen: true,
      seq: 0,
      close: (reason) => {
        if (ended) return;
        ended = true;
        cancelTimer();
        this.feeds.delete(feedId);
        this.send(to, { kind: 'unsubscribe', feedId });
        handlers.onClose(feed.opened, reason);
      },
    };
    const ping = (): void => {
      cancelTimer = this.scheduler.after(feed.opened ? FEED_PING_MS : FEED_HANDSHAKE_MS, () => {
        if (!feed.opened) {
          feed.close(`no answer to the subscription within ${FEED_HANDSHAKE_MS} ms`);
          return;
        }
        if (!feed.pongSeen) {
          feed.close(`no answer to a ping within ${FEED_PING_MS} ms`);
          return;
        }
        feed.pongSeen = false;
        this.send(to, { kind: 'ping', feedId });
        ping();
      });
    };
    this.feeds.set(feedId, feed);
    this.send(to, { kind: 'subscribe', feedId });
    ping();
    return { close: () => feed.close('closed') };
  }

  private receive(message: SimMessage, from: string): void {
    if (!this.scheduler.isAlive) return;
    switch (message.kind) {
      case 'response': {
        const pending = this.settle(message.id);
        if (pending === undefined) return; // late, duplicated, or meant for an earlier life
        const a = message.answer;
        if (a.ok) pending.resolve(a.value);
        else pending.reject(new ChainError(a.code, a.message, { upstream: from }));
        return;
      }
      case 'subscribed':
      case 'block':
      case 'pong':
        this.feedMessage(message);
        return;
      default:
        this.serveHandler?.(message, from);
    }
  }

  private feedMessage(
    message: Extract<SimMessage, { readonly kind: 'subscribed' | 'block' | 'pong' }>,
  ): void {
    const feed = this.feeds.get(message.feedId);
    if (feed === undefined) return;
    if (message.kind === 'subscribed') {
      if (feed.opened) return;
      feed.opened = true;
      feed.handlers.onOpen();
      return;
    }
    feed.pongSeen = true;
    // The real feed is a WebSocket on TCP: a push arrives once and in order, or the connection
    // breaks. A push out of order, or one the pong says was sent but never came, breaks it here.
    if (!feed.opened || message.seq <= feed.seq) return;
    if (message.kind === 'pong' || message.seq > feed.seq + 1) {
      if (message.seq > feed.seq) feed.close(`push ${feed.seq + 1} was lost: the stream broke`);
      return;
    }
    feed.seq = message.seq;
    feed.handlers.onBlock(message.raw);
  }

  private settle(id: string): PendingCall | undefined {
    const pending = this.calls.get(id);
    if (pending === undefined) return undefined;
    this.calls.delete(id);
    pending.cancelTimer();
    return pending;
  }

  private newId(): string {
    return `${this.address}#${this.incarnation}.${this.nextId++}`;
  }
}

/** An error as an answer: our errors keep their code, anything else is `internal`. */
export function answerOfError(err: unknown): Answer {
  if (err instanceof ChainError && isErrorCode(err.code))
    return { ok: false, code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, code: 'internal', message };
}
