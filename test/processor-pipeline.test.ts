// The block loop's pipeline, in process with the real store, executor and verifier: the processor
// executes a block while the previous one commits, and when that commit fails (before writing, or
// with its result lost after the data landed) the block built on top of it is dropped too. Every
// transaction still ends accepted exactly once, in arrival order, on an unbroken chain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createExecutor } from '../src/contracts/runtime/executor.js';
import type { Executor } from '../src/contracts/runtime/executor.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { ChainError } from '../src/core/errors.js';
import { PrivateKey } from '../src/core/keys.js';
import { signTx } from '../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { TxView } from '../src/chain/views.js';
import { blockViewOf } from '../src/chain/projections.js';
import { decodeBlock } from '../src/chain/block-decode.js';
import trader from '../src/energy/trader.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../src/processor/processor.js';
import { silentLogger } from '../src/ledger/log.js';
import { SignaturePool } from '../src/ledger/signature-pool.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { CommitBlockInput } from '../src/chain/records.js';
import { testBackends } from './support/test-db.js';

const quiet = silentLogger;

type Failure = 'before' | 'after';

/** A store whose commits are slow, and fail at chosen heights (once each). */
class SlowFlakyStore extends ChainStore {
  commitDelayMs = 40;
  readonly failAt = new Map<number, Failure>();

  override async commitBlock(input: CommitBlockInput): Promise<void> {
    await sleep(this.commitDelayMs);
    const failure = this.failAt.get(input.block.height);
    this.failAt.delete(input.block.height);
    if (failure === 'before')
      throw new ChainError('internal', `commit of block ${input.block.height} refused (injected)`);
    await super.commitBlock(input);
    if (failure === 'after')
      throw new ChainError(
        'retry',
        `connection lost at COMMIT of block ${input.block.height} (injected after the data landed)`,
      );
  }
}

/** Records whether blocks were executed on top of an uncommitted one. */
function recording(inner: Executor, log: boolean[]): Executor {
  return {
    executeBlock: (input, opts) => {
      log.push(opts?.onTopOfUncommitted === true);
      return inner.executeBlock(input, opts);
    },
    openBlock: (header, opts) => {
      log.push(opts?.onTopOfUncommitted === true);
      inner.openBlock(header, opts);
    },
    appendTxs: (txs) => inner.appendTxs(txs),
    sealBlock: () => inner.sealBlock(),
    commit: () => inner.commit(),
    abort: () => inner.abort(),
    dropLast: () => inner.dropLast(),
    contracts: () => inner.contracts(),
    close: () => inner.close(),
  };
}

for (const backend of testBackends()) {
  for (const inWorker of [true, false]) {
    test(`[${backend.name}, ${inWorker ? 'worker' : 'in process'}] pipelined blocks: failed commits drop the block on top, every transaction lands once, in order`, async () => {
      const db = await backend.open();
      const store = new SlowFlakyStore(db);
      await store.migrate();
      const verifier = await SignaturePool.start({ workers: 1 });
      const onTop: boolean[] = [];
      const opened: Executor[] = [];
      const open = async (): Promise<Executor> => {
        const executor = await createExecutor({ reader: store, inWorker, residentRows: 1000 });
        opened.push(executor);
        return recording(executor, onTop);
      };
      const key = PrivateKey.generate();
      const processor = await Processor.open(
        {
          store,
          executor: await open(),
          reopenExecutor: open,
          verifier,
          key,
          scheduler: systemScheduler,
          config: { ...DEFAULT_PROCESSOR_CONFIG, blockIntervalMs: 10, txsPerBlockMax: 4 },
          log: quiet,
        },
        'hz-pipeline-test',
      );
      try {
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
        await processor.submit([create.bytes]);
        assert.equal((await processor.produceNow())?.height, 1);

        const seen: TxView[] = [];
        processor.onTxFinal((v) => seen.push(v));
        const owner = PrivateKey.generate();
        const calls = Array.from({ length: 32 }, () =>
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
        store.failAt.set(3, 'before');
        store.failAt.set(6, 'after');
        for (let i = 0; i < calls.length; i += 8)
          assert.ok(
            (await processor.submit(calls.slice(i, i + 8).map((c) => c.bytes))).every((r) => r.ok),
          );
        processor.start();
        const deadline = Date.now() + 30_000;
        while (seen.length < calls.length && Date.now() < deadline) await sleep(20);
        await processor.stop();

        assert.deepEqual(
          seen.map((v) => v.status),
          calls.map(() => 'accepted'),
          'every call accepted, each once',
        );
        assert.equal(new Set(seen.map((v) => v.id)).size, calls.length);
        const head = await store.head();
        const blocks = await processor.getBlocks(2, 100);
        assert.equal(
          blocks.length,
          (head?.height ?? 0) - 1,
          'an unbroken chain from block 2 to the head',
        );
        blocks.forEach((b, i) => {
          assert.equal(b.height, i + 2);
        });
        assert.ok(blocks.every((b) => b.transactions.length <= 4));
        assert.deepEqual(
          blocks.flatMap((b) => b.transactions.map((t) => t.id)),
          calls.map((c) => c.idHex),
          'in arrival order',
        );
        assert.ok(
          onTop.includes(true),
          'some block was executed while the one below was committing',
        );
        assert.equal(store.failAt.size, 0, 'both injected failures happened');
      } finally {
        await processor.stop();
        for (const executor of opened) await executor.close();
        await verifier.close();
        await db.close();
      }
    });
  }
}

/** Records the parts of each block as the processor hands them to the executor. */
function tracing(inner: Executor, events: string[]): Executor {
  return {
    executeBlock: (input, opts) => {
      events.push(`execute ${input.height}:${input.txs.length}`);
      return inner.executeBlock(input, opts);
    },
    openBlock: (header, opts) => {
      events.push(`open ${header.height}`);
      inner.openBlock(header, opts);
    },
    appendTxs: (txs) => {
      events.push(`append ${txs.length}`);
      inner.appendTxs(txs);
    },
    sealBlock: () => {
      events.push('seal');
      return inner.sealBlock();
    },
    commit: () => inner.commit(),
    abort: () => inner.abort(),
    dropLast: () => {
      events.push('dropLast');
      inner.dropLast();
    },
    contracts: () => inner.contracts(),
    close: () => inner.close(),
  };
}

for (const backend of testBackends()) {
  test(`[${backend.name}] the block loop executes transactions as they are admitted and only seals the block at the interval; stop() puts an open block back`, async () => {
    const db = await backend.open();
    const store = new ChainStore(db);
    await store.migrate();
    const verifier = await SignaturePool.start({ workers: 1 });
    const executor = await createExecutor({ reader: store, residentRows: 1000 });
    const events: string[] = [];
    const key = PrivateKey.generate();
    const processor = await Processor.open(
      {
        store,
        executor: tracing(executor, events),
        verifier,
        key,
        scheduler: systemScheduler,
        config: { ...DEFAULT_PROCESSOR_CONFIG, blockIntervalMs: 1500 },
        log: quiet,
      },
      'hz-open-block-test',
    );
    try {
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
      await processor.submit([create.bytes]);
      assert.equal((await processor.produceNow())?.height, 1);
      const owner = PrivateKey.generate();
      const call = (): ReturnType<typeof signTx> =>
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
        );
      const seen: TxView[] = [];
      processor.onTxFinal((v) => seen.push(v));
      events.length = 0;
      processor.start();
      const calls = Array.from({ length: 9 }, call);
      for (let i = 0; i < calls.length; i += 3) {
        assert.ok(
          (await processor.submit(calls.slice(i, i + 3).map((c) => c.bytes))).every((r) => r.ok),
        );
        await sleep(60);
      }
      const deadline = Date.now() + 10_000;
      while (seen.length < calls.length && Date.now() < deadline) await sleep(10);
      assert.deepEqual(
        seen.map((v) => v.status),
        calls.map(() => 'accepted'),
      );
      const blocks = await processor.getBlocks(2, 10);
      assert.equal(
        blocks.length,
        1,
        'one block: the interval had not passed between the submissions',
      );
      assert.deepEqual(
        blocks[0]?.transactions.map((t) => t.id),
        calls.map((c) => c.idHex),
      );
      assert.deepEqual(
        events.slice(0, 5),
        ['open 2', 'append 3', 'append 3', 'append 3', 'seal'],
        'each admitted part went to the executor before the block was sealed',
      );

      // A block still filling when the loop stops goes back to the queue, whole and in order.
      const more = Array.from({ length: 4 }, call);
      assert.ok((await processor.submit(more.map((c) => c.bytes))).every((r) => r.ok));
      await sleep(30);
      assert.ok(
        events.includes('open 3') && events.at(-1) === 'append 4',
        `the next block opened and took them: ${events.join(', ')}`,
      );
      await processor.stop();
      assert.equal(events.at(-1), 'dropLast');
      const block = await processor.produceNow();
      assert.equal(block?.height, 3);
      assert.deepEqual(
        block?.txs.map((t) => t.idHex),
        more.map((c) => c.idHex),
      );

      // Block views come from the stored columns; they equal the views of the decoded blocks.
      const types = new Map((await processor.listContracts()).map((c) => [c.hash, c.type]));
      const decoded = (await processor.getRawBlocks(0, 10)).map((raw) =>
        blockViewOf(decodeBlock(raw, processor.chainId), types),
      );
      assert.equal(decoded.length, 4);
      assert.deepEqual(await processor.getBlocks(0, 10), decoded);
    } finally {
      await processor.stop();
      await executor.close();
      await verifier.close();
      await db.close();
    }
  });
}
