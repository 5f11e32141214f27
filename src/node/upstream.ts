// Where a mirror node gets its blocks: a processor or another node, over the same API both serve
// (GET /api/blocks/raw, the /api/ws block feed, /api/info), and where it forwards submissions
// (POST /api/transactions/batch). Everything the upstream says is checked before it is used.

import WebSocket from 'ws';
import type { ChainInfo, TxView } from '../chain/views.js';
import type { SubmitResult } from '../ledger/service.js';
import { HanzenetClient } from '../client/client.js';
import type { BatchItemResult } from '../client/client.js';
import { asChainInfo, asRawBlocks, asTxView } from '../client/check.js';
import { ClientError } from '../client/errors.js';
import { isRecord, normaliseBaseUrl, requestJson, webSocketUrl } from '../client/http.js';
import { ChainError, isErrorCode } from '../core/errors.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';

export interface FeedHandlers {
  /** The connection is open and the block subscription was sent. */
  onOpen(): void;
  /** One pushed block, as raw bytes (the pushed view is ignored: only the bytes are checked). */
  onBlock(raw: Uint8Array): void;
  /** The connection ended (or never opened); `opened` tells which. */
  onClose(opened: boolean, reason: string): void;
}

export interface FeedConnection {
  close(): void;
}

export interface Upstream {
  readonly url: string;
  info(signal?: AbortSignal): Promise<ChainInfo>;
  rawBlocks(fromHeight: number, limit: number, signal?: AbortSignal): Promise<Uint8Array[]>;
  submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]>;
  /** The upstream's view of a transaction; null when it does not know it or cannot be asked. */
  transaction(idHex: string): Promise<TxView | null>;
  subscribe(handlers: FeedHandlers): FeedConnection;
}

export interface HttpUpstreamOptions {
  /** Time limit of one HTTP request (a batch of raw blocks can be many MB). Default 60 s. */
  readonly fetchTimeoutMs?: number;
  /** Interval of our own WebSocket pings; no answer within one interval: reconnect. Default 15 s. */
  readonly pingIntervalMs?: number;
}

const SUBMIT_CHUNK = 1000;
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** A pushed block is at most 64 MiB, base64 in JSON with its view: well below this. */
const WS_MESSAGE_MAX_BYTES = 256 * 1024 * 1024;
const LOOKUP_TIMEOUT_MS = 5_000;

export class HttpUpstream implements Upstream {
  readonly url: string;
  private readonly client: HanzenetClient;
  private readonly fetchTimeoutMs: number;
  private readonly pingIntervalMs: number;

  constructor(
    url: string,
    private readonly scheduler: Scheduler,
    opts: HttpUpstreamOptions = {},
  ) {
    this.url = normaliseBaseUrl(url);
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 60_000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 15_000;
    this.client = new HanzenetClient({ url: this.url, fetchTimeoutMs: this.fetchTimeoutMs });
  }

  async info(signal?: AbortSignal): Promise<ChainInfo> {
    return asChainInfo(await this.get('/api/info', {}, signal));
  }

  async rawBlocks(fromHeight: number, limit: number, signal?: AbortSignal): Promise<Uint8Array[]> {
    return asRawBlocks(await this.get('/api/blocks/raw', { from: fromHeight, limit }, signal));
  }

  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    const out: SubmitResult[] = [];
    for (let i = 0; i < txs.length; i += SUBMIT_CHUNK) {
      let answers: BatchItemResult[];
      try {
        answers = await this.client.submitBatch(txs.slice(i, i + SUBMIT_CHUNK));
      } catch (err) {
        throw forwardError(err, this.url);
      }
      for (const a of answers) out.push(submitResultOf(a));
    }
    return out;
  }

  async transaction(idHex: string): Promise<TxView | null> {
    try {
      return asTxView(
        await this.get(`/api/transactions/${idHex}`, {}, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)),
      );
    } catch {
      // Unknown there, or the upstream cannot be asked: either way this node does not know it.
      return null;
    }
  }

  subscribe(handlers: FeedHandlers): FeedConnection {
    const ws = new WebSocket(webSocketUrl(this.url, '/api/ws'), {
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: WS_MESSAGE_MAX_BYTES,
    });
    let opened = false;
    let alive = true;
    let ended = false;
    let reason = 'closed';
    let pinging = true;
    let cancelPing: Cancel = () => undefined;
    const stopPing = (): void => {
      pinging = false;
      cancelPing();
    };
    const ping = (): void => {
      if (!pinging) return;
      cancelPing = this.scheduler.after(this.pingIntervalMs, () => {
        ping();
        if (ws.readyState !== WebSocket.OPEN) return;
        if (!alive) {
          reason = `no answer to a ping within ${this.pingIntervalMs} ms`;
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      });
    };
    ping();
    ws.on('open', () => {
      opened = true;
      ws.send(JSON.stringify({ type: 'subscribe', blocks: true }));
      handlers.onOpen();
    });
    ws.on('pong', () => {
      alive = true;
    });
    ws.on('message', (data) => {
      alive = true;
      const raw = pushedRaw(String(data));
      if (raw !== null) handlers.onBlock(raw);
    });
    ws.on('error', (err) => {
      reason = err.message;
    });
    ws.on('close', (code, why) => {
      stopPing();
      if (ended) return;
      ended = true;
      const text = why.toString();
      handlers.onClose(
        opened,
        opened ? `closed with ${code}${text === '' ? '' : ` (${text})`}` : reason,
      );
    });
    return {
      close: () => {
        stopPing();
        if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)
          ws.terminate();
      },
    };
  }

  private get(path: string, query: Record<string, number>, signal?: AbortSignal): Promise<unknown> {
    return requestJson(this.url, {
      method: 'GET',
      path,
      query,
      timeoutMs: this.fetchTimeoutMs,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}

/** The raw bytes of a `{"type": "block", "raw": base64}` push; null for any other message. */
function pushedRaw(text: string): Uint8Array | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(msg) || msg['type'] !== 'block' || typeof msg['raw'] !== 'string') return null;
  return new Uint8Array(Buffer.from(msg['raw'], 'base64'));
}

function submitResultOf(a: BatchItemResult): SubmitResult {
  if ('error' in a) return { ok: false, id: a.id, error: a.error };
  return { ok: true, id: a.id };
}

/** A failed forward: `retry` when the upstream cannot be reached, else its own error. */
function forwardError(err: unknown, url: string): ChainError {
  if (
    err instanceof ClientError &&
    err.status !== null &&
    isErrorCode(err.code) &&
    err.code !== 'internal'
  ) {
    return new ChainError(err.code, err.message, { ...err.details, upstream: url }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ChainError(
    'retry',
    `the transactions could not be forwarded to ${url}: ${message}`,
    { upstream: url },
    { cause: err },
  );
}
