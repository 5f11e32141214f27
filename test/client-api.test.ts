// The client and the CLI against the real API server (src/api/server.ts) over an in-memory
// ledger: the routes, bodies, waits and WebSocket messages both sides implement must agree.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiServer, type ApiServer } from '../src/api/server.js';
import {
  ClientError,
  HanzenetClient,
  PrivateKey,
  signTx,
  type BlockView,
} from '../src/client/index.js';
import { contractView } from './support/cli-fake-server.js';
import { MemoryLedger } from './support/memory-ledger.js';
import { errorOf, runCli } from './support/cli-run.js';

const TRADER = 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a';
const key = PrivateKey.generate();
// Signatures verified for the chain; a block 50 ms after a submission, as the processor makes
// them; a payload with "reject": true is rejected.
const ledger = new MemoryLedger({
  chainId: 'hanzenet-api-test',
  verifyChainId: 'hanzenet-api-test',
  contracts: [contractView('Trader', TRADER)],
  finalDelayMs: 50,
  withGenesis: false,
  decide: (tx) =>
    tx.payload['reject'] === true
      ? { kind: 'reject', code: 'contract_rejected', message: 'no' }
      : { kind: 'accept' },
});
let api: ApiServer;
let url: string;

before(async () => {
  api = await createApiServer(ledger, { reportError: () => undefined });
  url = await api.listen(0, '127.0.0.1');
});

after(async () => {
  ledger.close();
  await api.close();
});

test('info, contracts, execute (waiting), submit then await, get with wait, batch', async () => {
  const client = new HanzenetClient({ url });
  try {
    assert.equal(await client.chainId(), 'hanzenet-api-test');
    assert.deepEqual(
      (await client.contracts()).map((c) => c.hash),
      [TRADER],
    );
    const view = await client.executeContract({ contractType: 'Trader', payload: { a: 1 }, key });
    assert.equal(view.status, 'accepted');
    const rejected = await client.executeContract({
      contractType: 'Trader',
      payload: { reject: true },
      key,
    });
    assert.equal(rejected.code, 'contract_rejected');
    const tx = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"b":2}' },
      key,
      ledger.chainId,
    );
    assert.deepEqual(await client.submit(tx), { id: tx.idHex, status: 'new' });
    assert.equal((await client.awaitTransaction(tx.idHex, 5_000)).status, 'accepted');
    const tx2 = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"b":3}' },
      key,
      ledger.chainId,
    );
    await client.submit(tx2);
    assert.equal(
      (await client.getTransaction(tx2.idHex, { wait: true, timeoutMs: 5_000 })).status,
      'accepted',
    );
    const tx3 = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"b":4}' },
      key,
      'other-chain',
    );
    const tx4 = signTx(
      { contractHashHex: TRADER, validTillMs: 0, payloadText: '{"b":5}' },
      key,
      ledger.chainId,
    );
    const results = await client.submitBatch([tx3, tx4], { wait: true, timeoutMs: 5_000 });
    assert.equal((results[0] as { error: { code: string } }).error.code, 'signature_invalid');
    assert.equal((results[1] as { status: string }).status, 'accepted');
    const dup = await client.submit(tx).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(dup instanceof ClientError && dup.code === 'tx_duplicate_id');
    const missing = await client.getTransaction('00'.repeat(16)).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(
      missing instanceof ClientError && missing.code === 'not_found' && missing.status === 404,
    );
  } finally {
    client.close();
  }
});

test('blocks, raw blocks and the live feed', async () => {
  const client = new HanzenetClient({ url });
  const stop = new AbortController();
  try {
    await client.executeContract({ contractType: 'Trader', payload: { c: 0 }, key });
    const first = await client.block(0);
    assert.equal(first.height, 0);
    const views = await client.blocks(0, 2);
    const raws = await client.rawBlocks(0, 2);
    assert.equal(views.length, raws.length);
    const seen: BlockView[] = [];
    const feed = client.subscribeBlocks((b) => void seen.push(b), {
      signal: stop.signal,
      fromHeight: 0,
    });
    await waitFor(() => seen.length >= views.length);
    await client.executeContract({ contractType: 'Trader', payload: { c: 1 }, key });
    const head = (await client.info()).head?.height ?? -1;
    await waitFor(() => seen.at(-1)?.height === head);
    assert.deepEqual(
      seen.map((b) => b.height),
      Array.from({ length: head + 1 }, (_, i) => i),
    );
    stop.abort();
    await feed;
  } finally {
    stop.abort();
    client.close();
  }
});

test('the CLI against the real server: execute | await, and a JSON error with the server code', async () => {
  const sent = await runCli([
    '--url',
    url,
    'contract',
    'execute',
    '--contract-type',
    'Trader',
    '--payload',
    '{"d": 1}',
    '--signing-key',
    key.toWIF(),
    '--no-wait',
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  const awaited = await runCli(['--url', url, 'transaction', 'await', '--id-file', '-'], {
    stdin: sent.stdout,
  });
  assert.equal(awaited.code, 0, awaited.stderr);
  assert.equal((JSON.parse(awaited.stdout) as { status: string }).status, 'accepted');
  const badBlock = await runCli(['--url', url, 'block', 'get', '999']);
  assert.equal(badBlock.code, 1);
  assert.equal(errorOf(badBlock).code, 'not_found');
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
