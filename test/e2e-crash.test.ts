// kill -9 of a real processor in the middle of a load loses no transaction it confirmed, and the
// restarted processor resumes from its last block with an intact, correctly signed chain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../src/chain/block-decode.js';
import { verifyBlockSignature } from '../src/chain/block-hash.js';
import { fromHex } from '../src/core/bytes.js';
import { PrivateKey } from '../src/core/keys.js';
import { traderRegistration } from './support/trader-tx.js';
import type { Tx } from '../src/chain/types.js';
import type { ChainInfo, ContractView, TxView } from '../src/chain/views.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

interface BatchResult {
  results: (TxView | { id: string | null; error: { code: string } })[];
}

function traderTxs(count: number, owner: PrivateKey, contractHash: string, chainId: string): Tx[] {
  return Array.from({ length: count }, () => traderRegistration(owner, contractHash, chainId));
}

async function verifyWholeChain(
  url: string,
  chainId: string,
  processorPublicKey: Uint8Array,
): Promise<number> {
  let height = 0;
  let previousHash = '00'.repeat(32);
  let txCount = 0;
  for (;;) {
    const { body } = await getJson<{ blocks: string[] }>(
      `${url}/api/blocks/raw?from=${height}&limit=200`,
    );
    if (body.blocks.length === 0) return txCount;
    for (const raw of body.blocks) {
      const block = decodeBlock(Buffer.from(raw, 'base64'), chainId);
      assert.equal(block.height, height);
      assert.equal(
        block.previousHashHex,
        previousHash,
        `block ${height} links to the block before it`,
      );
      assert.ok(
        verifyBlockSignature(block, processorPublicKey),
        `block ${height} is signed by the processor`,
      );
      previousHash = block.hashHex;
      txCount += block.txs.length;
      height++;
    }
  }
}

for (const backend of e2eBackends()) {
  test(`[${backend.name}] kill -9 mid-load loses no confirmed transaction`, async () => {
    const dir = await tempDir('crash');
    const db = await backend.databaseUrl();
    try {
      const p1 = await startProcessorProcess({
        dataDir: dir.path,
        databaseUrl: db.url,
        blockIntervalMs: 50,
      });
      const contracts = (await getJson<ContractView[]>(`${p1.url}/api/contracts`)).body;
      const trader = contracts.find((c) => c.type === 'Trader');
      assert.ok(trader);
      const owner = PrivateKey.generate();
      const txs = traderTxs(4000, owner, trader.hash, p1.chainId);
      const confirmed = new Set<string>();
      let killed = false;
      const batches: Tx[][] = [];
      for (let i = 0; i < txs.length; i += 50) batches.push(txs.slice(i, i + 50));
      const senders = [0, 1, 2, 3].map(async (lane) => {
        for (let b = lane; b < batches.length && !killed; b += 4) {
          try {
            const res = await postJson<BatchResult>(`${p1.url}/api/transactions/batch`, {
              transactions: (batches[b] ?? []).map((t) => Buffer.from(t.bytes).toString('base64')),
              wait: true,
            });
            for (const r of res.body.results ?? [])
              if ('status' in r && r.status === 'accepted') confirmed.add(r.id);
          } catch {
            return; // the connection died with the process
          }
        }
      });
      const deadline = Date.now() + 60_000;
      while (confirmed.size < 300) {
        assert.ok(
          Date.now() < deadline,
          `only ${confirmed.size} confirmations within 60 s; stderr:\n${p1.stderr()}`,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      killed = true;
      p1.proc.kill('SIGKILL');
      assert.equal(await p1.exited, 'SIGKILL');
      await Promise.all(senders);
      const confirmedAtKill = new Set(confirmed);

      const p2 = await startProcessorProcess({
        dataDir: dir.path,
        databaseUrl: db.url,
        blockIntervalMs: 50,
      });
      try {
        for (const id of confirmedAtKill) {
          const { body } = await getJson<TxView>(`${p2.url}/api/transactions/${id}`);
          assert.equal(body.status, 'accepted', `confirmed transaction ${id} survived the crash`);
        }
        const info = (await getJson<ChainInfo>(`${p2.url}/api/info`)).body;
        const inChain = await verifyWholeChain(
          p2.url,
          info.chainId,
          fromHex(await processorKeyHex(p2.url)),
        );
        assert.ok(
          inChain >= confirmedAtKill.size,
          `${inChain} transactions in the chain, ${confirmedAtKill.size} confirmed`,
        );
        const next = traderTxs(1, owner, trader.hash, info.chainId)[0];
        assert.ok(next);
        const res = await postJson<TxView>(`${p2.url}/api/transactions`, {
          base64tx: Buffer.from(next.bytes).toString('base64'),
          wait: true,
        });
        assert.equal(
          res.body.status,
          'accepted',
          'the restarted processor resumes producing blocks',
        );
        assert.ok((res.body.blockId ?? 0) > (info.head?.height ?? 0));
      } finally {
        await stopProcess(p2);
      }
    } finally {
      await db.drop();
      await dir.remove();
    }
  });
}

async function processorKeyHex(url: string): Promise<string> {
  const { body } = await getJson<{ genesis: { processorPublicKey: string } | null }>(
    `${url}/api/blocks/0`,
  );
  assert.ok(body.genesis, 'block 0 carries the genesis');
  return body.genesis.processorPublicKey;
}
