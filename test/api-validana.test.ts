// Validana v1 compatibility: (a) the recorded exchanges of shared/validana/vectors.json ("wire")
// replayed message by message; (b) the real @coinversable/validana-client 2.0.5 driven against a
// listening server; (c) envelope, path and error details over a raw WebSocket; (d) the REST form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { Client, Connected, Crypto, Log, PrivateKey } from '@coinversable/validana-client';
import { ChainError } from '../src/core/errors.js';
import { createApiServer } from '../src/api/server.js';
import type { ApiServer, ApiServerOptions } from '../src/api/server.js';
import type { ContractView } from '../src/chain/views.js';
import { encodeFakeTx, MemoryLedger } from './support/memory-ledger.js';
import type { MemoryLedgerOptions, FakeTx } from './support/memory-ledger.js';

Log.Level = Log.None;

// Copied verbatim from shared/validana/vectors.json, key "wire" (recorded with the real clients).
const WIRE = {
  connectedUrlPaths: ['/api/v1/', '/api/v1/', '/api/v1/'],
  processTxFlow_client205: {
    messages: [
      {
        dir: 'client->server',
        raw: '{"type":"contracts","id":"084506684467cd727c289322fa00a279","data":"Trader"}',
      },
      {
        dir: 'server->client',
        raw: '{"id":"084506684467cd727c289322fa00a279","status":200,"data":[{"hash":"af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a","type":"Trader","version":"1.0","description":"Manages the trader addresses for a given context address.","template":{"context":{"type":"addr","desc":"The context address for which to modify the trader addresses","name":"context"},"address":{"type":"addr","desc":"The trader address to allow or deny","name":"address"},"allowed":{"type":"bool","desc":"Whether to allow (true) or deny (false) the trader address","name":"allowed"}},"validanaVersion":1}]}',
      },
      {
        dir: 'client->server',
        raw: '{"type":"process","id":"320c8258e5d2bab68d2ba6c2a916c94b","data":{"base64tx":"CQEAAAGc+KL19VM355usB52lwqztrwKBaUoksQ1UR+BX0zDnS9sBOHbZYnI+aqll5G3N/XoAAAAAAAAAAHsiY29udGV4dCI6IjFGeEZFM2I1aWZtNEJ5TjN4YjVrdTFBY3BjTFpzSkdSSDQiLCJhZGRyZXNzIjoiMUFydktWeTRhZ1NZV3hDYXdGVThvMTQ2YlZ0VEdFN0FpTiIsImFsbG93ZWQiOmZhbHNlffBZgp0klvwtUSeAt8DM5ZOISiKs+Kp5UFG/fDGaKJEK6/IIv9qhpnc55YeLFWhutyF33U+Z+ehD3wCtfm39dCcCfufNEjLSGcKEOjGj8eEOlSLdiKSkuC23gBQX2J/gneo=","createTs":1795499068606}}',
      },
      {
        dir: 'server->client',
        raw: '{"id":"320c8258e5d2bab68d2ba6c2a916c94b","status":202}',
      },
      {
        dir: 'client->server',
        raw: '{"type":"transaction","id":"377940ba686106e0c520e4ae817b5311","data":{"txId":"9cf8a2f5f55337e79bac079da5c2aced","push":true,"wait":true}}',
      },
      {
        dir: 'server->client',
        raw: '{"id":"377940ba686106e0c520e4ae817b5311","status":200}',
      },
      {
        dir: 'server->client',
        raw: '{"pushType":"transaction","status":200,"data":{"blockId":7,"version":1,"validTill":0,"positionInBlock":0,"processedTs":1700000000123,"sender":"1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4","receiver":null,"contractType":"Trader","contractHash":"af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a","status":"accepted","message":"OK","id":"9cf8a2f5f55337e79bac079da5c2aced","createTs":1700000000000,"signature":"f059829d2496fc2d512780b7c0cce593884a22acf8aa795051bf7c319a28910aebf208bfdaa1a67739e5878b15686eb72177dd4f99f9e843df00ad7e6dfd7427","publicKey":"027ee7cd1232d219c2843a31a3f1e10e9522dd88a4a4b82db7801417d89fe09dea","payload":{"context":"1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4","address":"1ArvKVy4agSYWxCawFU8o146bVtTGE7AiN","allowed":false}}}',
      },
    ],
    resultReturnedToCaller: {
      blockId: 7,
      version: 1,
      validTill: 0,
      positionInBlock: 0,
      processedTs: 1700000000123,
      sender: '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4',
      receiver: null,
      contractType: 'Trader',
      contractHash: 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a',
      status: 'accepted',
      message: 'OK',
      id: '9cf8a2f5f55337e79bac079da5c2aced',
      createTs: 1700000000000,
      signature:
        'f059829d2496fc2d512780b7c0cce593884a22acf8aa795051bf7c319a28910aebf208bfdaa1a67739e5878b15686eb72177dd4f99f9e843df00ad7e6dfd7427',
      publicKey: '027ee7cd1232d219c2843a31a3f1e10e9522dd88a4a4b82db7801417d89fe09dea',
      payload: {
        context: '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4',
        address: '1ArvKVy4agSYWxCawFU8o146bVtTGE7AiN',
        allowed: false,
      },
    },
  },
  signAndSendRejected_client220: {
    messages: [
      {
        dir: 'client->server',
        raw: '{"type":"process","id":"670be5bb93596c0f95fbe64fc04467fa","data":{"base64tx":"CAEAAAGrq6urq6urq6urq6urq6urrwKBaUoksQ1UR+BX0zDnS9sBOHbZYnI+aqll5G3N/XoAAAAAAAAAAHsiY29udGV4dCI6IjFGeEZFM2I1aWZtNEJ5TjN4YjVrdTFBY3BjTFpzSkdSSDQiLCJhZGRyZXNzIjoiMUFydktWeTRhZ1NZV3hDYXdGVThvMTQ2YlZ0VEdFN0FpTiIsImFsbG93ZWQiOnRydWV9x7bST3jjJwYlhRuHnspFTUh1kffPVx5Av14L73Zl/fuVpI3YAmiNBphZfHfMUHY1vwROa6pF/ljgylbH6Lv2ugJ3jldhyHNbrzBsUMn67yggyC4ZgneeqZie05rsmwJnpg==","createTs":1795499068678,"wait":true}}',
      },
      {
        dir: 'server->client',
        raw: '{"id":"670be5bb93596c0f95fbe64fc04467fa","status":422,"error":"Only the context owner can allow or deny trader addresses."}',
      },
    ],
    errorSeenByCaller: '[422] Only the context owner can allow or deny trader addresses.',
  },
} as const;

const TRADER: ContractView = {
  hash: 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a',
  type: 'Trader',
  version: '1.0',
  description: 'Manages the trader addresses for a given context address.',
  template: {
    context: {
      type: 'addr',
      desc: 'The context address for which to modify the trader addresses',
      name: 'context',
    },
    address: { type: 'addr', desc: 'The trader address to allow or deny', name: 'address' },
    allowed: {
      type: 'bool',
      desc: 'Whether to allow (true) or deny (false) the trader address',
      name: 'allowed',
    },
  },
  validanaVersion: 1,
  createdHeight: 0,
};
const VALIDANA_TRADER = {
  hash: TRADER.hash,
  type: 'Trader',
  version: '1.0',
  description: TRADER.description,
  template: TRADER.template,
  validanaVersion: 1,
};
const PRODUCER: ContractView = {
  ...TRADER,
  hash: '14e1cf1b0175a43d5375cc98192e57d1b007bb2cb8e10190723be059a27c206c',
  type: 'Producer',
  description: 'producers',
};
const CONTEXT_WIF = 'L2fpZWmgzEdxoowk7aBQYcEKjgQWDv7YSTM46waducPeEsUXgGX2';
const CONTEXT_ADDRESS = '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4';
const TRADER_ADDRESS = '1ArvKVy4agSYWxCawFU8o146bVtTGE7AiN';
const OWNER_ONLY = 'Only the context owner can allow or deny trader addresses.';
const SUPPORTED = 'supported types: contracts, process, time, transaction, txstatus';
const INVALID_PARAMS = 'Missing or invalid request data parameters.';

let idCounter = 0;
/** Ids with letters in them, so that upper and lower case differ. */
function nextId(): string {
  idCounter += 1;
  return `abcd${idCounter.toString(16).padStart(28, '0')}`;
}

function txB64(
  idHex: string,
  payload: unknown = { context: CONTEXT_ADDRESS, address: TRADER_ADDRESS, allowed: true },
  contractHashHex = TRADER.hash,
): string {
  return Buffer.from(encodeFakeTx({ idHex, contractHashHex, payload })).toString('base64');
}

/** The fake's rule for the real-client tests: denying a trader is rejected, a "refuse-me" context is refused at admission. */
function decideLikeTrader(tx: FakeTx): ReturnType<NonNullable<MemoryLedgerOptions['decide']>> {
  if (tx.contractHashHex !== TRADER.hash)
    return { kind: 'refuse', code: 'contract_unknown', message: 'Contract does not exist.' };
  if (tx.payload['address'] === CONTEXT_ADDRESS)
    return { kind: 'refuse', code: 'signature_invalid', message: 'Invalid signature.' };
  if (tx.payload['allowed'] === false)
    return { kind: 'reject', code: 'contract_rejected', message: OWNER_ONLY };
  return { kind: 'accept' };
}

class RawClient {
  private readonly inbox: any[] = [];
  private readonly waiting: ((m: any) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg: unknown = JSON.parse(data.toString());
      const w = this.waiting.shift();
      if (w !== undefined) w(msg);
      else this.inbox.push(msg);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  next(timeoutMs = 2000): Promise<any> {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const take = (m: any) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiting.push(take);
    });
  }

  async request(type: string, data?: unknown, id = nextId()): Promise<any> {
    this.send(data === undefined ? { type, id } : { type, id, data });
    return this.next();
  }

  get unread(): number {
    return this.inbox.length;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

interface Ctx {
  ledger: MemoryLedger;
  api: ApiServer;
  base: string;
  reported: unknown[];
}

async function withServer(
  fn: (c: Ctx) => Promise<void>,
  ledgerOpts: MemoryLedgerOptions = {},
  serverOpts: ApiServerOptions = {},
): Promise<void> {
  const ledger = new MemoryLedger({ contracts: [TRADER, PRODUCER], ...ledgerOpts });
  const reported: unknown[] = [];
  const api = await createApiServer(ledger, {
    reportError: (err) => reported.push(err),
    ...serverOpts,
  });
  const url = await api.listen(0, '127.0.0.1');
  try {
    await fn({ ledger, api, base: url.replace(/^http/, 'ws'), reported });
  } finally {
    await api.close();
    ledger.close();
  }
}

// ---- (a) recorded exchanges ------------------------------------------------------------------

async function replay(
  flow: { messages: readonly { dir: string; raw: string }[] },
  ledger: MemoryLedger,
  base: string,
): Promise<unknown[]> {
  const c = await RawClient.open(`${base}${WIRE.connectedUrlPaths[0]}`);
  const received: unknown[] = [];
  for (const [i, m] of flow.messages.entries()) {
    if (m.dir === 'client->server') {
      c.send(m.raw);
      continue;
    }
    const expected: unknown = JSON.parse(m.raw);
    // The transcript shows the processor finishing the transaction here: a push has no id.
    if (!Object.hasOwn(expected as object, 'id')) ledger.produceBlock();
    const got: unknown = await c.next();
    assert.deepEqual(got, expected, `message ${i}`);
    received.push(got);
  }
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(c.unread, 0, 'nothing beyond the transcript was sent');
  await c.close();
  return received;
}

test('replays wire.processTxFlow_client205 message by message', async () => {
  await withServer(
    async ({ ledger, base }) => {
      ledger.program(
        '9cf8a2f5f55337e79bac079da5c2aced',
        { kind: 'accept', message: 'OK' },
        { blockId: 7, positionInBlock: 0, processedTs: 1700000000123, createTs: 1700000000000 },
      );
      const received = await replay(WIRE.processTxFlow_client205, ledger, base);
      const push = received.at(-1) as { data: unknown };
      assert.deepEqual(push.data, WIRE.processTxFlow_client205.resultReturnedToCaller);
      assert.equal(
        ledger.submitted[0]?.createMs,
        1795499068606,
        'createTs is passed to the ledger as createMs',
      );
    },
    { finalDelayMs: null, contracts: [TRADER] },
  );
});

test('replays wire.signAndSendRejected_client220 message by message', async () => {
  await withServer(
    async ({ ledger, base }) => {
      ledger.program('ab'.repeat(16), {
        kind: 'reject',
        code: 'contract_rejected',
        message: OWNER_ONLY,
      });
      const received = await replay(WIRE.signAndSendRejected_client220, ledger, base);
      const error = received[0] as { status: number; error: string };
      assert.equal(
        `[${error.status}] ${error.error}`,
        WIRE.signAndSendRejected_client220.errorSeenByCaller,
      );
    },
    { finalDelayMs: 10, contracts: [TRADER] },
  );
});

// ---- (b) the real client library ---------------------------------------------------------------

function signedTx(
  key: PrivateKey,
  idHex: string,
  payload: unknown,
  contractHashHex = TRADER.hash,
): string {
  const binaryTx = Buffer.concat([
    Crypto.uInt8ToBinary(1),
    Crypto.hexToBinary(idHex),
    Crypto.hexToBinary(contractHashHex),
    Crypto.uLongToBinary(0),
    Crypto.utf8ToBinary(JSON.stringify(payload)),
  ]);
  const signature = key.sign(Buffer.concat([Crypto.utf8ToBinary('hanzenet'), binaryTx]));
  return Crypto.binaryToBase64(
    Buffer.concat([
      Crypto.uInt32ToBinary(binaryTx.length + key.publicKey.length + signature.length),
      binaryTx,
      signature,
      key.publicKey,
    ]),
  );
}

async function withClient(url: string, fn: (client: Client) => Promise<void>): Promise<void> {
  const client = Client.get(true);
  await client.init('hanzenet', url, 50, 100);
  try {
    await fn(client);
  } finally {
    client.closeWebsocket();
    await new Promise((r) => setTimeout(r, 120));
  }
}

test('validana-client 2.0.5: contracts, processTx accepted and rejected, process with wait, txStatus, time', async () => {
  await withServer(
    async ({ base, ledger, reported }) => {
      await withClient(`${base}/api/v1`, async (client) => {
        const key = PrivateKey.fromWIF(CONTEXT_WIF);
        assert.equal(key.getAddress(), CONTEXT_ADDRESS);
        assert.deepEqual(await client.query('contracts'), [
          VALIDANA_TRADER,
          { ...VALIDANA_TRADER, hash: PRODUCER.hash, type: 'Producer', description: 'producers' },
        ]);
        assert.deepEqual(await client.query('contracts', 'Trader'), [VALIDANA_TRADER]);

        const accepted = await client.processTx(key, 'Trader', {
          context: CONTEXT_ADDRESS,
          address: TRADER_ADDRESS,
          allowed: true,
        });
        assert.equal(accepted.status, 'accepted');
        assert.equal(accepted.message, 'OK');
        assert.equal(accepted.sender, CONTEXT_ADDRESS);
        assert.equal(accepted.contractType, 'Trader');
        assert.ok(!('code' in accepted), 'TxResponse has no code field');

        const rejected = await client.processTx(key, 'Trader', {
          context: CONTEXT_ADDRESS,
          address: TRADER_ADDRESS,
          allowed: false,
        });
        assert.equal(rejected.status, 'rejected');
        assert.equal(rejected.message, OWNER_ONLY);

        await assert.rejects(
          client.processTx(key, 'Trader', {
            context: CONTEXT_ADDRESS,
            address: CONTEXT_ADDRESS,
            allowed: true,
          }),
          { message: 'Failed to deliver transaction: [400] Invalid signature.' },
        );
        await assert.rejects(client.processTx(key, 'Nothing', {}), {
          message: 'Contract does not exist (anymore).',
        });

        const waitedId = nextId();
        const waited = await client.query('process', {
          base64tx: signedTx(key, waitedId, {
            context: CONTEXT_ADDRESS,
            address: TRADER_ADDRESS,
            allowed: true,
          }),
          createTs: Date.now(),
          wait: true,
        });
        assert.equal(waited.id, waitedId);
        assert.equal(waited.status, 'accepted');
        const deniedId = nextId();
        const denied = signedTx(key, deniedId, {
          context: CONTEXT_ADDRESS,
          address: TRADER_ADDRESS,
          allowed: false,
        });
        await assert.rejects(
          client.query('process', { base64tx: denied, createTs: Date.now(), wait: true }),
          { message: `[422] ${OWNER_ONLY}` },
        );
        await assert.rejects(client.query('process', { base64tx: denied }), {
          message: '[400] Transaction with id already exists.',
        });
        const refused = signedTx(key, nextId(), {
          context: CONTEXT_ADDRESS,
          address: CONTEXT_ADDRESS,
          allowed: true,
        });
        await assert.rejects(client.query('process', { base64tx: refused, wait: true }), {
          message: '[422] Invalid signature.',
        });
        await assert.rejects(
          client.query('process', { base64tx: Buffer.alloc(40).toString('base64') }),
          { message: '[400] Invalid transaction format.' },
        );
        await assert.rejects(client.query('process', { base64tx: 'not base64!' }), {
          message: `[400] ${INVALID_PARAMS}`,
        });

        assert.equal(await client.query('txStatus', { txId: waitedId }), 'accepted');
        assert.equal(await client.query('txStatus', { txId: deniedId.toUpperCase() }), 'rejected');
        assert.equal(await client.query('txStatus', { txId: nextId() }), undefined);
        assert.deepEqual(await client.query('txStatus', { txId: [waitedId, nextId(), deniedId] }), [
          { id: waitedId, status: 'accepted', message: 'OK' },
          { id: deniedId, status: 'rejected', message: OWNER_ONLY },
        ]);
        const tx = await client.query('transaction', { txId: waitedId });
        assert.equal(tx?.id, waitedId);
        assert.equal(await client.query('time'), (await ledger.info()).head?.processedMs);
        await assert.rejects(client.query('TiMe2'), {
          message: `[400] Invalid type: time2, ${SUPPORTED}`,
        });
      });
      assert.deepEqual(reported, []);
    },
    { decide: decideLikeTrader },
  );
});

test('validana-client 2.0.5: getProcessedTx waits for a push when the transaction is not processed yet', async () => {
  await withServer(
    async ({ base, ledger }) => {
      await withClient(`${base}/api/v1/`, async (client) => {
        const key = PrivateKey.fromWIF(CONTEXT_WIF);
        const id = Crypto.id();
        await client.signAndSend(
          key,
          id,
          Crypto.hexToBinary(TRADER.hash),
          { context: CONTEXT_ADDRESS, address: TRADER_ADDRESS, allowed: true },
          0,
        );
        const result = client.getProcessedTx(id);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(ledger.pendingCount, 1);
        ledger.produceBlock();
        const tx = await result;
        assert.equal(tx.id, Crypto.binaryToHex(id));
        assert.equal(tx.status, 'accepted');
      });
    },
    { finalDelayMs: null, decide: decideLikeTrader },
  );
});

test('validana-client 2.0.5: a path without a v1 segment is closed with 4100 and the client stops for good', async () => {
  await withServer(async ({ base, api }) => {
    const client = Client.get(true);
    const status = new Promise<Connected>((resolve) =>
      client.on('connection', (c: Connected) => c !== Connected.Yes && resolve(c)),
    );
    await client.init('hanzenet', `${base}/api/v2/`, 50, 100);
    assert.equal(await status, Connected.NoNotSupported);
    await assert.rejects(client.query('contracts'), { message: 'Connection permanently closed.' });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(client.isConnected(), Connected.NoNotSupported);
    assert.ok(api.app.server.listening);
  });
});

// ---- (c) envelope, paths, ids, over a raw WebSocket ---------------------------------------------

test('WebSocket paths: any decoded, lowercased segment equal to v1 is accepted; otherwise close 4100 with a reason', async () => {
  await withServer(async ({ base }) => {
    for (const path of ['/api/v1/', '/API/V1', '/foo/v1/bar', '/api/%76%31/', '/v1?x=1']) {
      const c = await RawClient.open(`${base}${path}`);
      const res = await c.request('contracts', 'Trader', 'id-1');
      assert.deepEqual(res, { id: 'id-1', status: 200, data: [VALIDANA_TRADER] }, path);
      await c.close();
    }
    const cases: [string, string][] = [
      ['/api/v2/', 'Version of the api is not supported.'],
      ['/api/v11/', 'Version of the api is not supported.'],
      ['/', 'Missing api version or request type.'],
      ['/api/%E0%A4%A/v1', 'Invalid url.'],
    ];
    for (const [path, reason] of cases) {
      const c = await RawClient.open(`${base}${path}`);
      assert.deepEqual(await c.closed, { code: 4100, reason }, path);
    }
  });
});

test('envelope: exact error texts, omitted data, case-insensitive types', async () => {
  await withServer(
    async ({ base, ledger, reported }) => {
      const c = await RawClient.open(`${base}/api/v1/`);
      c.send('not json');
      assert.deepEqual(await c.next(), { error: 'Invalid JSON', status: 400 });
      c.send({ type: 'contracts' });
      assert.deepEqual(await c.next(), {
        error: 'Request is missing or has an invalid an ID field',
        status: 400,
      });
      c.send({ type: 'contracts', id: 5 });
      assert.deepEqual(await c.next(), {
        error: 'Request is missing or has an invalid an ID field',
        status: 400,
      });
      c.send('[]');
      assert.deepEqual(await c.next(), {
        error: 'Request is missing or has an invalid an ID field',
        status: 400,
      });
      c.send({ id: 'a' });
      assert.deepEqual(await c.next(), {
        error: 'Request is missing or has an invalid request type',
        status: 400,
        id: 'a',
      });
      assert.deepEqual(await c.request('Nope', undefined, 'b'), {
        error: `Invalid type: nope, ${SUPPORTED}`,
        status: 400,
        id: 'b',
      });

      assert.deepEqual(await c.request('CONTRACTS', undefined, 'c'), {
        id: 'c',
        status: 200,
        data: [
          VALIDANA_TRADER,
          { ...VALIDANA_TRADER, hash: PRODUCER.hash, type: 'Producer', description: 'producers' },
        ],
      });
      assert.deepEqual(
        (await c.request('Contracts', { type: 'Producer' })).data.map(
          (x: { type: string }) => x.type,
        ),
        ['Producer'],
      );
      assert.deepEqual((await c.request('contracts', { type: 'Nothing' })).data, []);
      assert.deepEqual((await c.request('contracts', [])).data.length, 2);
      for (const bad of [null, 5, { type: 5 }]) {
        assert.deepEqual(
          await c.request('contracts', bad, 'd'),
          { error: INVALID_PARAMS, status: 400, id: 'd' },
          JSON.stringify(bad),
        );
      }

      const id = nextId();
      assert.deepEqual(await c.request('PROCESS', { base64tx: txB64(id), createTs: 123 }, 'p'), {
        id: 'p',
        status: 202,
      });
      assert.equal(ledger.submitted.at(-1)?.createMs, 123);
      for (const bad of [
        undefined,
        'x',
        null,
        { base64tx: 5 },
        { base64tx: 'abc' },
        { base64tx: txB64(nextId()), createTs: 1.5 },
        { base64tx: txB64(nextId()), createTs: '1' },
      ]) {
        assert.deepEqual(
          await c.request('process', bad, 'q'),
          { error: INVALID_PARAMS, status: 400, id: 'q' },
          JSON.stringify(bad),
        );
      }
      assert.deepEqual(await c.request('process', { base64tx: txB64(id) }, 'r'), {
        error: 'Transaction with id already exists.',
        status: 400,
        id: 'r',
      });
      assert.deepEqual(
        await c.request('process', { base64tx: Buffer.alloc(160).toString('base64') }, 's'),
        { error: 'Invalid transaction format.', status: 400, id: 's' },
      );
      const unknown = txB64(nextId(), { a: 1 }, 'cd'.repeat(32));
      assert.equal(
        (await c.request('process', { base64tx: unknown })).status,
        400,
        'a refusal without wait is 400',
      );
      const unknown2 = txB64(nextId(), { a: 1 }, 'cd'.repeat(32));
      const refused = await c.request('process', { base64tx: unknown2, wait: true });
      assert.equal(refused.status, 422, 'a refusal with wait is 422');
      assert.match(refused.error, /no active contract/);

      // A pending (`new`) transaction is absent, as if unknown.
      assert.deepEqual(await c.request('transaction', { txId: id }, 't'), { id: 't', status: 200 });
      assert.deepEqual(await c.request('txStatus', { txId: id }, 'u'), { id: 'u', status: 200 });
      assert.deepEqual(await c.request('txstatus', { txId: [id] }, 'v'), {
        id: 'v',
        status: 200,
        data: [],
      });
      for (const bad of [
        'x',
        null,
        { txId: 'xyz' },
        { txId: 'abc' },
        { txId: [] },
        { txId: [id, 5] },
        { txId: id, push: 'yes' },
        { txId: id, wait: 1 },
      ]) {
        assert.deepEqual(
          await c.request('transaction', bad, 'w'),
          { error: INVALID_PARAMS, status: 400, id: 'w' },
          JSON.stringify(bad),
        );
        assert.deepEqual(
          await c.request('txStatus', bad, 'w'),
          { error: INVALID_PARAMS, status: 400, id: 'w' },
          JSON.stringify(bad),
        );
      }

      ledger.failNext(new ChainError('retry', 'database unavailable, try again'));
      assert.deepEqual(await c.request('process', { base64tx: txB64(nextId()) }, 'x'), {
        error: 'database unavailable, try again',
        status: 503,
        id: 'x',
      });
      ledger.failNext(new Error('boom'));
      assert.deepEqual(await c.request('time', undefined, 'y'), {
        error: 'Error occured during request.',
        status: 500,
        id: 'y',
      });
      assert.equal(reported.length, 1);
      assert.deepEqual(await c.request('time', undefined, 'z'), {
        id: 'z',
        status: 200,
        data: (await ledger.info()).head?.processedMs,
      });
      await c.close();
    },
    { finalDelayMs: null },
  );
});

test('time without blocks answers "No existing blocks found."', async () => {
  await withServer(
    async ({ base }) => {
      const c = await RawClient.open(`${base}/api/v1/`);
      assert.deepEqual(await c.request('time', undefined, 'a'), {
        error: 'No existing blocks found.',
        status: 400,
        id: 'a',
      });
      await c.close();
    },
    { withGenesis: false },
  );
});

test('push and wait: ids compared in lowercase, echoed as sent; pushes have no id', async () => {
  await withServer(
    async ({ base, ledger }) => {
      const c = await RawClient.open(`${base}/api/v1/`);
      const [a, b, d] = [nextId(), nextId(), nextId()];
      ledger.program(b, { kind: 'reject', code: 'contract_rejected', message: OWNER_ONLY });
      for (const id of [a, b, d])
        assert.equal((await c.request('process', { base64tx: txB64(id) })).status, 202);
      const upperA = a.toUpperCase();
      const upperB = b.toUpperCase();

      assert.deepEqual(
        await c.request('transaction', { txId: upperA, push: true, wait: true }, 'q1'),
        { id: 'q1', status: 200 },
      );
      assert.deepEqual(await c.request('TXSTATUS', { txId: upperB, push: true }, 'q2'), {
        id: 'q2',
        status: 200,
      });
      c.send({ type: 'transaction', id: 'q3', data: { txId: [d, upperB], wait: true } });
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(c.unread, 0, 'a wait holds the answer');
      ledger.produceBlock();

      const got = [await c.next(), await c.next(), await c.next()];
      const waitAnswer = got.find((m) => m.id === 'q3');
      assert.deepEqual(
        waitAnswer.data.map((t: { id: string; status: string }) => [t.id, t.status]),
        [
          [d, 'accepted'],
          [upperB, 'rejected'],
        ],
      );
      assert.ok(waitAnswer.data.every((t: object) => !('code' in t)));
      const pushes = got.filter((m) => m.id === undefined);
      assert.equal(pushes.length, 2);
      for (const p of pushes) {
        assert.deepEqual(Object.keys(p).sort(), ['data', 'pushType', 'status']);
        assert.equal(p.pushType, 'transaction');
        assert.equal(p.status, 200);
      }
      const txPush = pushes.find((p) => p.data.id === upperA);
      assert.equal(txPush.data.status, 'accepted');
      assert.equal(txPush.data.payload.context, CONTEXT_ADDRESS);
      assert.ok(!('code' in txPush.data));
      assert.deepEqual(pushes.find((p) => p.data.id === upperB).data, {
        id: upperB,
        status: 'rejected',
        message: OWNER_ONLY,
      });

      // Once final, the same requests answer at once with data (and push nothing later).
      const now = await c.request('transaction', { txId: upperA, push: true }, 'q4');
      assert.equal(now.data.id, upperA);
      assert.deepEqual(await c.request('txStatus', { txId: upperB, wait: true }, 'q5'), {
        id: 'q5',
        status: 200,
        data: 'rejected',
      });
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(c.unread, 0);
      await c.close();
    },
    { finalDelayMs: null },
  );
});

test('per-connection limit on waits, and waits end when the connection closes', async () => {
  await withServer(
    async ({ base, ledger }) => {
      const c = await RawClient.open(`${base}/api/v1/`);
      assert.deepEqual(
        await c.request('transaction', { txId: [nextId(), nextId()], push: true }, 'a'),
        { id: 'a', status: 200, data: [] },
      );
      assert.deepEqual(await c.request('transaction', { txId: nextId(), push: true }, 'b'), {
        error: 'Too many transactions awaited on this connection.',
        status: 429,
        id: 'b',
      });
      c.send({ type: 'process', id: 'c', data: { base64tx: txB64(nextId()), wait: true } });
      assert.deepEqual(await c.next(), {
        error: 'Too many transactions awaited on this connection.',
        status: 429,
        id: 'c',
      });
      await c.close();
      assert.equal(ledger.listenerCounts().tx, 1);
    },
    { finalDelayMs: null },
    { wsPendingMax: 2 },
  );
});

// ---- (d) REST form ---------------------------------------------------------------------------

test('REST /api/v1/<type>: bare JSON data with the status, plain-text errors', async () => {
  await withServer(
    async ({ api, ledger }) => {
      const get = (url: string) => api.app.inject({ method: 'GET', url });
      const post = (url: string, payload: string) =>
        api.app.inject({
          method: 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json' },
        });

      const contracts = await get('/api/v1/contracts');
      assert.equal(contracts.statusCode, 200);
      assert.match(String(contracts.headers['content-type']), /application\/json/);
      assert.equal(contracts.headers['access-control-allow-origin'], '*');
      assert.equal(JSON.parse(contracts.body).length, 2);
      assert.deepEqual(JSON.parse((await get('/api/v1/Contracts?Trader')).body), [VALIDANA_TRADER]);
      assert.deepEqual(
        JSON.parse(
          (await get(`/api/v1/contracts?${encodeURIComponent('{"type":"Producer"}')}`)).body,
        )[0].type,
        'Producer',
      );
      assert.equal(
        JSON.parse((await get('/api/v1/time')).body),
        (await ledger.info()).head?.processedMs,
      );

      const id = nextId();
      const accepted = await post('/api/v1/process', JSON.stringify({ base64tx: txB64(id) }));
      assert.equal(accepted.statusCode, 202);
      assert.equal(accepted.body, '');
      const waitedId = nextId();
      const waited = await post(
        '/api/v1/PROCESS',
        JSON.stringify({ base64tx: txB64(waitedId), wait: true }),
      );
      assert.equal(waited.statusCode, 200, waited.body);
      assert.equal(JSON.parse(waited.body).id, waitedId);
      assert.ok(!('code' in JSON.parse(waited.body)));
      const deniedId = nextId();
      ledger.program(deniedId, { kind: 'reject', code: 'contract_rejected', message: OWNER_ONLY });
      const denied = await post(
        '/api/v1/process',
        `data=${encodeURIComponent(JSON.stringify({ base64tx: txB64(deniedId), wait: true }))}`,
      );
      assert.equal(denied.statusCode, 422);
      assert.match(String(denied.headers['content-type']), /text\/plain/);
      assert.equal(denied.body, OWNER_ONLY);

      assert.equal(
        JSON.parse(
          (await get(`/api/v1/txstatus?${encodeURIComponent(JSON.stringify({ txId: waitedId }))}`))
            .body,
        ),
        'accepted',
      );
      assert.equal(
        JSON.parse((await get(`/api/v1/txStatus?{"txId":"${deniedId}"}`)).body),
        'rejected',
      );
      assert.deepEqual(
        JSON.parse(
          (
            await get(
              `/api/v1/txstatus?data=${encodeURIComponent(JSON.stringify({ txId: [waitedId] }))}`,
            )
          ).body,
        ),
        [{ id: waitedId, status: 'accepted', message: 'OK' }],
      );
      assert.equal(
        JSON.parse((await get(`/api/v1/transaction?txId=${waitedId}`)).body).status,
        'accepted',
      );
      // push cannot work over REST, so wait decides; a wait that times out answers "absent".
      const started = Date.now();
      const absent = await get(
        `/api/v1/transaction?${encodeURIComponent(JSON.stringify({ txId: nextId(), push: true, wait: true }))}`,
      );
      assert.deepEqual([absent.statusCode, absent.body], [200, '']);
      assert.ok(Date.now() - started >= 250, 'the REST wait lasted its timeout');

      const unknownType = await get('/api/v1/unknown');
      assert.deepEqual(
        [unknownType.statusCode, unknownType.body],
        [400, `Invalid type: unknown, ${SUPPORTED}`],
      );
      assert.match(String(unknownType.headers['content-type']), /text\/plain/);
      const garbage = await post('/api/v1/process', 'garbage');
      assert.deepEqual([garbage.statusCode, garbage.body], [400, INVALID_PARAMS]);
      const badUrl = await get('/api/v1/contracts?%E0%A4%A');
      assert.deepEqual([badUrl.statusCode, badUrl.body], [400, 'Invalid request url.']);
      const badPath = await get('/api/v1/contracts/%E0%A4%A');
      assert.deepEqual([badPath.statusCode, badPath.body], [400, 'Invalid request url.']);
      const options = await api.app.inject({ method: 'OPTIONS', url: '/api/v1/process' });
      assert.equal(options.statusCode, 200);
      assert.equal(options.headers['access-control-allow-methods'], 'POST, GET');
      const tooBig = await post('/api/v1/process', 'x'.repeat(3000));
      assert.deepEqual([tooBig.statusCode, tooBig.body], [413, 'Payload too large.']);
    },
    { finalDelayMs: 10 },
    { bodyLimitBytes: 2000, waitTimeoutMs: 300 },
  );
});
