// The executor's pipeline and resident tables: a block executed on top of an uncommitted one
// (the processor commits one block while it executes the next), and whole tables held in memory,
// must give exactly the outcomes, changes and digests of plain one-block-at-a-time execution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createExecutor } from '../src/contracts/runtime/executor.js';
import type { Executor } from '../src/contracts/runtime/executor.js';
import { StateOverlay } from '../src/contracts/runtime/overlay.js';
import type { SyncStateSource } from '../src/contracts/runtime/ports.js';
import { compareKeys, keyValuesOf, rowMatches } from '../src/contracts/runtime/rows.js';
import type { BlockExecutionResult } from '../src/contracts/runtime/types.js';
import type { Tx } from '../src/chain/types.js';
import type { Row, RowValue, TableDef } from '../src/chain/contract-model.js';
import {
  aliceKey,
  CHAIN_ID,
  makeTx,
  MemoryReader,
  processorKey,
  rawCreateTx,
  resultText,
} from './support/contracts-chain.js';

const CELLS: TableDef = { columns: { k: 'text', g: 'text', v: 'bigint' }, key: ['k'] };

const CELL_CONTRACT = rawCreateTx({
  type: 'Cells',
  template: {
    op: { type: 'str', name: 'op', desc: 'inc, del or sum' },
    k: { type: 'str', name: 'k', desc: 'key' },
    g: { type: 'str', name: 'g', desc: 'group' },
  },
  manifest: { tables: { cells: CELLS }, reads: [] },
  code: `function (p, ctx) {
    if (p.op === 'inc') {
      const r = ctx.db.get('cells', { k: p.k });
      ctx.db.put('cells', { k: p.k, g: p.g, v: (r === null ? 0n : r.v) + 1n });
      return 'OK';
    }
    if (p.op === 'del') return ctx.db.delete('cells', { k: p.k }) ? 'OK' : 'nothing to delete';
    const rows = ctx.db.find('cells', { g: p.g }, 3);
    let sum = 0n;
    for (const r of rows) sum += r.v;
    ctx.db.put('cells', { k: 'sum-' + p.g, g: 'sums', v: sum });
    return 'OK';
  }`,
});

interface Call {
  readonly op: 'inc' | 'del' | 'sum';
  readonly k: string;
  readonly g: string;
}

const callArb: fc.Arbitrary<Call> = fc.record({
  op: fc.constantFrom('inc' as const, 'inc' as const, 'del' as const, 'sum' as const),
  k: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
  g: fc.constantFrom('x', 'y'),
});

let txSeq = 0;
const txsOf = (calls: readonly Call[]): Tx[] =>
  calls.map((c) =>
    makeTx(aliceKey, CELL_CONTRACT.hashHex, c, (++txSeq).toString(16).padStart(32, '0')),
  );

function input(height: number, txs: readonly Tx[]): Parameters<Executor['executeBlock']>[0] {
  const processedMs = 1_700_000_000_000 + height * 1000;
  return {
    chainId: CHAIN_ID,
    processorAddress: processorKey.address,
    height,
    processedMs,
    previousHashHex: '00'.repeat(32),
    previousProcessedMs: processedMs - 1000,
    txs,
  };
}

/** The store committed block `height` (its result): tell the executor. */
function land(
  reader: MemoryReader,
  executor: Executor,
  result: BlockExecutionResult,
  height: number,
): void {
  reader.apply(result, height, new Map([['cells', CELLS]]));
  executor.commit();
}

type RunOptions = { inWorker: boolean; residentRows: number };

/**
 * Runs `blocks` through a fresh executor over a store that fails reads of tables no committed
 * contract declared (as PostgreSQL does), and returns each block's result as text.
 */
async function run(
  opts: RunOptions,
  blocks: readonly Tx[][],
  executeAll: (reader: MemoryReader, executor: Executor, out: string[]) => Promise<void>,
): Promise<string[]> {
  const reader = new MemoryReader();
  reader.strictTables = true;
  const executor = await createExecutor({ reader, ...opts });
  const out: string[] = [];
  try {
    await executeAll(reader, executor, out);
  } finally {
    await executor.close();
  }
  assert.equal(out.length, blocks.length);
  return out;
}

/** Executes and commits each block before the next: the reference. */
function plainRun(blocks: readonly Tx[][], opts: RunOptions): Promise<string[]> {
  return run(opts, blocks, async (reader, executor, out) => {
    for (const [i, txs] of blocks.entries()) {
      const result = await executor.executeBlock(input(i + 1, txs));
      land(reader, executor, result, i + 1);
      out.push(resultText(result));
    }
  });
}

/** Executes block i+1 on top of block i before block i is "stored" and committed. */
function pipelinedRun(blocks: readonly Tx[][], opts: RunOptions): Promise<string[]> {
  return run(opts, blocks, async (reader, executor, out) => {
    let below: BlockExecutionResult | null = null;
    for (const [i, txs] of blocks.entries()) {
      const result = await executor.executeBlock(input(i + 1, txs), { onTopOfUncommitted: true });
      if (below !== null) land(reader, executor, below, i);
      out.push(resultText(result));
      below = result;
    }
    if (below !== null) land(reader, executor, below, blocks.length);
  });
}

/**
 * Executes each block as it fills: openBlock on top of the block below, the transactions in up to
 * two parts cut where `cuts` says (appendTxs), the block below committed after one of the parts
 * (as its commit lands while the next block fills), then sealBlock.
 */
function filledRun(
  blocks: readonly Tx[][],
  cuts: readonly number[],
  opts: RunOptions,
): Promise<string[]> {
  return run(opts, blocks, async (reader, executor, out) => {
    let below: BlockExecutionResult | null = null;
    for (const [i, txs] of blocks.entries()) {
      const { txs: _all, ...header } = input(i + 1, txs);
      executor.openBlock(header, { onTopOfUncommitted: true });
      const cut = cuts[i % cuts.length] ?? 0;
      const parts =
        cut === 0
          ? [txs]
          : [txs.slice(0, cut % (txs.length + 1)), txs.slice(cut % (txs.length + 1))];
      for (const [p, part] of parts.entries()) {
        executor.appendTxs(part);
        if (below !== null && p === cut % parts.length) {
          land(reader, executor, below, i);
          below = null;
        }
      }
      if (below !== null) land(reader, executor, below, i);
      const result = await executor.sealBlock();
      out.push(resultText(result));
      below = result;
    }
    if (below !== null) land(reader, executor, below, blocks.length);
  });
}

const blocksArb = fc.array(fc.array(callArb, { minLength: 1, maxLength: 8 }), {
  minLength: 2,
  maxLength: 6,
});

test('blocks executed on top of uncommitted ones, with or without resident tables, equal plain execution', async () => {
  await fc.assert(
    fc.asyncProperty(blocksArb, fc.constantFrom(0, 3, 1000), async (calls, residentRows) => {
      const blocks = [[CELL_CONTRACT.tx], ...calls.map(txsOf)];
      const reference = await plainRun(blocks, { inWorker: false, residentRows: 0 });
      assert.deepEqual(await pipelinedRun(blocks, { inWorker: false, residentRows }), reference);
      assert.deepEqual(await plainRun(blocks, { inWorker: false, residentRows }), reference);
    }),
    { numRuns: 30, seed: 4242 },
  );
});

test('the worker executor pipelines the same way', async () => {
  const calls: Call[][] = [
    [
      { op: 'inc', k: 'a', g: 'x' },
      { op: 'inc', k: 'b', g: 'x' },
    ],
    [
      { op: 'inc', k: 'a', g: 'x' },
      { op: 'sum', k: 'a', g: 'x' },
    ],
    [
      { op: 'del', k: 'b', g: 'x' },
      { op: 'sum', k: 'a', g: 'x' },
      { op: 'inc', k: 'c', g: 'y' },
    ],
    [{ op: 'sum', k: 'a', g: 'sums' }],
  ];
  const blocks = [[CELL_CONTRACT.tx], ...calls.map(txsOf)];
  const reference = await plainRun(blocks, { inWorker: false, residentRows: 0 });
  assert.deepEqual(await pipelinedRun(blocks, { inWorker: true, residentRows: 100 }), reference);
  assert.deepEqual(await pipelinedRun(blocks, { inWorker: true, residentRows: 0 }), reference);
});

test('a contract created in a block is usable in that block and in the block on top of it before the store has its tables', async () => {
  // The test store fails reads of tables no committed contract declared, as PostgreSQL does.
  const blocks = [
    [
      CELL_CONTRACT.tx,
      ...txsOf([
        { op: 'inc', k: 'a', g: 'x' },
        { op: 'sum', k: 'a', g: 'x' },
      ]),
    ],
    txsOf([
      { op: 'inc', k: 'a', g: 'x' },
      { op: 'inc', k: 'b', g: 'x' },
      { op: 'sum', k: 'a', g: 'x' },
    ]),
  ];
  const reference = await plainRun(blocks, { inWorker: false, residentRows: 0 });
  assert.ok(
    reference.every((r) => !r.includes('"invalid"') && !r.includes('rejected')),
    reference.join('\n'),
  );
  for (const inWorker of [true, false]) {
    for (const residentRows of [0, 100]) {
      assert.deepEqual(
        await pipelinedRun(blocks, { inWorker, residentRows }),
        reference,
        `pipelined, ${inWorker ? 'worker' : 'in process'}, resident ${residentRows}`,
      );
      assert.deepEqual(
        await filledRun(blocks, [1], { inWorker, residentRows }),
        reference,
        `filled, ${inWorker ? 'worker' : 'in process'}, resident ${residentRows}`,
      );
    }
  }
});

test('blocks executed as they fill, in parts, with the block below committing in between, equal plain execution', async () => {
  await fc.assert(
    fc.asyncProperty(
      blocksArb,
      fc.array(fc.nat(9), { minLength: 1, maxLength: 6 }),
      fc.constantFrom(0, 1000),
      async (calls, cuts, residentRows) => {
        const blocks = [[CELL_CONTRACT.tx], ...calls.map(txsOf)];
        const reference = await plainRun(blocks, { inWorker: false, residentRows: 0 });
        assert.deepEqual(
          await filledRun(blocks, cuts, { inWorker: false, residentRows }),
          reference,
        );
      },
    ),
    { numRuns: 25, seed: 777 },
  );
  const blocks = [
    [CELL_CONTRACT.tx],
    ...[
      [
        { op: 'inc', k: 'a', g: 'x' },
        { op: 'inc', k: 'b', g: 'x' },
        { op: 'sum', k: 'a', g: 'x' },
      ],
      [
        { op: 'inc', k: 'a', g: 'x' },
        { op: 'del', k: 'b', g: 'x' },
        { op: 'sum', k: 'a', g: 'x' },
      ],
    ].map((c) => txsOf(c as Call[])),
  ];
  const reference = await plainRun(blocks, { inWorker: false, residentRows: 0 });
  for (const cuts of [[0], [1], [2, 3], [5]]) {
    assert.deepEqual(
      await filledRun(blocks, cuts, { inWorker: true, residentRows: 100 }),
      reference,
      `worker, cuts ${cuts.join(',')}`,
    );
    assert.deepEqual(
      await filledRun(blocks, cuts, { inWorker: true, residentRows: 0 }),
      reference,
      `worker without resident tables, cuts ${cuts.join(',')}`,
    );
  }
});

test('an open block: dropLast forgets it and keeps the block below; a failed read is reported by sealBlock and leaves the block below intact', async () => {
  for (const inWorker of [true, false]) {
    const reader = new MemoryReader();
    const executor = await createExecutor({ reader, inWorker, residentRows: 0 });
    try {
      const create = await executor.executeBlock(input(1, [CELL_CONTRACT.tx]));
      reader.apply(create, 1, new Map([['cells', CELLS]]));
      executor.commit();
      const below = await executor.executeBlock(input(2, txsOf([{ op: 'inc', k: 'a', g: 'x' }])));
      const { txs: _none, ...header3 } = input(3, []);
      executor.openBlock(header3, { onTopOfUncommitted: true });
      executor.appendTxs(
        txsOf([
          { op: 'inc', k: 'a', g: 'x' },
          { op: 'inc', k: 'z', g: 'x' },
        ]),
      );
      executor.dropLast();
      executor.openBlock(header3, { onTopOfUncommitted: true });
      reader.failReads = true;
      executor.appendTxs(txsOf([{ op: 'inc', k: 'q', g: 'y' }]));
      await assert.rejects(
        executor.sealBlock(),
        (err: Error & { code?: string }) => err.code === 'retry',
        'the failed read fails the block with retry',
      );
      reader.failReads = false;
      executor.openBlock(header3, { onTopOfUncommitted: true });
      executor.appendTxs(txsOf([{ op: 'inc', k: 'a', g: 'x' }]));
      const top = await executor.sealBlock();
      assert.deepEqual(
        top.stateChanges,
        [{ table: 'cells', key: ['a'], row: { k: 'a', g: 'x', v: 2n } }],
        `${inWorker ? 'worker' : 'in process'}: the block on top sees the block below, and nothing of the dropped or failed ones`,
      );
      reader.apply(below, 2, new Map([['cells', CELLS]]));
      executor.commit();
      reader.apply(top, 3, new Map([['cells', CELLS]]));
      executor.commit();
      assert.throws(() => executor.appendTxs([]), /without an open block/);
    } finally {
      await executor.close();
    }
  }
});

test('abort drops the uncommitted block and the one on top of it; dropLast only the top one', async () => {
  const reader = new MemoryReader();
  const executor = await createExecutor({ reader, inWorker: true, residentRows: 100 });
  try {
    const create = await executor.executeBlock(input(1, [CELL_CONTRACT.tx]));
    reader.apply(create, 1, new Map([['cells', CELLS]]));
    executor.commit();
    const a = txsOf([{ op: 'inc', k: 'a', g: 'x' }]);
    const first = await executor.executeBlock(input(2, a));
    const top = await executor.executeBlock(input(3, txsOf([{ op: 'inc', k: 'a', g: 'x' }])), {
      onTopOfUncommitted: true,
    });
    assert.deepEqual(
      top.stateChanges,
      [{ table: 'cells', key: ['a'], row: { k: 'a', g: 'x', v: 2n } }],
      'the block on top sees the uncommitted one',
    );
    executor.abort();
    const again = await executor.executeBlock(input(2, a));
    assert.equal(resultText(again), resultText(first), 'after abort the state is as committed');
    const other = await executor.executeBlock(input(3, txsOf([{ op: 'inc', k: 'a', g: 'x' }])), {
      onTopOfUncommitted: true,
    });
    executor.dropLast();
    assert.equal(other.stateChanges.length, 1);
    reader.apply(again, 2, new Map([['cells', CELLS]]));
    executor.commit();
    const next = await executor.executeBlock(input(3, txsOf([{ op: 'inc', k: 'a', g: 'x' }])));
    assert.deepEqual(
      next.stateChanges,
      [{ table: 'cells', key: ['a'], row: { k: 'a', g: 'x', v: 2n } }],
      'the dropped block left nothing',
    );
    executor.abort();
  } finally {
    await executor.close();
  }
});

test('a resident table answers reads of absent keys without asking the store', async () => {
  const reader = new MemoryReader();
  reader.contractList = [];
  const executor = await createExecutor({ reader, inWorker: false, residentRows: 1000 });
  try {
    const create = await executor.executeBlock(input(1, [CELL_CONTRACT.tx]));
    reader.apply(create, 1, new Map([['cells', CELLS]]));
    executor.commit();
    const result = await executor.executeBlock(
      input(
        2,
        txsOf([
          { op: 'inc', k: 'new', g: 'x' },
          { op: 'sum', k: '-', g: 'x' },
          { op: 'del', k: 'none', g: 'x' },
        ]),
      ),
    );
    assert.deepEqual(
      result.outcomes.map((o) => o.message),
      ['OK', 'OK', 'nothing to delete'],
    );
    assert.equal(result.stats.storeReads, 0);
    assert.equal(reader.reads + reader.finds, 0);
  } finally {
    await executor.close();
  }
});

/** Committed rows of one table, answering like the store does. */
class TableSource implements SyncStateSource {
  reads = 0;
  constructor(readonly rows: Row[]) {}

  readRows(_table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] {
    this.reads += 1;
    return this.rows.filter((r) => keys.some((k) => compareKeys(keyValuesOf(def, r), k) === 0));
  }

  findRows(_table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] {
    this.reads += 1;
    return this.rows
      .filter((r) => rowMatches(r, where))
      .sort((a, b) => compareKeys(keyValuesOf(def, a), keyValuesOf(def, b)))
      .slice(0, limit);
  }
}

const GROUPED: TableDef = {
  columns: { k: 'text', n: 'bigint', g: 'text', tags: 'text[]', on: 'boolean' },
  key: ['k', 'n'],
};

test('finds on a resident table equal the store finds (order, filters, limits)', () => {
  const rowArb = fc.record({
    k: fc.constantFrom('a', 'B', 'é', 'a\u00ff', 'zz', ''),
    n: fc.bigInt({ min: -3n, max: 3n }),
    g: fc.constantFrom('x', 'y'),
    tags: fc.constantFrom<string[]>([], ['solar'], ['local', 'solar']),
    on: fc.boolean(),
  });
  const whereArb = fc.record(
    {
      k: fc.constantFrom('a', 'zz'),
      g: fc.constantFrom('x', 'y'),
      tags: fc.constantFrom<string[]>([], ['solar']),
      on: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.uniqueArray(rowArb, { selector: (r) => `${r.k}|${r.n}` }),
      whereArb,
      fc.integer({ min: 1, max: 8 }),
      (generated, where, limit) => {
        const rows: Row[] = generated.map((r) => ({ ...r, tags: [...r.tags] }));
        const source = new TableSource(rows);
        const overlay = new StateOverlay(100, 1000);
        assert.equal(overlay.makeResident('t', GROUPED, rows), true);
        overlay.beginBlock(source);
        const resident = overlay.find('t', GROUPED, where, limit);
        const plain = new StateOverlay(100);
        plain.beginBlock(new TableSource(rows));
        assert.deepEqual(resident, plain.find('t', GROUPED, where, limit));
        assert.equal(source.reads, 0);
      },
    ),
    { numRuns: 200, seed: 7 },
  );
});

test('resident tables: committed changes enter them, the largest is let go past the budget, abort lets go', () => {
  const row = (k: string, n: number): Row => ({ k, n: BigInt(n), g: 'x', tags: [], on: true });
  const overlay = new StateOverlay(100, 4);
  assert.equal(overlay.makeResident('big', GROUPED, [row('a', 1), row('b', 1)]), true);
  assert.equal(overlay.makeResident('small', GROUPED, [row('a', 1)]), true);
  assert.equal(
    overlay.makeResident('toolarge', GROUPED, [row('a', 1), row('b', 1)]),
    false,
    'over the budget',
  );
  assert.equal(overlay.makeResident('unread', GROUPED, []), true);
  const source = new TableSource([]);
  overlay.beginBlock(source);
  assert.equal(overlay.get('big', GROUPED, ['c', 1n]), null);
  assert.equal(overlay.get('small', GROUPED, ['b', 1n]), null);
  overlay.put('big', GROUPED, row('c', 1));
  overlay.put('small', GROUPED, row('b', 1));
  overlay.put('unread', GROUPED, row('a', 1));
  overlay.commitTx();
  overlay.commitBlock();
  assert.deepEqual(
    overlay.residentTables(),
    new Map([['small', 2]]),
    'big grew to 3 rows: 5 > 4, so it was let go; a table written but never read is not kept',
  );
  overlay.beginBlock(source);
  assert.deepEqual(overlay.get('small', GROUPED, ['b', 1n]), row('b', 1));
  assert.equal(overlay.get('small', GROUPED, ['zz', 1n]), null);
  assert.equal(source.reads, 0, 'the resident table answered');
  assert.equal(overlay.get('big', GROUPED, ['zz', 1n]), null);
  assert.equal(source.reads, 1, 'the let-go table is read from the store');
  overlay.put('small', GROUPED, row('c', 1));
  overlay.commitTx();
  overlay.endBlock(true);
  assert.deepEqual(
    overlay.residentTables(),
    new Map(),
    'a block that may or may not be stored lets its tables go',
  );
});
