// awaitTransaction: pushed over the WebSocket, polled when the server does not push, long-polled
// when there is no WebSocket at all, and `await_timeout` when the transaction stays pending.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError, HanzenetClient, PrivateKey, signTx } from '../src/client/index.js';
import { FakeServer } from './support/cli-fake-server.js';

const HASH = '33'.repeat(32);
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

async function submitPending(
  server: FakeServer,
  client: HanzenetClient,
  payloadText = '{}',
): Promise<string> {
  const tx = signTx({ contractHashHex: HASH, validTillMs: 0, payloadText }, key, server.chainId);
  await client.submit(tx);
  return tx.idHex;
}

test('the final view is pushed over the WebSocket, and the socket closes when nobody waits', async () => {
  await withServer({ finalizeAfterMs: null }, async (server, client) => {
    const ids = [
      await submitPending(server, client, '{"i":1}'),
      await submitPending(server, client, '{"i":2}'),
    ];
    const waiting = Promise.all(ids.map((id) => client.awaitTransaction(id, 5_000)));
    await waitFor(() => server.socketCount === 1);
    const started = Date.now();
    for (const id of ids) server.finalize(id);
    const views = await waiting;
    assert.deepEqual(
      views.map((v) => v.status),
      ['accepted', 'accepted'],
    );
    assert.ok(Date.now() - started < 500, 'pushed, not found by a slow poll');
    // One socket for both waits (watches share it), closed once both are done.
    await waitFor(() => server.socketCount === 0);
  });
});

test('an already final transaction resolves at once', async () => {
  await withServer({ finalizeAfterMs: null }, async (server, client) => {
    const id = await submitPending(server, client);
    server.finalize(id);
    assert.equal((await client.awaitTransaction(id, 5_000)).status, 'accepted');
  });
});

test('any final status ends the wait: rejected and invalid too', async () => {
  let n = 0;
  const decide = () =>
    ++n === 1
      ? { status: 'rejected' as const, code: 'contract_rejected', message: 'no' }
      : { status: 'invalid' as const, code: 'tx_expired', message: 'expired' };
  await withServer({ decide, finalizeAfterMs: 20 }, async (server, client) => {
    const a = await submitPending(server, client, '{"i":1}');
    const b = await submitPending(server, client, '{"i":2}');
    assert.equal((await client.awaitTransaction(a, 5_000)).code, 'contract_rejected');
    assert.equal((await client.awaitTransaction(b, 5_000)).code, 'tx_expired');
  });
});

test('an id that is not submitted yet is awaited until it is', async () => {
  await withServer({ finalizeAfterMs: 10 }, async (server, client) => {
    const tx = signTx(
      { contractHashHex: HASH, validTillMs: 0, payloadText: '{}' },
      key,
      server.chainId,
    );
    const waiting = client.awaitTransaction(tx.idHex, 5_000);
    await new Promise((r) => setTimeout(r, 100));
    await client.submit(tx);
    assert.equal((await waiting).status, 'accepted');
  });
});

test('when the server ignores watches, polling still finds the final status', async () => {
  await withServer({ finalizeAfterMs: null, ignoreWatch: true }, async (server, client) => {
    const id = await submitPending(server, client);
    setTimeout(() => server.finalize(id), 200);
    assert.equal((await client.awaitTransaction(id, 5_000)).status, 'accepted');
  });
});

test('without a WebSocket the client falls back to GET ?wait=true', async () => {
  await withServer({ finalizeAfterMs: null, webSocket: false }, async (server, client) => {
    const id = await submitPending(server, client);
    setTimeout(() => server.finalize(id), 300);
    assert.equal((await client.awaitTransaction(id, 10_000)).status, 'accepted');
    const longPolls = server.requests.filter(
      (r) => r.path === `/api/transactions/${id}` && r.query['wait'] === 'true',
    );
    assert.ok(longPolls.length >= 1, 'used a waiting read');
  });
});

test('a transaction that stays pending ends in await_timeout', async () => {
  await withServer({ finalizeAfterMs: null }, async (server, client) => {
    const id = await submitPending(server, client);
    const err = await client.awaitTransaction(id, 300).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClientError);
    assert.equal(err.code, 'await_timeout');
    assert.equal(err.details['id'], id);
    await waitFor(() => server.socketCount === 0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
