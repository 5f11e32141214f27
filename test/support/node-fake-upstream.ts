// A fake upstream for mirror node tests: it serves whatever list of raw blocks the test gives it
// (a real chain, or a tampered one) over the same routes a processor serves: GET /api/info,
// GET /api/blocks/raw, the /api/ws block feed, and POST /api/transactions/batch (recorded).

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { readU64LE } from '../../src/core/bytes.js';

export interface FakeUpstreamOptions {
  readonly chainId: string;
  readonly processorAddress: string;
  readonly role?: 'processor' | 'node';
}

export class FakeUpstream {
  /** What GET /api/blocks/raw serves: the entry at index i is answered for height i. */
  blocks: Uint8Array[] = [];
  /** Every transaction POSTed to /api/transactions/batch, as base64. */
  readonly submitted: string[] = [];
  rawRequests = 0;
  url = '';
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly opts: FakeUpstreamOptions) {
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!(req.url ?? '').startsWith('/api/ws')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { type?: string; id?: unknown };
          if (msg.type === 'subscribe')
            ws.send(JSON.stringify({ type: 'subscribed', id: msg.id ?? null, blocks: true }));
        });
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
  }

  /** Pushes a block to every subscribed connection, as a processor does after a commit. */
  push(raw: Uint8Array): void {
    const height = raw.length >= 13 ? readU64LE(raw, 5) : 0;
    const text = JSON.stringify({
      type: 'block',
      block: { height, hash: '' },
      raw: Buffer.from(raw).toString('base64'),
    });
    for (const ws of this.sockets) ws.send(text);
  }

  /** Appends a block to what is served and pushes it. */
  append(raw: Uint8Array): void {
    this.blocks.push(raw);
    this.push(raw);
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Cuts every live feed connection (the node must reconnect and fetch what it missed). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/api/info') {
      const height = this.blocks.length - 1;
      send(200, {
        chainId: this.opts.chainId,
        processorAddress: this.opts.processorAddress,
        role: this.opts.role ?? 'processor',
        head: height < 0 ? null : { height, hash: '', processedMs: 0 },
        chainTimeMs: null,
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/blocks/raw') {
      this.rawRequests++;
      const from = Number(url.searchParams.get('from') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      send(200, {
        blocks: this.blocks.slice(from, from + limit).map((b) => Buffer.from(b).toString('base64')),
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/transactions/batch') {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        const txs = (JSON.parse(body) as { transactions: string[] }).transactions;
        this.submitted.push(...txs);
        send(200, {
          results: txs.map((t) => ({
            id: Buffer.from(t, 'base64').subarray(5, 21).toString('hex'),
            status: 'new',
          })),
        });
      });
      return;
    }
    send(404, {
      error: {
        code: 'not_found',
        message: `no route ${req.method ?? ''} ${url.pathname}`,
        details: {},
      },
    });
  }
}
