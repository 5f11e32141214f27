// The contract engine alone: the benchmark's energy workload executed by the real executor
// (QuickJS sandbox, overlay, row cache; in its worker thread or in process) against an in-memory
// store, without HTTP, signatures or a database. It measures how many transactions per second one
// core executes: the ceiling of the processor's block loop, whatever the rest costs.
//
//   node dist/bench/engine.js                     (10,000 timed transactions in blocks of 2,000)
//   node dist/bench/engine.js --n 50000 --block 5000 --in-process
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/engine.js --in-process

import { parseArgs } from 'node:util';
import type { BlockExecutionResult } from '../src/contracts/runtime/types.js';
import type { Tx } from '../src/chain/types.js';
import { MemoryChain } from './memory-chain.js';
import {
  SpendableModel,
  deriveKey,
  deviceTxs,
  mixOf,
  participants,
  timedTxs,
  traderTxs,
  warmupTxs,
} from './workload.js';
import type { BenchTx } from './workload.js';

const CHAIN_ID = 'hanzenet-engine-bench';

interface Options {
  readonly n: number;
  readonly block: number;
  readonly traders: number;
  readonly inProcess: boolean;
  readonly seed: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '10000' },
      block: { type: 'string', default: '2000' },
      traders: { type: 'string', default: '1000' },
      'in-process': { type: 'boolean', default: false },
      seed: { type: 'string', default: 'bench' },
    },
  });
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min)
      throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  return {
    n: int('n', values.n, 1),
    block: int('block', values.block, 1),
    traders: int('traders', values.traders, 2),
    inProcess: values['in-process'],
    seed: values.seed,
  };
}

async function main(): Promise<void> {
  const o = options();
  // 10:00:30 UTC, one block a second: every block falls in the 10:00-10:15 settlement period.
  const chain = await MemoryChain.open(
    CHAIN_ID,
    deriveKey(o.seed, 'processor', 0),
    Date.UTC(2026, 0, 1, 10, 0, 30),
    !o.inProcess,
  );
  const run = (txs: readonly Tx[]): Promise<BlockExecutionResult> =>
    chain.run(txs, chain.processedMs + 1000);
  const txsOf = (b: readonly BenchTx[]): Tx[] => b.map((t) => t.tx);
  const hashes = await chain.installEnergy(chain.processedMs + 1000);
  const ctx = { chainId: CHAIN_ID, hashes };
  const people = participants(o.seed, o.traders);
  await run(txsOf(traderTxs(ctx, people)));
  await run(txsOf(deviceTxs(ctx, people)));
  const warmup = warmupTxs(ctx, people, 0);
  await run(txsOf(warmup));
  const periodBlock = chain.height;
  const model = new SpendableModel(o.traders);
  for (const t of warmup) if (t.credit !== undefined) model.credit(t.credit.trader, t.credit.wh);
  process.stderr.write(`signing ${o.n} timed transactions...\n`);
  const timed = timedTxs(ctx, people, { n: o.n, periodBlock, model });
  process.stderr.write(`mix ${JSON.stringify(mixOf(timed))}\n`);

  const perBlock: { txs: number; ms: number; reads: number; readMs: number }[] = [];
  const started = performance.now();
  for (let i = 0; i < timed.length; i += o.block) {
    const t0 = performance.now();
    const result = await run(txsOf(timed.slice(i, i + o.block)));
    perBlock.push({
      txs: result.outcomes.length,
      ms: performance.now() - t0,
      reads: result.stats.storeReads,
      readMs: result.stats.storeReadMs,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await chain.close();
  const first = perBlock[0];
  const rest = perBlock.slice(1);
  const restTxs = rest.reduce((a, b) => a + b.txs, 0);
  const restMs = rest.reduce((a, b) => a + b.ms, 0);
  const summary = {
    mode: o.inProcess ? 'in process' : 'worker thread',
    n: o.n,
    blockTxs: o.block,
    seconds: Number(seconds.toFixed(3)),
    txPerSecond: Math.round(o.n / seconds),
    firstBlock:
      first === undefined
        ? null
        : {
            txs: first.txs,
            ms: Math.round(first.ms),
            storeReads: first.reads,
            storeReadMs: Math.round(first.readMs),
          },
    laterBlocksTxPerSecond: restMs > 0 ? Math.round((restTxs * 1000) / restMs) : null,
    microsecondsPerTx: restTxs > 0 ? Number(((restMs * 1000) / restTxs).toFixed(1)) : null,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
