// The /api/ws feed against a real listening server (127.0.0.1, port 0) and the fake ledger:
// block subscription, watching transactions, submitting, errors, slow consumers and keepalive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { ClientOptions } from 'ws';
import { createApiServer } from '../src/api/server.js';
import type { ApiServer, ApiServerOptions } from '../src/api/server.js';
import type { ContractView } from '../src/chain/views.js';
import { encodeFakeTx, MemoryLedger } from './support/memory-ledger.js';
import type { MemoryLedgerOptions } from './support/memory-ledger.js';

const TRADER: ContractView = {
  hash: 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a',
  type: 'Trader',
  version: '1.0',
  description: 'Manages the trader addresses for a given context address.',
  template: { context: { type: 'addr', desc: 'context', name: 'context' } },
  validanaVersion: 1,
  createdHeight: 0,
};
const PAYLOAD = { context: '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4' };
let idCounter = 0x1000;

function nextId(): string {
  idCounter += 1;
  return idCounter.toString(16).padStart(32, '0');
}

function txB64(idHex: string, contractHashHex = TRADER.hash): string {
  return Buffer.from(encodeFakeTx({ idHex, contractHashHex, payload: PAYLOAD })).toString('base64');
}

/** A WebSocket client that queues what it receives, for step-by-step assertions. */
export class TestClient {
  private readonly inbox: any[] = [];
  private readonly waiting: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg: unknown = JSON.parse(data.toString());
      const i = this.waiting.findIndex((w) => w.pred(msg));
      const w = i === -1 ? undefined : this.waiting.splice(i, 1)[0];
      if (w !== undefined) w.resolve(msg);
      else this.inbox.push(msg);
    });
    ws.on('ping', () => {
      this.pings += 1;
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, opts);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  next(pred: (m: any) => boolean = () => true, timeoutMs = 2000): Promise<any> {
    const i = this.inbox.findIndex(pred);
    if (i !== -1) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const entry = {
        pred,
        resolve: (m: any) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      this.waiting.push(entry);
    });
  }

  /** Messages received and not yet taken by next(). */
  get unread(): readonly unknown[] {
    return this.inbox;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

async function withListening(
  fn: (c: { ledger: MemoryLedger; api: ApiServer; wsUrl: string }) => Promise<void>,
  ledgerOpts: MemoryLedgerOptions = {},
  serverOpts: ApiServerOptions = {},
): Promise<void> {
  const ledger = new MemoryLedger({ contracts: [TRADER], finalDelayMs: null, ...ledgerOpts });
  const api = await createApiServer(ledger, {
    reportError: (err) => assert.fail(`unexpected error reported: ${String(err)}`),
    ...serverOpts,
  });
  const url = await api.listen(0, '127.0.0.1');
  try {
    await fn({ ledger, api, wsUrl: `${url.replace(/^http/, 'ws')}/api/ws` });
  } finally {
    await api.close();
    ledger.close();
  }
}

test('subscribe to blocks: one push per block with the view and the raw bytes', async () => {
  await withListening(async ({ ledger, wsUrl }) => {
    const c = await TestClient.open(wsUrl);
    c.send({ type: 'subscribe', blocks: true, id: 'sub-1' });
    assert.deepEqual(await c.next(), { type: 'subscribed', id: 'sub-1', blocks: true });
    const view = ledger.produceBlock();
    const push = await c.next((m) => m.type === 'block');
    assert.deepEqual(push.block, view);
    const [raw] = await ledger.getRawBlocks(view.height, 1);
    assert.equal(push.raw, Buffer.from(raw as Uint8Array).toString('base64'));

    c.send({ type: 'subscribe', blocks: false });
    assert.deepEqual(await c.next(), { type: 'subscribed', id: null, blocks: false });
    ledger.produceBlock();
    c.send({ type: 'subscribe', blocks: true, id: 2 });
    await c.next((m) => m.type === 'subscribed');
    assert.equal(c.unread.length, 0, 'no block pushed while unsubscribed');
    await c.close();
  });
});

test('submit and watch: submitted answer, then one tx push when final (also for already-final ids)', async () => {
  await withListening(async ({ ledger, wsUrl }) => {
    const c = await TestClient.open(wsUrl);
    const id = nextId();
    c.send({ type: 'submit', id: 7, base64tx: txB64(id) });
    assert.deepEqual(await c.next(), { type: 'submitted', id: 7, txId: id });
    c.send({ type: 'watch', id: 'w', ids: [id.toUpperCase()] });
    assert.deepEqual(await c.next(), { type: 'watching', id: 'w', ids: [id] });
    ledger.produceBlock();
    const push = await c.next((m) => m.type === 'tx');
    assert.equal(push.tx.id, id);
    assert.equal(push.tx.status, 'accepted');

    c.send({ type: 'watch', ids: [id] });
    await c.next((m) => m.type === 'watching');
    const again = await c.next((m) => m.type === 'tx');
    assert.equal(again.tx.status, 'accepted', 'an already-final id is pushed at once');

    c.send({ type: 'submit', id: 8, base64tx: txB64(id) });
    const dup = await c.next();
    assert.equal(dup.type, 'error');
    assert.equal(dup.id, 8);
    assert.equal(dup.error.code, 'tx_duplicate_id');
    await c.close();
    assert.equal(ledger.listenerCounts().tx, 1);
  });
});

test('feed errors: bad JSON, unknown type, bad fields, limits', async () => {
  await withListening(
    async ({ wsUrl }) => {
      const c = await TestClient.open(wsUrl);
      const expectError = async (msg: unknown, code: string, id: unknown, part?: string) => {
        c.send(msg);
        const m = await c.next();
        assert.equal(m.type, 'error', JSON.stringify(m));
        assert.equal(m.id, id);
        assert.equal(m.error.code, code, JSON.stringify(m));
        if (part !== undefined) assert.ok(m.error.message.includes(part), m.error.message);
      };
      await expectError('{nope', 'bad_request', null, 'not valid JSON');
      await expectError('[1]', 'bad_request', null, 'JSON object');
      await expectError({ id: 1 }, 'bad_request', 1, '"type"');
      await expectError({ type: 'dance', id: 2 }, 'bad_request', 2, 'unknown message type');
      await expectError({ type: 'subscribe', blocks: 'yes', id: 3 }, 'bad_request', 3, '"blocks"');
      await expectError({ type: 'watch', ids: [], id: 4 }, 'bad_request', 4, '"ids"');
      await expectError({ type: 'watch', ids: ['xyz'], id: 5 }, 'bad_hex', 5, 'ids[0]');
      await expectError(
        { type: 'watch', ids: Array.from({ length: 1001 }, () => nextId()), id: 6 },
        'batch_too_large',
        6,
      );
      await expectError(
        { type: 'watch', ids: [nextId(), nextId(), nextId()], id: 7 },
        'limit_exceeded',
        7,
        'limit of 2',
      );
      await expectError({ type: 'submit', id: 8 }, 'bad_request', 8, '"base64tx"');
      await expectError({ type: 'submit', id: 9, base64tx: '!!!!' }, 'bad_base64', 9);
      await expectError({ type: 'submit', id: 10, base64tx: 'AAAA' }, 'tx_malformed', 10);
      c.send({ type: 'watch', ids: [nextId(), nextId()] });
      assert.equal((await c.next()).type, 'watching', 'two watches fit the limit');
      await expectError({ type: 'watch', ids: [nextId()], id: 11 }, 'limit_exceeded', 11);
      assert.equal(c.ws.readyState, WebSocket.OPEN, 'bad input never closes the connection');
      await c.close();
    },
    {},
    { wsPendingMax: 2 },
  );
});

test('a slow consumer is dropped with close code 1013 instead of buffering without bound', async () => {
  await withListening(
    async ({ ledger, wsUrl }) => {
      const slow = await TestClient.open(wsUrl);
      const fast = await TestClient.open(wsUrl);
      for (const c of [slow, fast]) {
        c.send({ type: 'subscribe', blocks: true });
        await c.next();
      }
      let fastBlocks = 0;
      fast.ws.on('message', () => {
        fastBlocks += 1;
      });
      // Stop reading on the slow client: the kernel buffers fill, then the server's send buffer.
      (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const blocks = 400;
      let slowClosedAt = -1;
      void slow.closed.then(() => {
        slowClosedAt = fastBlocks;
      });
      for (let i = 0; i < blocks; i++) {
        ledger.produceBlock({ paddingBytes: 64 * 1024 });
        // Pace production by the fast client, so only the paused one falls behind.
        while (fastBlocks <= i) await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal(slowClosedAt, -1, 'the paused client cannot see its close frame yet');
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const closed = await slow.closed;
      assert.equal(closed.code, 1013);
      assert.match(closed.reason, /reads too slowly/);
      const deadline = Date.now() + 3000;
      while (fastBlocks < blocks && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(fastBlocks, blocks, 'a client that keeps up gets every block');
      assert.equal(fast.ws.readyState, WebSocket.OPEN);
      await fast.close();
    },
    {},
    // A long close grace: under load the paced loop may outlast the default before the client resumes.
    { wsSendBufferMaxBytes: 256 * 1024, wsCloseGraceMs: 20_000 },
  );
});

test('keepalive: the server pings; a client that never answers is closed with 1001', async () => {
  await withListening(
    async ({ wsUrl }) => {
      const good = await TestClient.open(wsUrl);
      const mute = await TestClient.open(wsUrl, { autoPong: false });
      const closed = await mute.closed;
      assert.equal(closed.code, 1001);
      assert.match(closed.reason, /keep alive/);
      assert.ok(good.pings >= 2, `the answering client was pinged (${good.pings})`);
      assert.equal(good.ws.readyState, WebSocket.OPEN);
      await good.close();
    },
    {},
    { pingIntervalMs: 40 },
  );
});

test('a message larger than wsMessageMaxBytes closes the connection with 1009', async () => {
  await withListening(
    async ({ wsUrl }) => {
      const c = await TestClient.open(wsUrl);
      c.send({ type: 'submit', id: 1, base64tx: 'A'.repeat(4096) });
      assert.equal((await c.closed).code, 1009);
      const d = await TestClient.open(wsUrl);
      d.send({ type: 'subscribe', blocks: true });
      assert.equal(
        (await d.next()).type,
        'subscribed',
        'the server keeps serving other connections',
      );
      await d.close();
    },
    {},
    { wsMessageMaxBytes: 1024 },
  );
});

test('closing the server closes WebSockets with 1001', async () => {
  const ledger = new MemoryLedger({ contracts: [TRADER], finalDelayMs: null });
  const api = await createApiServer(ledger);
  const url = await api.listen(0);
  const c = await TestClient.open(`${url.replace(/^http/, 'ws')}/api/ws`);
  c.send({ type: 'watch', ids: [nextId()] });
  await c.next();
  await api.close();
  const closed = await c.closed;
  assert.equal(closed.code, 1001);
  assert.deepEqual(ledger.listenerCounts(), { tx: 0, block: 0 });
  ledger.close();
});
