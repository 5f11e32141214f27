// The client library against the fake API server: reads, signing with the chain id, submission
// (single, batch, wait), contract lookup and how failures become ClientErrors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ClientError,
  HanzenetClient,
  PrivateKey,
  signTx,
  normaliseBaseUrl,
} from '../src/client/index.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../src/chain/types.js';
import { FakeServer, closedPortUrl, contractView } from './support/cli-fake-server.js';

const TRADER = 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a';
const TRADER_V2 = '11'.repeat(32);
const key = PrivateKey.generate();

async function withServer(
  opts: ConstructorParameters<typeof FakeServer>[0],
  fn: (server: FakeServer, client: HanzenetClient) => Promise<void>,
): Promise<void> {
  const server = await FakeServer.start(opts);
  const client = new HanzenetClient({ url: server.url, fetchTimeoutMs: 2_000 });
  try {
    await fn(server, client);
  } finally {
    client.close();
    await server.close();
  }
}

test('info and chainId: the chain id is asked from /api/info once', async () => {
  await withServer({ chainId: 'hanzenet-abc' }, async (server, client) => {
    assert.equal((await client.info()).chainId, 'hanzenet-abc');
    assert.equal(await client.chainId(), 'hanzenet-abc');
    assert.equal(await client.chainId(), 'hanzenet-abc');
    assert.equal(server.requests.filter((r) => r.path === '/api/info').length, 2);
  });
});

test('a chain id given to the constructor is used without asking', async () => {
  const server = await FakeServer.start();
  const client = new HanzenetClient({ url: server.url, chainId: 'other-chain' });
  try {
    assert.equal(await client.chainId(), 'other-chain');
    assert.equal(server.requests.length, 0);
    // Signed for another chain: the server's signature check refuses it.
    const err = await client.executeContract({ contractHash: TRADER, payload: {}, key }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, 'signature_invalid');
    assert.equal(err.status, 400);
  } finally {
    client.close();
    await server.close();
  }
});

test('executeContract looks the type up (last match wins), signs the exact JSON.stringify bytes and waits', async () => {
  const contracts = [
    contractView('Trader', TRADER),
    contractView('Other', '22'.repeat(32)),
    contractView('Trader', TRADER_V2),
  ];
  await withServer({ contracts }, async (server, client) => {
    const payload = {
      context: '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH',
      amount: 12.5,
      note: 'zon ☀ naïve',
      n: -2,
    };
    const view = await client.executeContract({
      contractType: 'Trader',
      payload,
      key,
      validTillMs: 0,
    });
    assert.equal(view.status, 'accepted');
    const stored = server.txs.get(view.id);
    assert.ok(stored !== undefined);
    assert.equal(stored.tx.payloadText, JSON.stringify(payload));
    assert.equal(stored.tx.contractHashHex, TRADER_V2);
    assert.equal(stored.tx.validTillMs, 0);
    assert.equal(stored.tx.sender, key.address);
    const post = server.requests.find((r) => r.path === '/api/transactions');
    assert.deepEqual(Object.keys(post?.body as object).sort(), ['base64tx', 'timeoutMs', 'wait']);
  });
});

test('executeContract with a string payload sends that exact text; default valid-till is about 15 minutes ahead', async () => {
  await withServer({}, async (server, client) => {
    const text = '{ "b": 1,  "a": 2 }';
    const before = Date.now();
    const res = await client.executeContract({
      contractHash: TRADER.toUpperCase(),
      payload: text,
      key,
      wait: false,
      idHex: 'AB'.repeat(16),
    });
    assert.deepEqual(res, { id: 'ab'.repeat(16), status: 'new' });
    const stored = server.txs.get('ab'.repeat(16));
    assert.equal(stored?.tx.payloadText, text);
    assert.equal(stored?.tx.contractHashHex, TRADER);
    const validTill = stored?.tx.validTillMs ?? 0;
    assert.ok(validTill >= before + 14 * 60_000 && validTill <= Date.now() + 16 * 60_000);
  });
});

test('a rejected transaction resolves with its view (code and message), it does not throw', async () => {
  const decide = () => ({
    status: 'rejected' as const,
    code: 'insufficient_energy',
    message: 'not enough energy',
  });
  await withServer({ decide }, async (_server, client) => {
    const view = await client.executeContract({ contractHash: TRADER, payload: { a: 1 }, key });
    assert.equal(view.status, 'rejected');
    assert.equal(view.code, 'insufficient_energy');
    assert.equal(view.message, 'not enough energy');
  });
});

test('client-side checks: unknown contract type, payload not an object, both or neither contract given, bad ids', async () => {
  await withServer({ contracts: [contractView('Trader', TRADER)] }, async (server, client) => {
    const codeOf = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'no error',
        (e: unknown) => (e instanceof ClientError ? e.code : String(e)),
      );
    assert.equal(
      await codeOf(client.executeContract({ contractType: 'Nope', payload: {}, key })),
      'contract_unknown',
    );
    assert.equal(
      await codeOf(client.executeContract({ contractType: 'Trader', payload: '[1]', key })),
      'tx_payload_not_json',
    );
    assert.equal(
      await codeOf(client.executeContract({ contractType: 'Trader', payload: '{oops', key })),
      'tx_payload_not_json',
    );
    assert.equal(
      await codeOf(
        client.executeContract({
          contractType: 'Trader',
          payload: { big: 'x'.repeat(100_001) },
          key,
        }),
      ),
      'tx_too_large',
    );
    assert.equal(await codeOf(client.executeContract({ payload: {}, key })), 'bad_request');
    assert.equal(
      await codeOf(
        client.executeContract({ contractType: 'Trader', contractHash: TRADER, payload: {}, key }),
      ),
      'bad_request',
    );
    assert.equal(
      await codeOf(client.executeContract({ contractHash: 'abc', payload: {}, key })),
      'bad_hex',
    );
    assert.equal(await codeOf(client.getTransaction('xyz')), 'bad_hex');
    assert.equal(server.txs.size, 0);
  });
});

test('createContract and deleteContract use the special hashes and payloads', async () => {
  await withServer({}, async (server, client) => {
    const file = {
      type: 'Thing',
      version: '1.0',
      description: 'd',
      template: '{}',
      init: '',
      code: 'Y29kZQ==',
    };
    const created = await client.createContract(file, key, { validTillMs: 0 });
    const deleted = await client.deleteContract(TRADER.toUpperCase(), key, { validTillMs: 0 });
    assert.equal(server.txs.get(created.id)?.tx.contractHashHex, CREATE_CONTRACT_HASH);
    assert.equal(server.txs.get(created.id)?.tx.payloadText, JSON.stringify(file));
    assert.equal(server.txs.get(deleted.id)?.tx.contractHashHex, DELETE_CONTRACT_HASH);
    assert.equal(server.txs.get(deleted.id)?.tx.payloadText, JSON.stringify({ hash: TRADER }));
    assert.equal(created.contractType, 'Create Contract');
  });
});

test('submit, duplicate id error with HTTP status, getTransaction and not_found', async () => {
  await withServer({ finalizeAfterMs: null }, async (server, client) => {
    const tx = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{}' },
      key,
      server.chainId,
    );
    assert.deepEqual(await client.submit(tx), { id: tx.idHex, status: 'new' });
    assert.equal((await client.getTransaction(tx.idHex)).status, 'new');
    const dup = await client.submit(tx.bytes).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(dup instanceof ClientError);
    assert.equal(dup.code, 'tx_duplicate_id');
    assert.equal(dup.status, 409);
    assert.deepEqual(JSON.parse(JSON.stringify(dup)), {
      code: 'tx_duplicate_id',
      message: dup.message,
      details: {},
    });
    const missing = await client.getTransaction('00'.repeat(16)).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(missing instanceof ClientError);
    assert.equal(missing.code, 'not_found');
    assert.equal(missing.status, 404);
    // The server holds a waiting read until the transaction is final.
    setTimeout(() => server.finalize(tx.idHex), 50);
    const view = await client.getTransaction(tx.idHex.toUpperCase(), {
      wait: true,
      timeoutMs: 5_000,
    });
    assert.equal(view.status, 'accepted');
    const read = server.requests.filter((r) => r.path === `/api/transactions/${tx.idHex}`).at(-1);
    assert.deepEqual(read?.query, { wait: 'true', timeoutMs: '5000' });
  });
});

test('a waiting submission outlives a server whose own wait runs out first', async () => {
  await withServer({ waitCapMs: 50, finalizeAfterMs: 400 }, async (server, client) => {
    const tx = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{}' },
      key,
      server.chainId,
    );
    const view = await client.submit(tx, { wait: true, timeoutMs: 5_000 });
    assert.equal(view.status, 'accepted');
    const post = server.requests.find((r) => r.path === '/api/transactions');
    assert.deepEqual(post?.body, {
      base64tx: Buffer.from(tx.bytes).toString('base64'),
      wait: true,
      timeoutMs: 5_000,
    });
    const tooShort = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"b":1}' },
      key,
      server.chainId,
    );
    const err = await client.submit(tooShort, { wait: true, timeoutMs: 200 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, 'await_timeout');
    assert.equal(err.details['id'], tooShort.idHex);
  });
});

test('submitBatch returns one result per transaction, in order', async () => {
  await withServer({}, async (server, client) => {
    const a = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"i":1}' },
      key,
      server.chainId,
    );
    const b = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"i":2}' },
      key,
      'wrong-chain',
    );
    const results = await client.submitBatch([a, b.bytes]);
    assert.equal(results.length, 2);
    assert.deepEqual(results[0], { id: a.idHex, status: 'new' });
    assert.equal((results[1] as { error: { code: string } }).error.code, 'signature_invalid');
    const c = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"i":3}' },
      key,
      server.chainId,
    );
    const waited = await client.submitBatch([c], { wait: true });
    assert.equal((waited[0] as { status: string }).status, 'accepted');
  });
});

test('network failures are `unreachable`; a non-JSON answer is `bad_response`', async () => {
  const closed = new HanzenetClient({ url: await closedPortUrl(), fetchTimeoutMs: 2_000 });
  const err = await closed.info().then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ClientError);
  assert.equal(err.code, 'unreachable');
  assert.equal(err.status, null);

  const http = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const client = new HanzenetClient({ url: `127.0.0.1:${(http.address() as AddressInfo).port}` });
    const bad = await client.contracts().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(bad instanceof ClientError);
    assert.equal(bad.code, 'bad_response');
    assert.equal(bad.status, 502);
  } finally {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
});

test('a server that does not answer in time gives `unreachable` with the time limit', async () => {
  const http = createServer(() => undefined);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const client = new HanzenetClient({
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      fetchTimeoutMs: 100,
    });
    const err = await client.info().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, 'unreachable');
    assert.equal(err.details['timeoutMs'], 100);
  } finally {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
});

test('normaliseBaseUrl accepts host:port, ws:// and Validana /api/v1/ URLs', () => {
  assert.equal(normaliseBaseUrl('http://localhost:8080/'), 'http://localhost:8080');
  assert.equal(normaliseBaseUrl('localhost:8080'), 'http://localhost:8080');
  assert.equal(normaliseBaseUrl('ws://localhost:8080/api/v1/'), 'http://localhost:8080');
  assert.equal(normaliseBaseUrl('wss://example.org/ledger/'), 'https://example.org/ledger');
  assert.throws(
    () => normaliseBaseUrl('ftp://x'),
    (e: unknown) => e instanceof ClientError && e.code === 'usage_error',
  );
});
