// The commit pipeline's stage machine on its own, with a store whose commits the test settles by
// hand: a landed commit moves the head, a failed one drops what was executed, a lost answer is
// held in doubt until the stored head says whether the block landed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainError } from '../src/core/errors.js';
import { systemScheduler } from '../src/core/scheduler.js';
import type { Block } from '../src/chain/types.js';
import { CommitPipeline } from '../src/ledger/commit-pipeline.js';
import type { PipelineHost, SealedBlock } from '../src/ledger/commit-pipeline.js';
import type { ChainStore } from '../src/store/chain-store.js';
import type { HeadInfo } from '../src/chain/header-rules.js';
import type { CommitBlockInput } from '../src/chain/records.js';

interface Pending {
  readonly input: CommitBlockInput;
  resolve(): void;
  reject(err: unknown): void;
}

function sealed(height: number, opts: { contracts?: boolean } = {}): SealedBlock {
  const block = {
    height,
    hashHex: `hash-${height}`,
    processedMs: 1000 + height,
  } as unknown as Block;
  const createdContracts =
    opts.contracts === true
      ? ([{ hashHex: 'c1', type: 'C' }] as unknown as CommitBlockInput['createdContracts'])
      : [];
  return {
    types: new Map(),
    commit: {
      block,
      txRecords: [],
      invalidRecords: [],
      stateChanges: [],
      createdContracts,
      deletedContracts: [],
    },
  };
}

function harness() {
  const commits: Pending[] = [];
  let storedHead: HeadInfo | null = { height: 0, hashHex: 'hash-0', processedMs: 1000 };
  const events: string[] = [];
  let head: HeadInfo | null = storedHead;
  const store = {
    commitBlock: (input: CommitBlockInput) =>
      new Promise<void>((resolve, reject) => commits.push({ input, resolve, reject })),
    head: async () => storedHead,
  } as unknown as ChainStore;
  const host: PipelineHost<SealedBlock> = {
    store,
    scheduler: systemScheduler,
    head: () => head,
    headTypes: () => new Map(),
    executorCommitted: () => events.push('executor.commit'),
    executorAborted: () => events.push('executor.abort'),
    executorStale: () => events.push('executor.stale'),
    committed: (b, ms) => {
      const { height, hashHex, processedMs } = b.commit.block;
      head = { height, hashHex, processedMs };
      events.push(`committed ${height}${ms === null ? ' (found stored)' : ''}`);
    },
    commitFailed: (b, _err, inDoubt) =>
      events.push(`failed ${b.commit.block.height}${inDoubt ? ' (in doubt)' : ''}`),
    notStored: (b) => events.push(`not stored ${b.commit.block.height}`),
  };
  const pipeline = new CommitPipeline(host);
  return { pipeline, commits, events, setStoredHead: (h: HeadInfo | null) => (storedHead = h) };
}

test('a landed commit: committing, then idle with the head moved; the tip is the block committing meanwhile', async () => {
  const { pipeline, commits, events } = harness();
  assert.equal(pipeline.tip()?.height, 0);
  const stored = pipeline.seal(sealed(1));
  assert.equal(pipeline.stage.name, 'committing');
  assert.equal(pipeline.tip()?.height, 1, 'the next block builds on the one committing');
  commits[0]?.resolve();
  assert.deepEqual(await stored, { stored: true });
  assert.equal(pipeline.stage.name, 'idle');
  assert.deepEqual(events, ['executor.commit', 'committed 1']);
  assert.equal(pipeline.tip()?.height, 1);
});

test('a failed commit: idle again, the executed blocks dropped (epoch bumped), the role told', async () => {
  const { pipeline, commits, events } = harness();
  const epoch = pipeline.epoch;
  const stored = pipeline.seal(sealed(1));
  const err = new ChainError('internal', 'refused');
  commits[0]?.reject(err);
  assert.deepEqual(await stored, { stored: false, error: err });
  assert.equal(pipeline.stage.name, 'idle');
  assert.equal(pipeline.epoch, epoch + 1);
  assert.deepEqual(events, ['executor.abort', 'failed 1']);
  assert.equal(pipeline.tip()?.height, 0);
});

test('a lost answer (retry): in doubt until the stored head tells; landed with new contracts marks the executor stale', async () => {
  const { pipeline, commits, events, setStoredHead } = harness();
  const stored = pipeline.seal(sealed(1, { contracts: true }));
  commits[0]?.reject(new ChainError('retry', 'connection lost at COMMIT'));
  assert.equal((await stored).stored, false);
  assert.equal(pipeline.stage.name, 'in_doubt');
  assert.equal(pipeline.tip()?.height, 0, 'nothing builds on a block in doubt');
  assert.throws(
    () => pipeline.seal(sealed(2)),
    (e: unknown) => e instanceof ChainError && e.code === 'internal',
  );
  setStoredHead({ height: 1, hashHex: 'hash-1', processedMs: 1001 });
  await pipeline.resolveInDoubt();
  assert.equal(pipeline.stage.name, 'idle');
  assert.deepEqual(events, [
    'executor.abort',
    'failed 1 (in doubt)',
    'executor.stale',
    'committed 1 (found stored)',
  ]);
});

test('a lost answer whose block did not land: given back to the role', async () => {
  const { pipeline, commits, events } = harness();
  const stored = pipeline.seal(sealed(1));
  commits[0]?.reject(new ChainError('retry', 'connection refused'));
  await stored;
  await pipeline.resolveInDoubt();
  assert.equal(pipeline.stage.name, 'idle');
  assert.deepEqual(events, ['executor.abort', 'failed 1 (in doubt)', 'not stored 1']);
});
