// The processor's commit path, in process with the real store, executor and verifier: a commit
// whose connection dies after the data landed is recognised from the stored head (no duplicate,
// no lost confirmation), and a commit that really failed puts its transactions back in order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExecutor } from '../src/contracts/runtime/executor.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { ChainError } from '../src/core/errors.js';
import { PrivateKey } from '../src/core/keys.js';
import { signTx } from '../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { Tx } from '../src/chain/types.js';
import type { TxView } from '../src/chain/views.js';
import trader from '../src/energy/trader.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../src/processor/processor.js';
import { silentLogger } from '../src/ledger/log.js';
import { SignaturePool } from '../src/ledger/signature-pool.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { CommitBlockInput } from '../src/chain/records.js';
import { testBackends } from './support/test-db.js';

const quiet = silentLogger;

/** A store whose next commits can be made to fail before or after the data is written. */
class FlakyStore extends ChainStore {
  failNext: 'before' | 'after' | null = null;

  override async commitBlock(input: CommitBlockInput): Promise<void> {
    const mode = this.failNext;
    this.failNext = null;
    if (mode === 'before')
      throw new ChainError('retry', 'connection refused (injected before commit)');
    await super.commitBlock(input);
    if (mode === 'after')
      throw new ChainError(
        'retry',
        'connection terminated at COMMIT (injected after the data landed)',
      );
  }
}

async function setup(dbOpen: () => ReturnType<ReturnType<typeof testBackends>[number]['open']>) {
  const db = await dbOpen();
  const store = new FlakyStore(db);
  await store.migrate();
  const verifier = await SignaturePool.start({ workers: 1 });
  const executor = await createExecutor({ reader: store, inWorker: false });
  let now = 1_800_000_000_000;
  const key = PrivateKey.generate();
  const processor = await Processor.open(
    {
      store,
      executor,
      reopenExecutor: () => createExecutor({ reader: store, inWorker: false }),
      verifier,
      key,
      scheduler: { ...systemScheduler, nowMs: () => (now += 10) },
      config: DEFAULT_PROCESSOR_CONFIG,
      log: quiet,
    },
    'hz-commit-test',
  );
  const close = async () => {
    await verifier.close();
    await db.close();
  };
  return { store, processor, key, close };
}

function finals(processor: Processor): TxView[] {
  const seen: TxView[] = [];
  processor.onTxFinal((v) => seen.push(v));
  return seen;
}

for (const backend of testBackends()) {
  test(`[${backend.name}] a commit interrupted after the data landed confirms its transactions once`, async () => {
    const { store, processor, key, close } = await setup(() => backend.open());
    try {
      const seen = finals(processor);
      const packed = packContract(trader);
      const create = signTx(
        {
          contractHashHex: CREATE_CONTRACT_HASH,
          validTillMs: 0,
          payloadText: JSON.stringify(packed.payload),
        },
        key,
        processor.chainId,
      );
      assert.deepEqual(await processor.submit([create.bytes]), [{ ok: true, id: create.idHex }]);
      store.failNext = 'after';
      await assert.rejects(
        processor.produceNow(),
        (err: unknown) => err instanceof ChainError && err.code === 'retry',
      );
      assert.equal(seen.length, 0, 'nobody is told anything while the outcome is unknown');
      assert.equal((await processor.getTransaction(create.idHex))?.status, 'new');
      const resubmit = await processor.submit([create.bytes]);
      assert.equal(resubmit[0]?.ok, false, 'the id stays taken while its block is in doubt');

      assert.equal(await processor.produceNow(), null, 'nothing left to put in a block');
      assert.deepEqual(
        seen.map((v) => [v.id, v.status]),
        [[create.idHex, 'accepted']],
      );
      assert.equal(processor.headInfo.height, 1);
      assert.ok(
        (await processor.listContracts()).some((c) => c.hash === packed.hashHex),
        'the reopened executor knows the created contract',
      );

      const owner = PrivateKey.generate();
      const call: Tx = signTx(
        {
          contractHashHex: packed.hashHex,
          validTillMs: 0,
          payloadText: JSON.stringify({
            context: owner.address,
            address: PrivateKey.generate().address,
            allowed: true,
          }),
        },
        owner,
        processor.chainId,
      );
      assert.equal((await processor.submit([call.bytes]))[0]?.ok, true);
      const block = await processor.produceNow();
      assert.equal(block?.height, 2);
      assert.equal(seen.at(-1)?.status, 'accepted');
      assert.equal((await store.head())?.height, 2);
    } finally {
      await close();
    }
  });

  test(`[${backend.name}] a commit that failed before writing puts the transactions back in order`, async () => {
    const { store, processor, key, close } = await setup(() => backend.open());
    try {
      const seen = finals(processor);
      const packed = packContract(trader);
      const create = signTx(
        {
          contractHashHex: CREATE_CONTRACT_HASH,
          validTillMs: 0,
          payloadText: JSON.stringify(packed.payload),
        },
        key,
        processor.chainId,
      );
      const owner = PrivateKey.generate();
      const calls = [1, 2, 3].map(() =>
        signTx(
          {
            contractHashHex: packed.hashHex,
            validTillMs: 0,
            payloadText: JSON.stringify({
              context: owner.address,
              address: PrivateKey.generate().address,
              allowed: true,
            }),
          },
          owner,
          processor.chainId,
        ),
      );
      await processor.submit([create.bytes]);
      await processor.produceNow();
      await processor.submit(calls.map((c) => c.bytes));
      store.failNext = 'before';
      await assert.rejects(
        processor.produceNow(),
        (err: unknown) => err instanceof ChainError && err.code === 'retry',
      );
      assert.equal((await store.head())?.height, 1, 'nothing was written');
      for (const c of calls)
        assert.equal(
          (await processor.getTransaction(c.idHex))?.status,
          'new',
          'held while the commit is in doubt',
        );
      const block = await processor.produceNow();
      assert.deepEqual(
        block?.txs.map((t) => t.idHex),
        calls.map((c) => c.idHex),
        'same transactions, same order',
      );
      assert.deepEqual(
        seen.slice(-3).map((v) => v.status),
        ['accepted', 'accepted', 'accepted'],
      );
    } finally {
      await close();
    }
  });
}
