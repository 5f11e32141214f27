// The done-criterion: 10,000 signed transactions submitted through the API complete with
// every one accepted and counted. (Throughput is measured by `npm run bench`, not here.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrivateKey } from '../src/core/keys.js';
import { traderRegistration } from './support/trader-tx.js';
import type { ContractView, TxView } from '../src/chain/views.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

const TOTAL = 10_000;
const BATCH = 500;

for (const backend of e2eBackends()) {
  test(`[${backend.name}] 10,000 signed transactions through the API are all accepted and counted`, async () => {
    const dir = await tempDir('load');
    const db = await backend.databaseUrl();
    const p = await startProcessorProcess({
      dataDir: dir.path,
      databaseUrl: db.url,
      blockIntervalMs: 250,
    });
    try {
      const trader = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body.find(
        (c) => c.type === 'Trader',
      );
      assert.ok(trader);
      const owner = PrivateKey.generate();
      const txs = Array.from({ length: TOTAL }, () =>
        traderRegistration(owner, trader.hash, p.chainId),
      );
      const statuses = new Map<string, string>();
      const batches = Array.from({ length: TOTAL / BATCH }, (_, i) =>
        txs.slice(i * BATCH, (i + 1) * BATCH),
      );
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          for (let b = lane; b < batches.length; b += 4) {
            const res = await postJson<{ results: TxView[] }>(`${p.url}/api/transactions/batch`, {
              transactions: (batches[b] ?? []).map((t) => Buffer.from(t.bytes).toString('base64')),
              wait: true,
            });
            assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
            for (const r of res.body.results) statuses.set(r.id, r.status);
          }
        }),
      );
      assert.equal(statuses.size, TOTAL);
      const notAccepted = [...statuses.entries()].filter(([, s]) => s !== 'accepted');
      assert.deepEqual(notAccepted.slice(0, 5), [], `${notAccepted.length} not accepted`);
      let counted = 0;
      for (let from = 0; ; from += 1000) {
        const { body } = await getJson<
          { txCount: number; transactions: { id: string; status: string }[] }[]
        >(`${p.url}/api/blocks?from=${from}&limit=1000`);
        if (body.length === 0) break;
        for (const block of body)
          for (const t of block.transactions)
            if (statuses.has(t.id) && t.status === 'accepted') counted++;
      }
      assert.equal(counted, TOTAL, 'every transaction is in exactly one block');
    } finally {
      await stopProcess(p);
      await db.drop();
      await dir.remove();
    }
  });
}
