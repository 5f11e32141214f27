// Block reads and the live block feed: every block once, in order, across dropped connections
// and missed pushes (filled over HTTP), and a listener error ends the feed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError, HanzenetClient, type BlockView } from '../src/client/index.js';
import { FakeServer, closedPortUrl } from './support/cli-fake-server.js';

async function withServer(
  fn: (server: FakeServer, client: HanzenetClient) => Promise<void>,
): Promise<void> {
  const server = await FakeServer.start();
  const client = new HanzenetClient({ url: server.url, fetchTimeoutMs: 2_000 });
  try {
    await fn(server, client);
  } finally {
    client.close();
    await server.close();
  }
}

test('blocks, block and rawBlocks read the API', async () => {
  await withServer(async (server, client) => {
    for (let i = 0; i < 5; i++) server.addBlock();
    assert.deepEqual(
      (await client.blocks(1, 3)).map((b) => b.height),
      [1, 2, 3],
    );
    assert.equal((await client.block(0)).genesis?.chainId, server.chainId);
    const raws = await client.rawBlocks(3, 10);
    assert.deepEqual(
      raws.map((r) => new DataView(r.buffer, r.byteOffset).getUint32(0, true)),
      [3, 4],
    );
    const missing = await client.block(99).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(
      missing instanceof ClientError && missing.code === 'not_found' && missing.status === 404,
    );
    await assert.rejects(
      client.blocks(-1, 2),
      (e: unknown) => e instanceof ClientError && e.code === 'bad_request',
    );
  });
});

test('subscribeBlocks: catches up from fromHeight, survives drops and missed pushes, stops on abort', async () => {
  await withServer(async (server, client) => {
    server.addBlock();
    server.addBlock();
    const seen: number[] = [];
    const raws: number[] = [];
    const errors: string[] = [];
    const stop = new AbortController();
    const done = client.subscribeBlocks(
      (block: BlockView, raw: Uint8Array) => {
        seen.push(block.height);
        raws.push(new DataView(raw.buffer, raw.byteOffset).getUint32(0, true));
      },
      {
        signal: stop.signal,
        fromHeight: 1,
        reconnectMinMs: 20,
        reconnectMaxMs: 100,
        onError: (e) => errors.push(e.code),
      },
    );
    await waitFor(() => seen.length === 1 && server.socketCount === 1);
    server.addBlock(); // 2, pushed
    await waitFor(() => seen.length === 2);
    server.pushBlocks = false;
    server.addBlock(); // 3, push missed
    server.pushBlocks = true;
    server.addBlock(); // 4, pushed: the feed fills 3 first
    await waitFor(() => seen.length === 4);
    server.dropSockets();
    server.addBlock(); // 5, produced while disconnected: fetched after reconnecting
    await waitFor(() => seen.length === 5);
    server.addBlock(); // 6, pushed on the new connection
    await waitFor(() => seen.length === 6);
    stop.abort();
    await done;
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(raws, seen);
    await waitFor(() => server.socketCount === 0);
  });
});

test('subscribeBlocks rejects with the listener error and closes its socket', async () => {
  await withServer(async (server, client) => {
    const done = client.subscribeBlocks(() => {
      throw new Error('listener broke');
    });
    // The block must be pushed after the subscribe message arrived: an open socket is not enough.
    await waitFor(() => server.subscriberCount === 1);
    server.addBlock();
    await assert.rejects(done, /listener broke/);
    await waitFor(() => server.socketCount === 0);
  });
});

test('subscribeBlocks keeps retrying an unreachable server until aborted', async () => {
  const client = new HanzenetClient({ url: await closedPortUrl() });
  const stop = new AbortController();
  const errors: string[] = [];
  const done = client.subscribeBlocks(() => undefined, {
    signal: stop.signal,
    reconnectMinMs: 10,
    reconnectMaxMs: 20,
    onError: (e) => errors.push(e.code),
  });
  await waitFor(() => errors.length >= 3);
  stop.abort();
  await done;
  assert.ok(errors.every((c) => c === 'unreachable'));
});

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
