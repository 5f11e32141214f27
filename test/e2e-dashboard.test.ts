// End-to-end: the dashboard's server side on real processes. A processor started with --mirrors
// (one mirror node, and a port nobody listens on) and a mirror node following it: the owner
// places households with `hanzenet energy place`, `hanzenet energy places` lists them, the node
// answers the places, flows and orders reads as the processor does, the processor's
// GET /api/mirrors shows the node level with it and the dead URL unreachable, and the node
// answers /api/mirrors with 404. On the embedded database, and on a PostgreSQL server too when
// DATABASE_URL is set.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivateKey } from '../src/core/keys.js';
import { runCli } from './support/cli-run.js';
import { contextSender } from './support/context-sender.js';
import { freePort } from './support/meter-chain.js';
import {
  e2eBackends,
  getJson,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

const QUARTER_MS = 900_000;

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 150; i++) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: still ${JSON.stringify(last)}`);
}

for (const backend of e2eBackends()) {
  test(`places via the CLI, the reads on a mirror node, and GET /api/mirrors (${backend.name})`, {
    timeout: 240_000,
  }, async () => {
    const dir = await tempDir('dashboard');
    const pdb = await backend.databaseUrl();
    const ndb = await backend.databaseUrl();
    const nodePort = await freePort();
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const nodeUrl = `http://127.0.0.1:${nodePort}`;
    const p = await startProcessorProcess({
      dataDir: `${dir.path}/processor`,
      databaseUrl: pdb.url,
      extraArgs: ['--mirrors', `${nodeUrl},${deadUrl}`],
    });
    let n: Awaited<ReturnType<typeof startNodeProcess>> | null = null;
    try {
      const owner = PrivateKey.generate();
      const [anna, bert] = [PrivateKey.generate(), PrivateKey.generate()] as [
        PrivateKey,
        PrivateKey,
      ];
      const ctx = owner.address;
      const send = await contextSender(p, ctx);
      for (const t of [anna, bert])
        await send(owner, 'Trader', { address: t.address, allowed: true });
      await send(owner, 'Market', { on: true, gateClosureSeconds: 0 });

      const place = await runCli([
        '--url',
        p.url,
        'energy',
        'place',
        '--context',
        ctx,
        '--member',
        anna.address,
        '--x',
        '1200',
        '--y',
        '3400',
        '--label',
        'No. 12',
        '--signing-key',
        owner.toWIF(),
      ]);
      assert.equal(place.code, 0, place.stderr);
      assert.match(JSON.parse(place.stdout).transactionId, /^[0-9a-f]{32}$/);
      const refused = await runCli([
        '--url',
        p.url,
        'energy',
        'place',
        '--context',
        ctx,
        '--member',
        bert.address,
        '--x',
        '5',
        '--y',
        '5',
        '--signing-key',
        anna.toWIF(),
      ]);
      assert.equal(refused.code, 1);
      assert.equal(JSON.parse(refused.stderr).error.code, 'not_context_owner');
      const usage = await runCli([
        '--url',
        p.url,
        'energy',
        'place',
        '--context',
        ctx,
        '--member',
        bert.address,
        '--x',
        '10001',
        '--y',
        '5',
        '--signing-key',
        owner.toWIF(),
      ]);
      assert.equal(usage.code, 2, 'a coordinate out of range is a usage error, nothing is sent');
      const listed = await runCli(['--url', p.url, 'energy', 'places', '--context', ctx]);
      assert.equal(listed.code, 0, listed.stderr);
      const places = JSON.parse(listed.stdout);
      assert.deepEqual(
        places.places.map((x: { member: string; x: number; y: number; label: string | null }) => [
          x.member,
          x.x,
          x.y,
          x.label,
        ]),
        [[anna.address, 1200, 3400, 'No. 12']],
      );

      n = await startNodeProcess({
        follow: p.url,
        dataDir: `${dir.path}/node`,
        databaseUrl: ndb.url,
        extraArgs: ['--port', String(nodePort)],
      });
      const processorHead = (await getJson<{ head: { height: number } }>(`${p.url}/api/info`)).body
        .head.height;
      const mirrors = await until(
        'the node level with the processor in /api/mirrors',
        async () => (await getJson<any>(`${p.url}/api/mirrors`)).body,
        (b) => b.mirrors?.[0]?.reachable === true && b.mirrors[0].headHeight >= processorHead,
      );
      assert.equal(mirrors.mirrors.length, 2);
      assert.deepEqual(
        { ...mirrors.mirrors[0], checkedMs: 0, checkedAt: '', headHeight: 0, lagBlocks: 0 },
        {
          url: nodeUrl,
          reachable: true,
          headHeight: 0,
          lagBlocks: 0,
          alarm: null,
          error: null,
          checkedMs: 0,
          checkedAt: '',
        },
      );
      assert.ok(mirrors.mirrors[0].lagBlocks <= 1, JSON.stringify(mirrors.mirrors[0]));
      assert.equal(mirrors.mirrors[1].url, deadUrl);
      assert.equal(mirrors.mirrors[1].reachable, false);
      assert.equal(mirrors.mirrors[1].error.code, 'unreachable');
      const nodeApi = n.url;
      const onNode = await getJson<any>(`${nodeApi}/api/mirrors`);
      assert.equal(onNode.status, 404);
      assert.equal(onNode.body.error.code, 'not_found');

      // The node reads its own database and answers as the processor does.
      const period = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS;
      for (const path of [
        `/api/energy/contexts/${ctx}/places`,
        `/api/energy/contexts/${ctx}/market/flows?from=0`,
        `/api/energy/contexts/${ctx}/market/orders?period=${period}`,
      ]) {
        const fromProcessor = await getJson<unknown>(`${p.url}${path}`);
        assert.equal(fromProcessor.status, 200, path);
        const fromNode: { status: number; body: unknown } = await getJson<unknown>(
          `${nodeApi}${path}`,
        );
        assert.deepEqual(fromNode, fromProcessor, path);
      }
    } finally {
      if (n !== null) await stopProcess(n as never);
      await stopProcess(p);
      await pdb.drop();
      await ndb.drop();
      await dir.remove();
    }
  });
}
