// GET /api/mirrors (src/api/mirrors.ts) over a MirrorWatch (src/client/mirror-health.ts) asking
// real HTTP servers that stand in for mirror nodes: a node level with the processor, one behind
// with an alarm, one of another chain, one that never answers (timeout) and a port nobody listens
// on. The route answers from memory; a mirror node, or a processor without mirror URLs, answers
// 404 not_found. The watch polls on the scheduler it is given (here the real one, 50 ms).

import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { mirrorsRoutes } from '../src/api/mirrors.js';
import { createApiServer } from '../src/api/server.js';
import type { ChainAlarm, ChainInfo } from '../src/chain/views.js';
import { MirrorWatch } from '../src/client/mirror-health.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { MemoryLedger } from './support/memory-ledger.js';
import { freePort } from './support/meter-chain.js';

const CHAIN = 'hz-mirrors-test';
const ALARM: ChainAlarm = {
  code: 'state_digest_mismatch',
  message: 'block 7: the state digest differs',
  height: 7,
  hash: 'ab'.repeat(32),
  txId: null,
  field: 'stateDigest',
  expected: '00',
  actual: '11',
} as unknown as ChainAlarm;

function info(height: number, chainId = CHAIN, alarm: ChainAlarm | null = null): ChainInfo {
  return {
    chainId,
    processorAddress: '1BoatSLRHtKNngkdXEeobR76b53LETtpyT',
    role: 'node',
    head: { height, hash: 'cd'.repeat(32), processedMs: 1_780_000_000_000 },
    chainTimeMs: 1_780_000_000_000,
    alarm,
  };
}

const servers: Server[] = [];
async function serve(answer: ChainInfo | null): Promise<string> {
  const server = createServer((req, res) => {
    if (answer === null) return; // never answers
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/api/info' ? answer : { error: { code: 'not_found' } }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

let urls: { level: string; behind: string; other: string; silent: string; closed: string };
before(async () => {
  urls = {
    level: await serve(info(12)),
    behind: await serve(info(7, CHAIN, ALARM)),
    other: await serve(info(12, 'hz-another-chain')),
    silent: await serve(null),
    closed: `http://127.0.0.1:${await freePort()}`,
  };
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('the processor reports each mirror: reachable, head, lag, alarm, and why a check failed', async () => {
  const watch = new MirrorWatch({
    urls: Object.values(urls),
    chainId: CHAIN,
    scheduler: systemScheduler,
    headHeight: async () => 12,
    pollMs: 50,
    timeoutMs: 300,
  });
  const api = await createApiServer(new MemoryLedger(), {
    reportError: () => undefined,
    routes: [mirrorsRoutes(watch, 'processor')],
  });
  try {
    const before = JSON.parse((await api.app.inject('/api/mirrors')).body);
    assert.deepEqual(
      before.mirrors.map((m: { reachable: boolean; checkedMs: unknown }) => [
        m.reachable,
        m.checkedMs,
      ]),
      Object.values(urls).map(() => [false, null]),
    );
    watch.start();
    let body: any;
    for (let i = 0; i < 100; i++) {
      body = JSON.parse((await api.app.inject('/api/mirrors')).body);
      if (body.mirrors.every((m: { checkedMs: number | null }) => m.checkedMs !== null)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(body.headHeight, 12);
    assert.equal(body.pollMs, 50);
    const [level, behind, other, silent, closed] = body.mirrors;
    assert.deepEqual(
      { ...level, checkedMs: 0, checkedAt: '' },
      {
        url: urls.level,
        reachable: true,
        headHeight: 12,
        lagBlocks: 0,
        alarm: null,
        error: null,
        checkedMs: 0,
        checkedAt: '',
      },
    );
    assert.equal(new Date(level.checkedAt).getTime(), level.checkedMs);
    assert.equal(behind.lagBlocks, 5);
    assert.deepEqual(behind.alarm, ALARM);
    assert.equal(other.reachable, true);
    assert.equal(other.error.code, 'mirror_wrong_chain');
    assert.equal(silent.reachable, false);
    assert.equal(silent.error.code, 'unreachable');
    assert.match(silent.error.message, /no answer from .* within 300 ms/);
    assert.equal(closed.reachable, false);
    assert.equal(closed.error.code, 'unreachable');
    assert.match(closed.error.message, /ECONNREFUSED/);
  } finally {
    await watch.stop();
    await api.close();
  }
});

test('a mirror node, or a processor without mirror URLs, answers 404 not_found', async () => {
  for (const role of ['node', 'processor'] as const) {
    const api = await createApiServer(new MemoryLedger(), {
      reportError: () => undefined,
      routes: [mirrorsRoutes(null, role)],
    });
    try {
      const res = await api.app.inject('/api/mirrors');
      assert.equal(res.statusCode, 404);
      const error = JSON.parse(res.body).error;
      assert.equal(error.code, 'not_found');
      assert.equal(error.details.role, role);
    } finally {
      await api.close();
    }
  }
});

test("without the processor's own head (its database away) a round still checks the nodes", async () => {
  let calls = 0;
  const watch = new MirrorWatch({
    urls: [urls.level],
    chainId: CHAIN,
    scheduler: systemScheduler,
    headHeight: async () => {
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
      return 12;
    },
    timeoutMs: 1000,
  });
  try {
    await watch.checkAll();
    const view = await watch.view();
    assert.equal(view.headHeight, 12);
    assert.equal(view.mirrors[0]?.reachable, true);
    assert.equal(view.mirrors[0]?.headHeight, 12);
    assert.equal(view.mirrors[0]?.lagBlocks, null, 'unknown: the round had no head of its own');
  } finally {
    await watch.stop();
  }
});
