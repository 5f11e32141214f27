// Both sides of the API a simulated process serves: the server answers requests from a
// LedgerService (a processor or a mirror node) and pushes each committed block to its feed's
// subscribers, like src/api does over HTTP and WebSocket; SimUpstream is the mirror node's
// `Upstream` port over the same messages, failing the way HttpUpstream fails.

import type { ChainInfo, TxView } from '../chain/views.js';
import { ChainError } from '../core/errors.js';
import type { LedgerService, SubmitResult } from '../ledger/service.js';
import type { FeedConnection, FeedHandlers, Upstream } from '../node/upstream.js';
import type { IncarnationScheduler } from './incarnation.js';
import type { Call, Endpoint, SimMessage } from './wire.js';
import { FEED_PING_MS, answerOfError } from './wire.js';

/** The API's limit on raw blocks per request. */
const RAW_BLOCKS_MAX = 1000;
/** A subscriber not heard from (no ping) for this long is gone: its connection would have broken. */
const SUBSCRIBER_SILENT_MS = 3 * FEED_PING_MS;

interface Subscriber {
  readonly to: string;
  readonly feedId: string;
  lastHeardMs: number;
  /** Pushes sent on this feed. */
  seq: number;
}

/** Serves `service` on the endpoint; returns a function that stops the block pushes. */
export function serveLedger(
  endpoint: Endpoint,
  service: LedgerService,
  scheduler: IncarnationScheduler,
): () => void {
  const subscribers = new Map<string, Subscriber>();
  const keyOf = (from: string, feedId: string): string => `${from}|${feedId}`;
  endpoint.serve((message: SimMessage, from: string) => {
    switch (message.kind) {
      case 'request':
        answer(service, message.call).then(
          (value) =>
            endpoint.send(from, { kind: 'response', id: message.id, answer: { ok: true, value } }),
          (err: unknown) =>
            endpoint.send(from, { kind: 'response', id: message.id, answer: answerOfError(err) }),
        );
        return;
      case 'subscribe':
        subscribers.set(keyOf(from, message.feedId), {
          to: from,
          feedId: message.feedId,
          lastHeardMs: scheduler.nowMs(),
          seq: 0,
        });
        endpoint.send(from, { kind: 'subscribed', feedId: message.feedId });
        return;
      case 'ping': {
        // A ping on a feed this incarnation never opened gets no answer: the connection is gone.
        const subscriber = subscribers.get(keyOf(from, message.feedId));
        if (subscriber === undefined) return;
        subscriber.lastHeardMs = scheduler.nowMs();
        endpoint.send(from, { kind: 'pong', feedId: message.feedId, seq: subscriber.seq });
        return;
      }
      case 'unsubscribe':
        subscribers.delete(keyOf(from, message.feedId));
        return;
      default:
        return;
    }
  });
  return service.onBlock((block) => {
    const nowMs = scheduler.nowMs();
    for (const [key, s] of subscribers) {
      if (nowMs - s.lastHeardMs > SUBSCRIBER_SILENT_MS) {
        subscribers.delete(key);
        continue;
      }
      s.seq++;
      endpoint.send(s.to, {
        kind: 'block',
        feedId: s.feedId,
        seq: s.seq,
        height: block.height,
        raw: block.bytes,
      });
    }
  });
}

async function answer(service: LedgerService, call: Call): Promise<unknown> {
  switch (call.op) {
    case 'info':
      return service.info();
    case 'rawBlocks':
      return service.getRawBlocks(call.fromHeight, Math.min(call.limit, RAW_BLOCKS_MAX));
    case 'submit':
      return service.submit(call.txs);
    case 'transaction':
      return service.getTransaction(call.idHex);
  }
}

/** A mirror node's upstream over the simulated network. */
export class SimUpstream implements Upstream {
  readonly url: string;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly to: string,
  ) {
    this.url = `sim://${to}`;
  }

  async info(signal?: AbortSignal): Promise<ChainInfo> {
    return (await this.endpoint.call(this.to, { op: 'info' }, signal)) as ChainInfo;
  }

  async rawBlocks(fromHeight: number, limit: number, signal?: AbortSignal): Promise<Uint8Array[]> {
    const call: Call = { op: 'rawBlocks', fromHeight, limit };
    return (await this.endpoint.call(this.to, call, signal)) as Uint8Array[];
  }

  /** As HttpUpstream: the upstream's own refusal keeps its code; no answer is `retry`. */
  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    try {
      return (await this.endpoint.call(this.to, { op: 'submit', txs })) as SubmitResult[];
    } catch (err) {
      if (err instanceof ChainError && err.code !== 'internal' && err.code !== 'retry') throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new ChainError(
        'retry',
        `the transactions could not be forwarded to ${this.url}: ${message}`,
        { upstream: this.url },
        { cause: err },
      );
    }
  }

  async transaction(idHex: string): Promise<TxView | null> {
    try {
      return (await this.endpoint.call(this.to, { op: 'transaction', idHex })) as TxView | null;
    } catch {
      // Unknown there, or the upstream cannot be asked: either way this node does not know it.
      return null;
    }
  }

  subscribe(handlers: FeedHandlers): FeedConnection {
    return this.endpoint.openFeed(this.to, handlers);
  }
}
