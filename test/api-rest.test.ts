// Our JSON routes, through app.inject() against the in-memory fake ledger: every route, and the
// exact error code of every kind of bad input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../src/core/errors.js';
import { createApiServer } from '../src/api/server.js';
import type { ApiServer, ApiServerOptions } from '../src/api/server.js';
import type { BlockView, ContractView, TxView } from '../src/chain/views.js';
import { encodeFakeTx, MemoryLedger } from './support/memory-ledger.js';
import type { MemoryLedgerOptions } from './support/memory-ledger.js';

export const TRADER: ContractView = {
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

const PAYLOAD = {
  context: '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4',
  address: '1ArvKVy4agSYWxCawFU8o146bVtTGE7AiN',
  allowed: true,
};
let idCounter = 0;

function nextId(): string {
  idCounter += 1;
  return idCounter.toString(16).padStart(32, '0');
}

function txB64(idHex: string, contractHashHex = TRADER.hash, payload: unknown = PAYLOAD): string {
  return Buffer.from(encodeFakeTx({ idHex, contractHashHex, payload })).toString('base64');
}

interface Ctx {
  ledger: MemoryLedger;
  api: ApiServer;
  reported: { err: unknown; context: string }[];
}

async function withServer(
  fn: (c: Ctx) => Promise<void>,
  ledgerOpts: MemoryLedgerOptions = {},
  serverOpts: ApiServerOptions = {},
): Promise<void> {
  const ledger = new MemoryLedger({ contracts: [TRADER], ...ledgerOpts });
  const reported: { err: unknown; context: string }[] = [];
  const api = await createApiServer(ledger, {
    reportError: (err, context) => reported.push({ err, context }),
    ...serverOpts,
  });
  try {
    await fn({ ledger, api, reported });
  } finally {
    await api.close();
    ledger.close();
  }
}

interface Res {
  status: number;
  body: any;
  text: string;
}

async function req(
  api: ApiServer,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
): Promise<Res> {
  const r = await api.app.inject({
    method,
    url,
    ...(payload === undefined
      ? {}
      : {
          payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          headers: { 'content-type': 'application/json' },
        }),
  });
  let body: unknown = null;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = null;
  }
  return { status: r.statusCode, body, text: r.body };
}

function assertError(res: Res, status: number, code: string, messagePart?: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.error?.code, code, res.text);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(typeof res.body.error.details, 'object');
  if (messagePart !== undefined)
    assert.ok(
      res.body.error.message.includes(messagePart),
      `"${res.body.error.message}" should mention "${messagePart}"`,
    );
}

test('GET /api/info and /api/contracts', async () => {
  await withServer(async ({ api }) => {
    const info = await req(api, 'GET', '/api/info');
    assert.equal(info.status, 200);
    assert.equal(info.body.chainId, 'hanzenet');
    assert.equal(info.body.role, 'processor');
    assert.equal(info.body.head.height, 0);
    assert.equal(info.body.chainTimeMs, info.body.head.processedMs);
    const contracts = await req(api, 'GET', '/api/contracts');
    assert.equal(contracts.status, 200);
    assert.deepEqual(contracts.body, [TRADER]);
  });
});

test('POST /api/transactions: 202 without wait, 200 with the final view when waiting', async () => {
  await withServer(async ({ api, ledger }) => {
    const id = nextId();
    const res = await req(api, 'POST', '/api/transactions', { base64tx: txB64(id) });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { id, status: 'new' });

    const id2 = nextId();
    const waited = await req(api, 'POST', '/api/transactions', {
      base64tx: txB64(id2),
      wait: true,
    });
    assert.equal(waited.status, 200, waited.text);
    const view = waited.body as TxView;
    assert.equal(view.id, id2);
    assert.equal(view.status, 'accepted');
    assert.equal(view.code, null);
    assert.equal(view.message, 'OK');
    assert.deepEqual(view.payload, PAYLOAD);
    assert.equal(view.contractType, 'Trader');
    assert.equal(typeof view.blockId, 'number');

    const id3 = nextId();
    ledger.program(id3, {
      kind: 'reject',
      code: 'contract_rejected',
      message: 'Only the context owner can allow or deny trader addresses.',
    });
    const rejected = await req(api, 'POST', '/api/transactions', {
      base64tx: txB64(id3),
      wait: true,
    });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.status, 'rejected');
    assert.equal(rejected.body.code, 'contract_rejected');

    const id4 = nextId();
    ledger.program(id4, { kind: 'invalid', code: 'contract_error', message: 'the contract threw' });
    const invalid = await req(api, 'POST', '/api/transactions', {
      base64tx: txB64(id4),
      wait: true,
    });
    assert.equal(invalid.status, 200);
    assert.equal(invalid.body.status, 'invalid');
    assert.equal(invalid.body.blockId, null);
    assert.equal(ledger.listenerCounts().tx, 1, 'one onTxFinal subscription for the whole server');
  });
});

test('POST /api/transactions with wait answers 202 and the pending view when the wait times out', async () => {
  await withServer(
    async ({ api }) => {
      const id = nextId();
      const res = await req(api, 'POST', '/api/transactions', {
        base64tx: txB64(id),
        wait: true,
        timeoutMs: 30,
      });
      assert.equal(res.status, 202);
      assert.equal(res.body.id, id);
      assert.equal(res.body.status, 'new');
    },
    { finalDelayMs: null },
  );
});

test('POST /api/transactions: every kind of bad input has its own code', async () => {
  await withServer(
    async ({ api, ledger, reported }) => {
      const post = (payload: unknown) => req(api, 'POST', '/api/transactions', payload);
      assertError(await post('{"base64tx": '), 400, 'bad_request', 'not valid JSON');
      assertError(await req(api, 'POST', '/api/transactions'), 400, 'bad_request', 'empty');
      assertError(await post('[1,2]'), 400, 'bad_request', 'must be a JSON object');
      assertError(await post({ tx: 'x' }), 400, 'bad_request', 'missing field "base64tx"');
      assertError(await post({ base64tx: 12 }), 400, 'bad_request', 'must be a base64 string');
      assertError(await post({ base64tx: '!!!!' }), 400, 'bad_base64', 'outside A-Z');
      assertError(await post({ base64tx: 'abc' }), 400, 'bad_base64', 'not a multiple of 4');
      assertError(await post({ base64tx: 'ab=c' }), 400, 'bad_base64');
      assertError(
        await post({ base64tx: txB64(nextId()), wait: 'yes' }),
        400,
        'bad_request',
        '"wait"',
      );
      assertError(
        await post({ base64tx: txB64(nextId()), wait: true, timeoutMs: -1 }),
        400,
        'bad_request',
        '"timeoutMs"',
      );
      assertError(
        await post({ base64tx: Buffer.alloc(40).toString('base64') }),
        400,
        'tx_malformed',
      );
      assertError(
        await post({ base64tx: txB64(nextId(), 'ab'.repeat(32)) }),
        400,
        'contract_unknown',
      );
      const id = nextId();
      assert.equal((await post({ base64tx: txB64(id) })).status, 202);
      assertError(await post({ base64tx: txB64(id) }), 409, 'tx_duplicate_id');
      assertError(await post({ base64tx: txB64(id), wait: true }), 409, 'tx_duplicate_id');

      ledger.failNext(new ChainError('retry', 'database unavailable, nothing stored'));
      assertError(await post({ base64tx: txB64(nextId()) }), 503, 'retry', 'database unavailable');
      ledger.failNext(new Error('boom'));
      assertError(await post({ base64tx: txB64(nextId()) }), 500, 'internal');
      assert.equal(reported.length, 1);
      assert.equal((reported[0]?.err as Error | undefined)?.message, 'boom');
      ledger.failNext(new ChainError('retry', 'database unavailable'));
      assertError(await post({ base64tx: txB64(nextId()), wait: true }), 503, 'retry');

      const big = await post({ base64tx: 'A'.repeat(2000) });
      assertError(big, 413, 'body_too_large', '1000 bytes');
    },
    {},
    { bodyLimitBytes: 1000 },
  );
});

test('POST /api/transactions/batch: per-item results, limits and waiting', async () => {
  await withServer(
    async ({ api }) => {
      const [a, b] = [nextId(), nextId()];
      const res = await req(api, 'POST', '/api/transactions/batch', {
        transactions: [txB64(a), '!!!!', 5, txB64(a), txB64(b, 'cd'.repeat(32))],
      });
      assert.equal(res.status, 200, res.text);
      const results = res.body.results as any[];
      assert.equal(results.length, 5);
      assert.deepEqual(results[0], { id: a, status: 'new' });
      assert.equal(results[1].id, null);
      assert.equal(results[1].error.code, 'bad_base64');
      assert.equal(results[1].error.details.index, 1);
      assert.equal(results[2].error.code, 'bad_request');
      assert.equal(results[3].id, a);
      assert.equal(results[3].error.code, 'tx_duplicate_id');
      assert.equal(results[4].error.code, 'contract_unknown');

      const [c, d] = [nextId(), nextId()];
      const waited = await req(api, 'POST', '/api/transactions/batch', {
        transactions: [txB64(c), txB64(d)],
        wait: true,
      });
      assert.equal(waited.status, 200);
      assert.deepEqual(
        waited.body.results.map((v: TxView) => [v.id, v.status]),
        [
          [c, 'accepted'],
          [d, 'accepted'],
        ],
      );

      assert.deepEqual(
        (await req(api, 'POST', '/api/transactions/batch', { transactions: [] })).body,
        { results: [] },
      );
      assertError(
        await req(api, 'POST', '/api/transactions/batch', { transactions: [1, 2, 3, 4, 5, 6] }),
        413,
        'batch_too_large',
        'at most 5',
      );
      assertError(
        await req(api, 'POST', '/api/transactions/batch', { transactions: 'x' }),
        400,
        'bad_request',
        '"transactions"',
      );
      assertError(
        await req(api, 'POST', '/api/transactions/batch', { transactions: [], wait: 1 }),
        400,
        'bad_request',
        '"wait"',
      );
      assertError(
        await req(api, 'POST', '/api/transactions/batch', 'nope'),
        400,
        'bad_request',
        'not valid JSON',
      );
    },
    {},
    { batchMax: 5 },
  );
});

test('GET /api/transactions/:id: pending, final, waiting, unknown and malformed ids', async () => {
  await withServer(
    async ({ api, ledger }) => {
      const id = nextId();
      await req(api, 'POST', '/api/transactions', { base64tx: txB64(id) });
      const pending = await req(api, 'GET', `/api/transactions/${id}`);
      assert.equal(pending.status, 200);
      assert.equal(pending.body.status, 'new');

      const timedOut = await req(api, 'GET', `/api/transactions/${id}?wait=true&timeoutMs=20`);
      assert.equal(timedOut.status, 200);
      assert.equal(timedOut.body.status, 'new');

      const waiting = req(api, 'GET', `/api/transactions/${id.toUpperCase()}?wait=true`);
      setTimeout(() => ledger.produceBlock(), 30);
      const final = await waiting;
      assert.equal(final.status, 200);
      assert.equal(final.body.status, 'accepted');
      assert.equal(final.body.id, id);

      const again = await req(api, 'GET', `/api/transactions/${id}?wait=true`);
      assert.equal(again.body.status, 'accepted', 'a final transaction answers at once');

      assertError(await req(api, 'GET', `/api/transactions/${nextId()}`), 404, 'not_found');
      assertError(
        await req(api, 'GET', `/api/transactions/${nextId()}?wait=true`),
        404,
        'not_found',
      );
      assertError(await req(api, 'GET', '/api/transactions/xyz'), 400, 'bad_hex', '32 hex');
      assertError(await req(api, 'GET', `/api/transactions/${'a'.repeat(200)}`), 400, 'bad_hex');
      assertError(
        await req(api, 'GET', `/api/transactions/${id}?wait=maybe`),
        400,
        'bad_request',
        '"wait"',
      );
      assertError(
        await req(api, 'GET', `/api/transactions/${id}?wait=true&timeoutMs=abc`),
        400,
        'bad_request',
        'timeoutMs',
      );
      assertError(
        await req(api, 'GET', `/api/transactions/${id}?wait=true&wait=false`),
        400,
        'bad_request',
        'once',
      );
      ledger.failNext(new ChainError('retry', 'store unavailable'));
      assertError(await req(api, 'GET', `/api/transactions/${id}`), 503, 'retry');
      assert.equal(ledger.listenerCounts().tx, 1);
    },
    { finalDelayMs: null },
  );
});

test('a pending wait ends with 503 shutting_down when the server closes', async () => {
  const ledger = new MemoryLedger({ contracts: [TRADER], finalDelayMs: null });
  const api = await createApiServer(ledger, { reportError: () => undefined });
  const id = nextId();
  await req(api, 'POST', '/api/transactions', { base64tx: txB64(id) });
  const waiting = req(api, 'GET', `/api/transactions/${id}?wait=true`);
  await new Promise((r) => setTimeout(r, 20));
  const closing = api.close();
  assertError(await req(api, 'GET', '/api/info'), 503, 'shutting_down');
  await closing;
  assertError(await waiting, 503, 'shutting_down');
  assert.deepEqual(
    ledger.listenerCounts(),
    { tx: 0, block: 0 },
    'the server unsubscribed from the ledger',
  );
  ledger.close();
});

test('GET /api/blocks, /api/blocks/:height and /api/blocks/raw', async () => {
  await withServer(
    async ({ api, ledger }) => {
      const id = nextId();
      await req(api, 'POST', '/api/transactions', { base64tx: txB64(id) });
      ledger.produceBlock();
      ledger.produceBlock();
      const all = await req(api, 'GET', '/api/blocks');
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.map((b: BlockView) => b.height),
        [0, 1, 2],
      );
      assert.equal(all.body[1].txCount, 1);
      assert.equal(all.body[1].transactions[0].id, id);
      assert.equal(all.body[1].previousHash, all.body[0].hash);
      assert.notEqual(all.body[0].genesis, null);

      const some = await req(api, 'GET', '/api/blocks?from=1&limit=1');
      assert.deepEqual(
        some.body.map((b: BlockView) => b.height),
        [1],
      );
      const one = await req(api, 'GET', '/api/blocks/2');
      assert.equal(one.status, 200);
      assert.equal(one.body.height, 2);
      const raw = await req(api, 'GET', '/api/blocks/raw?from=0&limit=2');
      assert.equal(raw.status, 200);
      const expected = (await ledger.getRawBlocks(0, 2)).map((b) =>
        Buffer.from(b).toString('base64'),
      );
      assert.deepEqual(raw.body, { blocks: expected });

      assertError(await req(api, 'GET', '/api/blocks/3'), 404, 'not_found', 'height 3');
      assertError(await req(api, 'GET', '/api/blocks/abc'), 400, 'bad_request', 'block height');
      assertError(await req(api, 'GET', '/api/blocks/-1'), 400, 'bad_request');
      assertError(
        await req(api, 'GET', '/api/blocks?limit=1001'),
        400,
        'bad_request',
        'limit must be an integer from 1 to 1000',
      );
      assertError(await req(api, 'GET', '/api/blocks?limit=0'), 400, 'bad_request', 'limit');
      assertError(await req(api, 'GET', '/api/blocks?from=-1'), 400, 'bad_request', 'from');
      assertError(await req(api, 'GET', '/api/blocks?from=1.5'), 400, 'bad_request', 'from');
      assertError(await req(api, 'GET', '/api/blocks/raw?from=x'), 400, 'bad_request', 'from');
      assertError(await req(api, 'GET', '/api/blocks?from=1&from=2'), 400, 'bad_request', 'once');
    },
    { finalDelayMs: null },
  );
});

test('unknown routes are not_found; /api/ws without an upgrade is bad_request', async () => {
  await withServer(async ({ api }) => {
    assertError(await req(api, 'GET', '/api/nothing'), 404, 'not_found', 'GET /api/nothing');
    assertError(await req(api, 'POST', '/api/info', {}), 404, 'not_found');
    assertError(await req(api, 'GET', '/api/ws'), 400, 'bad_request', 'WebSocket');
    assertError(
      await req(api, 'GET', '/api/transactions/%E0%A4%A'),
      400,
      'bad_request',
      'not a valid url',
    );
  });
});
