// End-to-end: a real processor process, driven over HTTP as a client would, on the embedded
// database and (when DATABASE_URL is set) on the PostgreSQL server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PrivateKey } from '../src/core/keys.js';
import { signTx } from '../src/chain/tx.js';
import { traderRegistration } from './support/trader-tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { ChainInfo, ContractView, TxView } from '../src/chain/views.js';
import {
  e2eBackends,
  getJson,
  postJson,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';

interface ErrorBody {
  error: { code: string; message: string };
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

async function traderContract(url: string): Promise<ContractView> {
  const { body } = await getJson<ContractView[]>(`${url}/api/contracts`);
  const trader = body.find((c) => c.type === 'Trader');
  assert.ok(trader, `Trader contract installed, got ${body.map((c) => c.type).join(', ')}`);
  return trader;
}

for (const backend of e2eBackends()) {
  test(`[${backend.name}] first start creates the chain and key file; a restart keeps both`, async () => {
    const dir = await tempDir('first');
    const db = await backend.databaseUrl();
    try {
      const p1 = await startProcessorProcess({
        dataDir: dir.path,
        databaseUrl: db.url,
        chainId: 'hz-e2e-test',
      });
      const keyInfo = await stat(join(dir.path, 'processor.key'));
      assert.equal(keyInfo.mode & 0o777, 0o600);
      const info1 = (await getJson<ChainInfo>(`${p1.url}/api/info`)).body;
      assert.equal(info1.chainId, 'hz-e2e-test');
      assert.equal(info1.processorAddress, p1.processorAddress);
      assert.equal(info1.role, 'processor');
      const contracts = (await getJson<ContractView[]>(`${p1.url}/api/contracts`)).body
        .map((c) => c.type)
        .sort();
      assert.deepEqual(
        contracts.filter((t) =>
          ['Consumer', 'Energy', 'Mutate', 'Producer', 'Reduce', 'Trader', 'Transfer'].includes(t),
        ),
        ['Consumer', 'Energy', 'Mutate', 'Producer', 'Reduce', 'Trader', 'Transfer'],
      );
      const owner = PrivateKey.generate();
      const trader = await traderContract(p1.url);
      const tx = traderRegistration(owner, trader.hash, info1.chainId);
      const res = await postJson<TxView>(`${p1.url}/api/transactions`, {
        base64tx: b64(tx.bytes),
        wait: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'accepted');
      const metrics = await (await fetch(`${p1.url}/metrics`)).text();
      for (const line of [
        /^hanzenet_transactions_total\{status="accepted",contract_type="Trader"\} 1$/m,
        /^hanzenet_admission_queue_length 0$/m,
        /^hanzenet_head_height \d+$/m,
        /^hanzenet_block_commit_seconds_count [1-9]\d*$/m,
        /^hanzenet_block_execute_seconds_count [1-9]\d*$/m,
        /^process_cpu_user_seconds_total /m,
        /^nodejs_eventloop_lag_seconds /m,
      ])
        assert.match(metrics, line);
      assert.equal(
        await stopProcess(p1, 'SIGTERM'),
        0,
        `clean exit on SIGTERM; stderr:\n${p1.stderr()}`,
      );

      const p2 = await startProcessorProcess({
        dataDir: dir.path,
        databaseUrl: db.url,
        chainId: 'ignored-for-existing-chain',
      });
      try {
        const info2 = (await getJson<ChainInfo>(`${p2.url}/api/info`)).body;
        assert.equal(info2.chainId, 'hz-e2e-test');
        assert.equal(info2.processorAddress, info1.processorAddress);
        assert.ok((info2.head?.height ?? 0) >= (info1.head?.height ?? 0) + 1);
        const again = await getJson<TxView>(`${p2.url}/api/transactions/${tx.idHex}`);
        assert.equal(again.body.status, 'accepted');
        const replay = await postJson<ErrorBody>(`${p2.url}/api/transactions`, {
          base64tx: b64(tx.bytes),
        });
        assert.equal(replay.body.error.code, 'tx_duplicate_id');
      } finally {
        await stopProcess(p2);
      }
    } finally {
      await db.drop();
      await dir.remove();
    }
  });

  test(`[${backend.name}] bad input gets an exact error code and changes nothing`, async () => {
    const dir = await tempDir('bad');
    const db = await backend.databaseUrl();
    const p = await startProcessorProcess({ dataDir: dir.path, databaseUrl: db.url });
    try {
      const owner = PrivateKey.generate();
      const trader = await traderContract(p.url);
      const payloadText = JSON.stringify({
        context: owner.address,
        address: PrivateKey.generate().address,
        allowed: true,
      });
      const headBefore = (await getJson<ChainInfo>(`${p.url}/api/info`)).body.head;
      const cases: [string, unknown, string][] = [];
      cases.push(['not base64', { base64tx: '!!!' }, 'bad_base64']);
      cases.push(['missing field', { tx: 'x' }, 'bad_request']);
      cases.push(['truncated bytes', { base64tx: b64(new Uint8Array(40)) }, 'tx_malformed']);
      const good = signTx(
        { contractHashHex: trader.hash, validTillMs: 0, payloadText },
        owner,
        p.chainId,
      );
      const tampered = Uint8Array.from(good.bytes);
      const sigByte = tampered.length - 50; // inside the signature (the last 97 bytes are signature + key)
      tampered[sigByte] = (tampered[sigByte] ?? 0) ^ 1;
      cases.push(['tampered signature', { base64tx: b64(tampered) }, 'signature_invalid']);
      const otherChain = signTx(
        { contractHashHex: trader.hash, validTillMs: 0, payloadText },
        owner,
        'some-other-chain',
      );
      cases.push(['wrong chain id', { base64tx: b64(otherChain.bytes) }, 'signature_invalid']);
      const expired = signTx(
        { contractHashHex: trader.hash, validTillMs: Date.now() - 60_000, payloadText },
        owner,
        p.chainId,
      );
      cases.push(['expired valid-till', { base64tx: b64(expired.bytes) }, 'tx_expired']);
      const unknown = signTx(
        { contractHashHex: 'ab'.repeat(32), validTillMs: 0, payloadText },
        owner,
        p.chainId,
      );
      cases.push(['unknown contract', { base64tx: b64(unknown.bytes) }, 'contract_unknown']);
      const wrongTemplate = signTx(
        {
          contractHashHex: trader.hash,
          validTillMs: 0,
          payloadText: JSON.stringify({ context: owner.address, allowed: 'yes' }),
        },
        owner,
        p.chainId,
      );
      cases.push([
        'payload not matching the template',
        { base64tx: b64(wrongTemplate.bytes) },
        'payload_invalid',
      ]);
      const create = signTx(
        {
          contractHashHex: CREATE_CONTRACT_HASH,
          validTillMs: 0,
          payloadText: JSON.stringify({
            type: 'X',
            version: '1',
            description: 'x',
            template: {},
            init: '',
            code: '',
          }),
        },
        owner,
        p.chainId,
      );
      cases.push([
        'a non-processor creating a contract',
        { base64tx: b64(create.bytes) },
        'not_processor',
      ]);
      for (const [what, body, code] of cases) {
        const res = await postJson<ErrorBody>(`${p.url}/api/transactions`, body);
        assert.equal(res.body.error?.code, code, `${what}: ${JSON.stringify(res.body)}`);
        assert.ok(res.status >= 400, `${what}: HTTP ${res.status}`);
      }
      const batch = await postJson<ErrorBody>(`${p.url}/api/transactions/batch`, {
        transactions: Array.from({ length: 1001 }, () => b64(good.bytes)),
      });
      assert.equal(batch.body.error.code, 'batch_too_large');
      await new Promise((r) => setTimeout(r, 500));
      const headAfter = (await getJson<ChainInfo>(`${p.url}/api/info`)).body.head;
      assert.deepEqual(headAfter, headBefore, 'refused input produced no block');
      const ok = await postJson<TxView>(`${p.url}/api/transactions`, {
        base64tx: b64(good.bytes),
        wait: true,
      });
      assert.equal(ok.body.status, 'accepted');
      const replay = await postJson<ErrorBody>(`${p.url}/api/transactions`, {
        base64tx: b64(good.bytes),
      });
      assert.equal(replay.body.error.code, 'tx_duplicate_id');
    } finally {
      await stopProcess(p);
      await db.drop();
      await dir.remove();
    }
  });
}

test("Validana's default block interval of 5 s works: a transaction is confirmed within one interval", async () => {
  const dir = await tempDir('five');
  const p = await startProcessorProcess({ dataDir: dir.path, blockIntervalMs: 5000 });
  try {
    const owner = PrivateKey.generate();
    const trader = await traderContract(p.url);
    const tx = signTx(
      {
        contractHashHex: trader.hash,
        validTillMs: 0,
        payloadText: JSON.stringify({
          context: owner.address,
          address: PrivateKey.generate().address,
          allowed: true,
        }),
      },
      owner,
      p.chainId,
    );
    const started = Date.now();
    const res = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: b64(tx.bytes),
      wait: true,
    });
    assert.equal(res.body.status, 'accepted');
    assert.ok(Date.now() - started < 2 * 5000 + 2000, `confirmed after ${Date.now() - started} ms`);
  } finally {
    await stopProcess(p);
    await dir.remove();
  }
});
