// Fault injection against real mirror node processes. (1) A real processor is restarted under load,
// once with SIGTERM and once with SIGKILL, and the connection between node and processor is cut
// (a TCP proxy in between): the node survives it all and ends with exactly the processor's chain.
// (2) Node processes follow a fake upstream that serves the real processor's chain with one block
// tampered: an altered transaction, a block signed by another key, a wrong state digest, a skipped
// block, reordered blocks. Each raises the alarm naming the block; with --exit-on-alarm the node
// exits with status 3 at once, without it the node keeps serving what it verified (alarm in
// /api/info and /metrics) and exits with status 3 on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBlock } from '../src/chain/block-decode.js';
import { buildBlock } from '../src/chain/block-encode.js';
import { PrivateKey } from '../src/core/keys.js';
import { decodeTx } from '../src/chain/tx.js';
import type { ChainInfo } from '../src/chain/views.js';
import { parseKeyText } from '../src/store/key-file.js';
import {
  e2eBackends,
  getJson,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedNode, StartedProcessor } from './support/processes.js';
import { fieldsOf } from './support/node-chain.js';
import {
  assertSameChain,
  infoOf,
  metricOf,
  SteadyLoad,
  traderHashOf,
  untilHead,
} from './support/node-e2e.js';
import { FakeUpstream } from './support/node-fake-upstream.js';
import { TcpProxy } from './support/node-proxy.js';

const portOf = (url: string): number => Number(new URL(url).port);
/** The tampered-block cases check nothing the database decides: they run on one backend only. */
const TAMPER_BACKEND = e2eBackends().some((b) => b.name === 'postgres') ? 'postgres' : 'pglite';

async function rawChain(url: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (;;) {
    const { body } = await getJson<{ blocks: string[] }>(
      `${url}/api/blocks/raw?from=${out.length}&limit=1000`,
    );
    if (body.blocks.length === 0) return out;
    out.push(...body.blocks.map((b) => new Uint8Array(Buffer.from(b, 'base64'))));
  }
}

interface AlarmLine {
  level: string;
  alarm: { code: string; height: number; txId: string | null; field: string };
}

function alarmLineOf(stderr: string): AlarmLine['alarm'] | null {
  const line = stderr.split('\n').find((l) => l.includes('"level":"alarm"'));
  return line === undefined ? null : (JSON.parse(line) as AlarmLine).alarm;
}

for (const backend of e2eBackends()) {
  test(`[${backend.name}] mirror node fault injection: processor restarts, dropped connections, tampered blocks`, async (t) => {
    const dir = await tempDir('node-faults');
    const databases: { url: string | undefined; drop(): Promise<void> }[] = [];
    const newDatabase = async (): Promise<string | undefined> => {
      const d = await backend.databaseUrl();
      databases.push(d);
      return d.url;
    };
    const running: (StartedProcessor | StartedNode)[] = [];
    const proxy = new TcpProxy(0);
    const fakes: FakeUpstream[] = [];
    const pDir = join(dir.path, 'p');
    const pDb = await newDatabase();
    try {
      let p = await startProcessorProcess({ dataDir: pDir, databaseUrl: pDb, blockIntervalMs: 50 });
      running.push(p);
      proxy.retarget(portOf(p.url));
      await proxy.up();
      const node = await startNodeProcess({
        follow: proxy.url,
        dataDir: join(dir.path, 'n'),
        databaseUrl: await newDatabase(),
      });
      running.push(node);
      const traderHash = await traderHashOf(p.url);
      const owner = PrivateKey.generate();

      await t.test(
        'survives dropped connections and processor restarts (SIGTERM, SIGKILL) under load',
        async () => {
          const load = new SteadyLoad(() => p.url, owner, traderHash, p.chainId);
          const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
          const untilMoreConfirmed = async (n: number): Promise<void> => {
            const want = load.confirmed.size + n;
            const deadline = Date.now() + 30_000;
            while (load.confirmed.size < want) {
              assert.ok(
                Date.now() < deadline,
                `the processor confirmed ${n} more transactions within 30 s`,
              );
              await pause(20);
            }
          };
          // Each cut must be noticed before the next: cuts made while the node waits to reconnect
          // would count once.
          const untilReconnects = async (n: number): Promise<void> => {
            const deadline = Date.now() + 30_000;
            while ((await metricOf(node.url, 'hanzenet_node_reconnects_total')) < n) {
              assert.ok(
                Date.now() < deadline,
                `the node reconnected ${n} times within 30 s; stderr:\n${node.stderr().slice(-4000)}`,
              );
              await pause(50);
            }
          };
          await untilMoreConfirmed(100);
          proxy.drop();
          await untilMoreConfirmed(100);
          await untilReconnects(1);
          proxy.drop();
          await untilMoreConfirmed(100);
          await untilReconnects(2);
          for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
            const exit = await stopProcess(p, signal);
            assert.equal(exit, signal === 'SIGTERM' ? 0 : 'SIGKILL');
            proxy.drop();
            p = await startProcessorProcess({
              dataDir: pDir,
              databaseUrl: pDb,
              blockIntervalMs: 50,
            });
            running.push(p);
            proxy.retarget(portOf(p.url));
            await untilMoreConfirmed(100);
          }
          const confirmed = await load.stop();
          assert.ok(load.failures > 0, 'the load noticed the restarts');
          const height = (await infoOf(p.url)).head?.height ?? 0;
          await untilHead(node.url, height, 60_000, node.stderr);
          await assertSameChain(
            p.url,
            node.url,
            height,
            [...confirmed].filter((_, i) => i % 50 === 0),
          );
          assert.ok(
            (await metricOf(node.url, 'hanzenet_node_reconnects_total')) >= 2,
            `the node reconnected after the cuts; stderr:\n${node.stderr().slice(-4000)}`,
          );
          assert.equal(await metricOf(node.url, 'hanzenet_node_alarm'), 0);
          assert.equal(node.proc.exitCode, null, 'the node kept running');
        },
      );

      const skip = backend.name === TAMPER_BACKEND ? false : `runs on ${TAMPER_BACKEND} only`;
      await t.test('tampered blocks raise the alarm and stop the node', { skip }, async () => {
        const raws = await rawChain(p.url);
        const info: ChainInfo = await infoOf(p.url);
        const key = parseKeyText(
          (await readFile(join(pDir, 'processor.key'), 'utf8')).trim(),
          'processor.key',
        );
        assert.equal(key.address, info.processorAddress);
        // An early block with Trader calls: the nodes have little to verify before it.
        const target = raws.findIndex(
          (r, h) =>
            h > 1 &&
            decodeBlock(r, info.chainId).txs.some((tx) => tx.contractHashHex === traderHash),
        );
        assert.ok(
          target > 1 && target + 1 < raws.length,
          `a block with Trader calls early in the chain (${target} of ${raws.length})`,
        );
        const original = decodeBlock(raws[target] ?? new Uint8Array(0), info.chainId);
        const firstTx = original.txs.find((tx) => tx.contractHashHex === traderHash);
        assert.ok(firstTx);
        const alteredBytes = new Uint8Array(firstTx.bytes);
        const at = 61 + Buffer.from(firstTx.payloadText).indexOf('"address":"') + 12;
        alteredBytes[at] = alteredBytes[at] === 0x32 ? 0x33 : 0x32;
        const resign = (
          change: (f: ReturnType<typeof fieldsOf>) => ReturnType<typeof fieldsOf>,
          by: PrivateKey = key,
        ): Uint8Array => buildBlock(change(fieldsOf(original)), by, info.chainId).bytes;
        const replaced = (raw: Uint8Array): Uint8Array[] =>
          raws.map((r, h) => (h === target ? raw : r));
        const cases = [
          {
            name: 'altered transaction',
            served: replaced(
              resign((f) => ({
                ...f,
                txs: f.txs.map((tx) => (tx === firstTx ? decodeTx(alteredBytes) : tx)),
              })),
            ),
            code: 'signature_invalid',
            txId: firstTx.idHex,
          },
          {
            name: 'another key',
            served: replaced(resign((f) => f, PrivateKey.generate())),
            code: 'block_signature_invalid',
            txId: null,
          },
          {
            name: 'wrong state digest',
            served: replaced(resign((f) => ({ ...f, stateDigestHex: 'cd'.repeat(32) }))),
            code: 'state_digest_mismatch',
            txId: null,
          },
          {
            name: 'skipped block',
            served: raws.filter((_, h) => h !== target),
            code: 'block_out_of_order',
            txId: null,
          },
        ];
        const serve = async (served: Uint8Array[]): Promise<FakeUpstream> => {
          const fake = new FakeUpstream({
            chainId: info.chainId,
            processorAddress: info.processorAddress,
          });
          fakes.push(fake);
          fake.blocks = served;
          await fake.start();
          return fake;
        };
        await Promise.all(
          cases.map(async (c, i) => {
            const fake = await serve(c.served);
            const n = await startNodeProcess({
              follow: fake.url,
              dataDir: join(dir.path, `t${i}`),
              databaseUrl: await newDatabase(),
              extraArgs: ['--exit-on-alarm'],
            });
            running.push(n);
            assert.equal(
              await n.exited,
              3,
              `${c.name}: exit status 3; stderr:\n${n.stderr().slice(-2000)}`,
            );
            const alarm = alarmLineOf(n.stderr());
            assert.ok(alarm, `${c.name}: an alarm line on stderr`);
            assert.equal(alarm.code, c.code, c.name);
            assert.equal(alarm.height, target, c.name);
            assert.equal(alarm.txId, c.txId, c.name);
          }),
        );

        // Without --exit-on-alarm the node keeps serving what it verified.
        const reordered = raws.map(
          (r, h) => (h === target ? raws[target + 1] : h === target + 1 ? raws[target] : r) ?? r,
        );
        const fake = await serve(reordered);
        const n = await startNodeProcess({
          follow: fake.url,
          dataDir: join(dir.path, 'serving'),
          databaseUrl: await newDatabase(),
        });
        running.push(n);
        const deadline = Date.now() + 30_000;
        let nodeInfo = await infoOf(n.url);
        while (nodeInfo.alarm === null) {
          assert.ok(
            Date.now() < deadline,
            `an alarm within 30 s; stderr:\n${n.stderr().slice(-2000)}`,
          );
          await new Promise((r) => setTimeout(r, 50));
          nodeInfo = await infoOf(n.url);
        }
        assert.equal(nodeInfo.alarm?.code, 'block_out_of_order');
        assert.equal(nodeInfo.alarm?.height, target);
        assert.equal(nodeInfo.head?.height, target - 1, 'it keeps every block before the bad one');
        assert.equal(await metricOf(n.url, 'hanzenet_node_alarm'), 1);
        assert.equal(await metricOf(n.url, 'hanzenet_node_alarm_height'), target);
        const served = await getJson<{ hash: string }>(`${n.url}/api/blocks/${target - 1}`);
        assert.equal(
          served.body.hash,
          decodeBlock(raws[target - 1] ?? new Uint8Array(0), info.chainId).hashHex,
        );
        assert.equal(await stopProcess(n), 3, 'exit status 3 after an alarm');
      });

      assert.equal(
        await stopProcess(node),
        0,
        `clean exit; stderr:\n${node.stderr().slice(-2000)}`,
      );
    } finally {
      await Promise.all(running.map((r) => stopProcess(r, 'SIGKILL')));
      await proxy.down();
      await Promise.all(fakes.map((f) => f.close()));
      await Promise.all(databases.map((d) => d.drop()));
      await dir.remove();
    }
  });
}
