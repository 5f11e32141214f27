// A small in-memory stand-in for the HanzeNet API (docs/ARCHITECTURE.md), enough to test the
// client library and the CLI without a processor: info, contracts, submission (single, batch,
// wait), transaction reads (wait), blocks (views and raw) and the /api/ws feed (watch, subscribe).
// It really decodes and verifies the submitted transactions with the chain id, so a test sees
// exactly what the client signed. Knobs let tests break it: no WebSocket, ignored watches,
// dropped connections, missed block pushes.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BlockView, ContractView, TxView } from '../../src/chain/views.js';
import { toHex } from '../../src/core/bytes.js';
import { ChainError } from '../../src/core/errors.js';
import { decodeTx, verifyTxSignature } from '../../src/chain/tx.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH, type Tx } from '../../src/chain/types.js';

export interface Outcome {
  readonly status: 'accepted' | 'rejected' | 'invalid';
  readonly code: string | null;
  readonly message: string;
}

export interface FakeServerOptions {
  readonly chainId?: string;
  readonly contracts?: ContractView[];
  /** Decides each transaction's outcome; default: accepted with "OK". */
  readonly decide?: (tx: Tx, payload: Record<string, unknown>) => Outcome;
  /** Without `wait`, a submission becomes final after this many ms; null: only by finalize(). */
  readonly finalizeAfterMs?: number | null;
  /** When false, /api/ws answers 404 (no WebSocket). */
  readonly webSocket?: boolean;
  /** When true, `watch` messages are ignored (no pushes): clients must poll. */
  readonly ignoreWatch?: boolean;
  /**
   * When set, a waiting submission is not made final at once: it is scheduled like one without
   * wait and the answer is held at most this long (and at most the request's timeoutMs), after
   * which the still pending view is returned, as the real server does when its wait runs out.
   */
  readonly waitCapMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
}

export interface StoredTx {
  readonly tx: Tx;
  view: TxView;
}

export const PROCESSOR_ADDRESS = '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH';

export function contractView(type: string, hash: string): ContractView {
  return {
    hash,
    type,
    version: '1',
    description: `${type} contract`,
    template: {},
    validanaVersion: 1,
    createdHeight: 0,
  };
}

export class FakeServer {
  readonly chainId: string;
  contracts: ContractView[];
  readonly requests: RecordedRequest[] = [];
  readonly txs = new Map<string, StoredTx>();
  readonly blocks: { view: BlockView; raw: Uint8Array }[] = [];
  /** When false, new blocks are not pushed to subscribers (they must fill the gap over HTTP). */
  pushBlocks = true;
  url = '';
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly watchers = new Map<string, Set<WebSocket>>();
  private readonly subscribers = new Set<WebSocket>();
  private readonly waiters = new Map<string, Set<(view: TxView) => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: FakeServerOptions = {}) {
    this.chainId = opts.chainId ?? 'hanzenet-test';
    this.contracts = opts.contracts ?? [];
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => sendError(res, 500, 'internal', String(err)));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => {
      if (opts.webSocket === false || !req.url?.startsWith('/api/ws')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  static async start(opts: FakeServerOptions = {}): Promise<FakeServer> {
    const server = new FakeServer(opts);
    await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
    const { port } = server.http.address() as AddressInfo;
    server.url = `http://127.0.0.1:${port}`;
    return server;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** Drops every WebSocket connection (as a restart or network failure would). */
  dropSockets(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  get socketCount(): number {
    return this.wss.clients.size;
  }

  /** Connections whose subscribe message has arrived (a push reaches only these). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Makes a pending transaction final now, with the decided outcome. */
  finalize(idHex: string): TxView {
    const stored = this.txs.get(idHex);
    if (stored === undefined) throw new Error(`fake server: no transaction ${idHex}`);
    if (stored.view.status !== 'new') return stored.view;
    const payload = JSON.parse(stored.tx.payloadText) as Record<string, unknown>;
    const outcome = (this.opts.decide ?? acceptAll)(stored.tx, payload);
    stored.view = {
      ...stored.view,
      status: outcome.status,
      code: outcome.code,
      message: outcome.message,
      processedTs: Date.now(),
      blockId: outcome.status === 'invalid' ? null : this.blocks.length,
    };
    const view = stored.view;
    for (const ws of this.watchers.get(idHex) ?? [])
      ws.send(JSON.stringify({ type: 'tx', tx: view }));
    this.watchers.delete(idHex);
    for (const done of this.waiters.get(idHex) ?? []) done(view);
    this.waiters.delete(idHex);
    return view;
  }

  /** Appends a block (raw bytes: 8 bytes of the height) and pushes it to subscribers. */
  addBlock(): BlockView {
    const height = this.blocks.length;
    const view: BlockView = {
      height,
      hash: height.toString(16).padStart(64, '0'),
      previousHash: height === 0 ? '00'.repeat(32) : (height - 1).toString(16).padStart(64, '0'),
      processedMs: 1_700_000_000_000 + height * 1000,
      stateDigest: 'ab'.repeat(32),
      txCount: 0,
      transactions: [],
      signature: 'cd'.repeat(64),
      genesis:
        height === 0
          ? {
              chainId: this.chainId,
              processorPublicKey: '02'.padEnd(66, '1'),
              processorAddress: PROCESSOR_ADDRESS,
            }
          : null,
    };
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setUint32(0, height, true);
    this.blocks.push({ view, raw });
    if (this.pushBlocks) {
      const text = JSON.stringify({
        type: 'block',
        block: view,
        raw: Buffer.from(raw).toString('base64'),
      });
      for (const ws of this.subscribers) ws.send(text);
    }
    return view;
  }

  private onSocket(ws: WebSocket): void {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type?: string; ids?: string[]; blocks?: boolean };
      if (msg.type === 'subscribe' && msg.blocks === true) this.subscribers.add(ws);
      if (msg.type === 'watch' && this.opts.ignoreWatch !== true) {
        for (const id of msg.ids ?? []) this.watch(ws, id.toLowerCase());
      }
    });
    ws.on('close', () => {
      this.subscribers.delete(ws);
      for (const set of this.watchers.values()) set.delete(ws);
    });
  }

  private watch(ws: WebSocket, idHex: string): void {
    const stored = this.txs.get(idHex);
    if (stored !== undefined && stored.view.status !== 'new') {
      ws.send(JSON.stringify({ type: 'tx', tx: stored.view }));
      return;
    }
    const set = this.watchers.get(idHex) ?? new Set<WebSocket>();
    set.add(ws);
    this.watchers.set(idHex, set);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query, body });
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /api/info') return sendJson(res, 200, this.info());
    if (route === 'GET /api/contracts') return sendJson(res, 200, this.contracts);
    if (route === 'POST /api/transactions') return this.submitOne(res, body);
    if (route === 'POST /api/transactions/batch') return this.submitBatch(res, body);
    if (route === 'GET /api/blocks')
      return sendJson(
        res,
        200,
        this.blockRange(query).map((b) => b.view),
      );
    if (route === 'GET /api/blocks/raw')
      return sendJson(res, 200, {
        blocks: this.blockRange(query).map((b) => Buffer.from(b.raw).toString('base64')),
      });
    const txMatch = /^\/api\/transactions\/([0-9a-fA-F]+)$/.exec(url.pathname);
    if (req.method === 'GET' && txMatch?.[1] !== undefined)
      return this.getTx(res, txMatch[1].toLowerCase(), query);
    const blockMatch = /^\/api\/blocks\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && blockMatch?.[1] !== undefined) {
      const block = this.blocks[Number(blockMatch[1])];
      return block === undefined
        ? sendError(res, 404, 'not_found', `no block ${blockMatch[1]}`)
        : sendJson(res, 200, block.view);
    }
    sendError(res, 404, 'not_found', `no route ${route}`);
  }

  private info(): unknown {
    const head = this.blocks[this.blocks.length - 1]?.view;
    return {
      chainId: this.chainId,
      processorAddress: PROCESSOR_ADDRESS,
      role: 'processor',
      head:
        head === undefined
          ? null
          : { height: head.height, hash: head.hash, processedMs: head.processedMs },
      chainTimeMs: Date.now(),
    };
  }

  private blockRange(query: Record<string, string>): { view: BlockView; raw: Uint8Array }[] {
    const from = Number(query['from'] ?? 0);
    const limit = Number(query['limit'] ?? 100);
    return this.blocks.slice(from, from + limit);
  }

  /** Admission: decode and verify; the error or the stored transaction. */
  private admit(base64tx: unknown): StoredTx | { code: string; message: string; http: number } {
    if (typeof base64tx !== 'string')
      return { code: 'bad_request', message: 'base64tx must be a string', http: 400 };
    let tx: Tx;
    try {
      tx = decodeTx(new Uint8Array(Buffer.from(base64tx, 'base64')));
    } catch (err) {
      return err instanceof ChainError
        ? { code: err.code, message: err.message, http: 400 }
        : { code: 'tx_malformed', message: String(err), http: 400 };
    }
    if (!verifyTxSignature(tx, this.chainId))
      return {
        code: 'signature_invalid',
        message: `signature of ${tx.idHex} does not verify for chain ${this.chainId}`,
        http: 400,
      };
    if (this.txs.has(tx.idHex))
      return {
        code: 'tx_duplicate_id',
        message: `transaction ${tx.idHex} already exists`,
        http: 409,
      };
    const stored: StoredTx = { tx, view: newView(tx, this.contracts) };
    this.txs.set(tx.idHex, stored);
    return stored;
  }

  private submitOne(res: ServerResponse, body: unknown): void {
    const b = (body ?? {}) as { base64tx?: unknown; wait?: unknown; timeoutMs?: unknown };
    const admitted = this.admit(b.base64tx);
    if (!('tx' in admitted)) return sendError(res, admitted.http, admitted.code, admitted.message);
    if (b.wait === true && this.opts.waitCapMs !== undefined) {
      this.scheduleFinalize(admitted.tx.idHex);
      const timeoutMs = typeof b.timeoutMs === 'number' ? b.timeoutMs : 30_000;
      return this.holdUntilFinal(res, admitted, Math.min(timeoutMs, this.opts.waitCapMs));
    }
    if (b.wait === true) return sendJson(res, 200, this.finalize(admitted.tx.idHex));
    this.scheduleFinalize(admitted.tx.idHex);
    sendJson(res, 202, { id: admitted.tx.idHex, status: 'new' });
  }

  private submitBatch(res: ServerResponse, body: unknown): void {
    const b = (body ?? {}) as { transactions?: unknown; wait?: unknown };
    if (!Array.isArray(b.transactions))
      return sendError(res, 400, 'bad_request', 'transactions must be an array');
    if (b.transactions.length > 1000)
      return sendError(res, 413, 'batch_too_large', 'at most 1000 transactions');
    const results = b.transactions.map((t: unknown) => {
      const admitted = this.admit(t);
      if (!('tx' in admitted))
        return { id: null, error: { code: admitted.code, message: admitted.message, details: {} } };
      if (b.wait === true) return this.finalize(admitted.tx.idHex);
      this.scheduleFinalize(admitted.tx.idHex);
      return { id: admitted.tx.idHex, status: 'new' };
    });
    sendJson(res, 200, { results });
  }

  private scheduleFinalize(idHex: string): void {
    const after = this.opts.finalizeAfterMs === undefined ? 30 : this.opts.finalizeAfterMs;
    if (after === null) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.finalize(idHex);
    }, after);
    this.timers.add(timer);
  }

  private getTx(res: ServerResponse, idHex: string, query: Record<string, string>): void {
    const stored = this.txs.get(idHex);
    if (stored === undefined) return sendError(res, 404, 'not_found', `no transaction ${idHex}`);
    if (query['wait'] !== 'true' || stored.view.status !== 'new')
      return sendJson(res, 200, stored.view);
    this.holdUntilFinal(res, stored, Number(query['timeoutMs'] ?? 30_000));
  }

  /** Answers with the view once final, or with the pending view after `timeoutMs`. */
  private holdUntilFinal(res: ServerResponse, stored: StoredTx, timeoutMs: number): void {
    const idHex = stored.tx.idHex;
    const set = this.waiters.get(idHex) ?? new Set<(view: TxView) => void>();
    this.waiters.set(idHex, set);
    const done = (view: TxView): void => {
      clearTimeout(timer);
      this.timers.delete(timer);
      set.delete(done);
      sendJson(res, 200, view);
    };
    const timer = setTimeout(() => done(stored.view), timeoutMs);
    this.timers.add(timer);
    set.add(done);
  }
}

function acceptAll(): Outcome {
  return { status: 'accepted', code: null, message: 'OK' };
}

function newView(tx: Tx, contracts: readonly ContractView[]): TxView {
  const special =
    tx.contractHashHex === CREATE_CONTRACT_HASH
      ? 'Create Contract'
      : tx.contractHashHex === DELETE_CONTRACT_HASH
        ? 'Delete Contract'
        : null;
  const contractType =
    special ?? contracts.find((c) => c.hash === tx.contractHashHex)?.type ?? null;
  return {
    id: tx.idHex,
    version: 1,
    contractHash: tx.contractHashHex,
    validTill: tx.validTillMs,
    payload: JSON.parse(tx.payloadText) as unknown,
    publicKey: toHex(tx.publicKey),
    signature: toHex(tx.signature),
    status: 'new',
    code: null,
    message: null,
    createTs: Date.now(),
    sender: tx.sender,
    contractType,
    blockId: null,
    positionInBlock: null,
    processedTs: null,
    receiver: null,
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message, details: {} } });
}

/** A URL on which nothing listens (a port that was free a moment ago): connections are refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
