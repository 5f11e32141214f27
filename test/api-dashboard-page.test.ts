// The dashboard's bundle served by the API server (src/api/dashboard.ts): the page at `/` with a
// strict Content-Security-Policy and no caching, hashed assets cached for a year, ETags, nothing
// outside the bundle, a coded 404 when the bundle was not built, no page when it is turned off;
// and the alarm a mirror node pushes on the block feed (the page shows it at once).

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { DASHBOARD_CSP } from '../src/api/dashboard.js';
import { createApiServer } from '../src/api/server.js';
import type { ChainAlarm } from '../src/chain/views.js';
import { MemoryLedger } from './support/memory-ledger.js';
import { tempDir } from './support/processes.js';

const INDEX =
  '<!doctype html><title>t</title><script type="module" src="./assets/app-Ab12.js"></script>';
const SCRIPT = 'console.log("dashboard");';

async function bundle(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await tempDir('bundle');
  await mkdir(join(dir.path, 'assets'));
  await writeFile(join(dir.path, 'index.html'), INDEX);
  await writeFile(join(dir.path, 'assets', 'app-Ab12.js'), SCRIPT);
  return dir;
}

test('the page and its assets: headers, caching, ETags, nothing outside the bundle', async () => {
  const dir = await bundle();
  const api = await createApiServer(new MemoryLedger(), { dashboardDir: dir.path });
  try {
    const page = await api.app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.body, INDEX);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.equal(page.headers['content-security-policy'], DASHBOARD_CSP);
    assert.match(DASHBOARD_CSP, /default-src 'none'/);
    assert.doesNotMatch(DASHBOARD_CSP, /https?:|unsafe/, 'no remote origin, nothing unsafe');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal((await api.app.inject({ method: 'GET', url: '/index.html' })).body, INDEX);

    const script = await api.app.inject({ method: 'GET', url: '/assets/app-Ab12.js' });
    assert.equal(script.statusCode, 200);
    assert.equal(script.body, SCRIPT);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    const etag = script.headers['etag'];
    assert.ok(typeof etag === 'string' && etag.startsWith('"'));
    const again = await api.app.inject({
      method: 'GET',
      url: '/assets/app-Ab12.js',
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');

    for (const url of ['/assets/missing.js', '/assets/../../etc/passwd', '/%2e%2e/package.json']) {
      const res = await api.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'not_found', url);
    }
    const post = await api.app.inject({ method: 'POST', url: '/', payload: '{}' });
    assert.equal(post.statusCode, 404, 'read-only: no POST');
    // The API is where it was.
    assert.equal((await api.app.inject({ method: 'GET', url: '/api/info' })).statusCode, 200);
  } finally {
    await api.close();
    await dir.remove();
  }
});

test('a bundle that was not built: / answers not_found naming the directory', async () => {
  const dir = await tempDir('no-bundle');
  const api = await createApiServer(new MemoryLedger(), { dashboardDir: dir.path });
  try {
    const res = await api.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'not_found');
    assert.match(res.json().error.message, /dashboard is not built/);
    assert.ok(res.json().error.message.includes(dir.path));
  } finally {
    await api.close();
    await dir.remove();
  }
});

test('without a dashboard directory there is no page', async () => {
  const api = await createApiServer(new MemoryLedger());
  try {
    const res = await api.app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'not_found');
  } finally {
    await api.close();
  }
});

test("a mirror node's alarm is pushed to block subscribers", async () => {
  const ledger = new MemoryLedger();
  const listeners = new Set<(alarm: ChainAlarm) => void>();
  const service = Object.assign(ledger, {
    onAlarm(fn: (alarm: ChainAlarm) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  });
  const api = await createApiServer(service);
  const url = await api.listen(0);
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
  try {
    const inbox: Record<string, unknown>[] = [];
    let wake = (): void => {};
    ws.on('message', (d) => {
      inbox.push(JSON.parse(String(d)));
      wake();
    });
    const next = async (): Promise<Record<string, unknown>> => {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      return inbox.shift() as Record<string, unknown>;
    };
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', blocks: true, id: 1 }));
    assert.equal((await next())['type'], 'subscribed');
    assert.equal(listeners.size, 1);
    const alarm = {
      code: 'state_digest_mismatch',
      message: 'block 3: the digests differ',
      height: 3,
      blockHash: null,
      txId: null,
      field: 'stateDigest',
      expected: 'ab',
      got: 'cd',
      upstream: 'http://127.0.0.1:1',
      raisedMs: 1,
    } as ChainAlarm;
    for (const fn of listeners) fn(alarm);
    assert.deepEqual(await next(), { type: 'alarm', alarm });
  } finally {
    ws.close();
    await api.close();
  }
  assert.equal(listeners.size, 0, 'the server let go of the listener when it closed');
});
