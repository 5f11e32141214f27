// End-to-end: a real processor process and real mirror node processes. A node catches up a chain
// of a few thousand transactions, then follows live; it serves the same block and transaction
// views as the processor; a submission through a node is forwarded and confirmed; a node can
// follow another node; and a node killed with SIGKILL in the middle of its catch-up resumes from
// its stored head without applying any block twice. On PGlite, and on PostgreSQL when
// DATABASE_URL is set.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrivateKey } from '../src/core/keys.js';
import type { TxView } from '../src/chain/views.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedNode, StartedProcessor } from './support/processes.js';
import {
  assertSameChain,
  infoOf,
  metricOf,
  submitAll,
  traderCalls,
  traderHashOf,
  untilHead,
} from './support/node-e2e.js';
import { TcpProxy } from './support/node-proxy.js';

const CHAIN_TXS = 2000;

async function submitThrough(
  url: string,
  owner: PrivateKey,
  traderHash: string,
  chainId: string,
): Promise<TxView> {
  const [tx] = traderCalls(1, owner, traderHash, chainId);
  assert.ok(tx);
  const res = await postJson<TxView>(`${url}/api/transactions`, {
    base64tx: Buffer.from(tx.bytes).toString('base64'),
    wait: true,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

for (const backend of e2eBackends({ one: 'pglite' })) {
  test(`[${backend.name}] mirror nodes: catch-up, live, same views, forwarding, a tree, SIGKILL mid-catch-up`, async (t) => {
    const dir = await tempDir('node-e2e');
    const databases = await Promise.all([0, 1, 2, 3].map(() => backend.databaseUrl()));
    const [dbP, db1, db2, db3] = databases;
    assert.ok(dbP && db1 && db2 && db3);
    const running: (StartedProcessor | StartedNode)[] = [];
    const proxy = new TcpProxy(0);
    try {
      const p = await startProcessorProcess({
        dataDir: `${dir.path}/p`,
        databaseUrl: dbP.url,
        blockIntervalMs: 50,
      });
      running.push(p);
      const traderHash = await traderHashOf(p.url);
      const owner = PrivateKey.generate();
      const confirmed = await submitAll(
        () => p.url,
        traderCalls(CHAIN_TXS, owner, traderHash, p.chainId),
        { batch: 25, lanes: 4 },
      );
      assert.equal(confirmed.size, CHAIN_TXS);
      const chainHeight = (await infoOf(p.url)).head?.height ?? 0;
      const sample = [...confirmed].filter((_, i) => i % 100 === 0);

      const n1 = await startNodeProcess({
        follow: p.url,
        dataDir: `${dir.path}/n1`,
        databaseUrl: db1.url,
      });
      running.push(n1);
      assert.equal(n1.chainId, p.chainId);
      assert.equal(n1.processorAddress, p.processorAddress);

      await t.test(
        'catches up the chain and serves the same blocks, transactions and contracts',
        async () => {
          await untilHead(n1.url, chainHeight, 60_000, n1.stderr);
          await assertSameChain(p.url, n1.url, chainHeight, sample);
          assert.ok(
            (await metricOf(n1.url, 'hanzenet_node_transactions_verified_total')) >= CHAIN_TXS,
          );
        },
      );

      await t.test(
        'follows new blocks live, and forwards a submission that it then confirms itself',
        async () => {
          const direct = await submitThrough(p.url, owner, traderHash, p.chainId);
          assert.equal(direct.status, 'accepted');
          await untilHead(n1.url, direct.blockId ?? 0, 10_000, n1.stderr);
          const viaNode = await submitThrough(n1.url, owner, traderHash, p.chainId);
          assert.equal(viaNode.status, 'accepted');
          const atProcessor = await getJson<TxView>(`${p.url}/api/transactions/${viaNode.id}`);
          assert.equal(atProcessor.body.status, 'accepted', 'forwarded to the processor');
          assert.equal(await metricOf(n1.url, 'hanzenet_node_alarm'), 0);
          assert.equal(await metricOf(n1.url, 'hanzenet_node_upstream_connected'), 1);
        },
      );

      await t.test('a node follows another node (a tree), and forwards through it', async () => {
        const n2 = await startNodeProcess({
          follow: n1.url,
          dataDir: `${dir.path}/n2`,
          databaseUrl: db2.url,
        });
        running.push(n2);
        const height = (await infoOf(n1.url)).head?.height ?? 0;
        await untilHead(n2.url, height, 60_000, n2.stderr);
        const viaTree = await submitThrough(n2.url, owner, traderHash, p.chainId);
        assert.equal(viaTree.status, 'accepted');
        await assertSameChain(p.url, n2.url, viaTree.blockId ?? 0, [viaTree.id]);
        assert.equal(await stopProcess(n2), 0, `clean exit on SIGTERM; stderr:\n${n2.stderr()}`);
      });

      await t.test(
        'a node killed with SIGKILL mid-catch-up resumes from its stored head, applying no block twice',
        async () => {
          proxy.retarget(Number(new URL(p.url).port));
          proxy.bytesPerSecond = 200_000;
          await proxy.up();
          const n3 = await startNodeProcess({
            follow: proxy.url,
            dataDir: `${dir.path}/n3`,
            databaseUrl: db3.url,
          });
          running.push(n3);
          const target = (await infoOf(p.url)).head?.height ?? 0;
          let seen = 0;
          const deadline = Date.now() + 60_000;
          while (seen < 1) {
            assert.ok(Date.now() < deadline, 'the node applied a block within 60 s');
            seen = (await infoOf(n3.url)).head?.height ?? 0;
            if (seen < 1) await new Promise((r) => setTimeout(r, 20));
          }
          n3.proc.kill('SIGKILL');
          assert.equal(await n3.exited, 'SIGKILL');
          assert.ok(seen < target, `killed mid-catch-up (at ${seen} of ${target})`);
          await proxy.down();

          const again = await startNodeProcess({
            follow: p.url,
            dataDir: `${dir.path}/n3`,
            databaseUrl: db3.url,
          });
          running.push(again);
          const resumed = again.head?.height ?? -1;
          assert.ok(
            resumed >= seen && resumed < target,
            `resumed from its stored head ${resumed} (saw ${seen} before the kill, chain at ${target})`,
          );
          await untilHead(again.url, target, 60_000, again.stderr);
          const final = (await infoOf(again.url)).head?.height ?? 0;
          assert.equal(
            await metricOf(again.url, 'hanzenet_node_blocks_verified_total'),
            final - resumed,
            'each block after the stored head applied once, none before it',
          );
          await assertSameChain(p.url, again.url, final, sample);
          assert.doesNotMatch(
            again.stderr(),
            /"level":"(warn|error|alarm)"/,
            'no failure while resuming',
          );
          assert.equal(await stopProcess(again), 0);
        },
      );

      assert.equal(
        await stopProcess(n1, 'SIGINT'),
        0,
        `clean exit on SIGINT; stderr:\n${n1.stderr()}`,
      );
    } finally {
      await Promise.all(running.map((r) => stopProcess(r, 'SIGKILL')));
      await proxy.down();
      await Promise.all(databases.map((d) => d.drop()));
      await dir.remove();
    }
  });
}
