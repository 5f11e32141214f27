// One market period with many orders, cleared by the real executor (QuickJS sandbox, overlay, in
// its worker thread or in process) against an in-memory store: how long SettlePeriod takes for a
// period of N orders from N traders, and how many rows it writes. The bound is 10,000
// orders within one block's budget (docs/market.md, "How big a period may be").
//
//   node dist/bench/clearing.js                      (10,000 orders, 5 settlements)
//   node dist/bench/clearing.js --orders 2000 --repeat 3 --in-process
//   node dist/bench/clearing.js --in-process --profile /tmp/prof   (a CPU profile of the settlements
//                                                                  only; summarise with profile.js)

import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryChain } from './memory-chain.js';
import {
  MARKET_GATE_CLOSURE_SECONDS,
  marketOrderTxs,
  marketReadingTxs,
  marketSetupTxs,
  settleTx,
} from './market-workload.js';
import {
  SETTLEMENT_PERIOD_MS,
  deriveKey,
  deviceTxs,
  participants,
  traderTxs,
  type BenchTx,
} from './workload.js';

const CHAIN_ID = 'hanzenet-clearing-bench';
/** Transactions per block while the market is set up (the executor runs whole blocks). */
const SETUP_BLOCK_TXS = 2000;

interface Options {
  readonly orders: number;
  readonly repeat: number;
  readonly inProcess: boolean;
  readonly seed: string;
  /** Write a CPU profile of each settlement here (in process only). */
  readonly profileDir: string | null;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '10000' },
      repeat: { type: 'string', default: '5' },
      'in-process': { type: 'boolean', default: false },
      seed: { type: 'string', default: 'bench' },
      profile: { type: 'string' },
    },
  });
  if (values.profile !== undefined && !values['in-process'])
    throw new RangeError('--profile needs --in-process (the executor worker is another thread)');
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min)
      throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  return {
    orders: int('orders', values.orders, 2),
    repeat: int('repeat', values.repeat, 1),
    inProcess: values['in-process'],
    seed: values.seed,
    profileDir: values.profile ?? null,
  };
}

interface Settled {
  readonly ms: number;
  readonly rowsWritten: number;
  readonly flows: number;
}

/** A fresh chain with the market set up and one period of `orders` orders, settled once. */
async function settleOnce(o: Options): Promise<Settled> {
  const periodStartMs = Date.UTC(2026, 0, 1, 10, 0, 0);
  const chain = await MemoryChain.open(
    CHAIN_ID,
    deriveKey(o.seed, 'processor', 0),
    periodStartMs,
    !o.inProcess,
  );
  const runAll = async (txs: readonly BenchTx[]): Promise<void> => {
    for (let i = 0; i < txs.length; i += SETUP_BLOCK_TXS) {
      await chain.run(
        txs.slice(i, i + SETUP_BLOCK_TXS).map((t) => t.tx),
        chain.processedMs + 100,
      );
    }
  };
  try {
    const hashes = await chain.installEnergy(periodStartMs + 100);
    const ctx = { chainId: CHAIN_ID, hashes };
    const people = participants(o.seed, o.orders);
    await runAll(traderTxs(ctx, people));
    await runAll(deviceTxs(ctx, people));
    await runAll(marketSetupTxs(ctx, people, periodStartMs, 1));
    await runAll(marketOrderTxs(ctx, people, periodStartMs, periodStartMs));
    await runAll(marketReadingTxs(ctx, people, 0));
    const gateMs = periodStartMs + SETTLEMENT_PERIOD_MS + MARKET_GATE_CLOSURE_SECONDS * 1000;
    const settle = settleTx(ctx, people, periodStartMs).tx;
    const profiler = o.profileDir === null ? null : new Session();
    if (profiler !== null) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const t0 = performance.now();
    const result = await chain.run([settle], gateMs);
    const ms = performance.now() - t0;
    if (profiler !== null && o.profileDir !== null) {
      const { profile } = await profiler.post('Profiler.stop');
      mkdirSync(o.profileDir, { recursive: true });
      writeFileSync(
        join(o.profileDir, `settle-${o.orders}-${Date.now()}.cpuprofile`),
        JSON.stringify(profile),
      );
      profiler.disconnect();
    }
    return {
      ms,
      rowsWritten: result.stateChanges.length,
      flows: result.stateChanges.filter((c) => c.table === 'energy_market_flows').length,
    };
  } finally {
    await chain.close();
  }
}

async function main(): Promise<void> {
  const o = options();
  const runs: Settled[] = [];
  for (let i = 0; i < o.repeat; i++) {
    const settled = await settleOnce(o);
    process.stderr.write(
      `run ${i + 1}/${o.repeat}: SettlePeriod of ${o.orders} orders took ${settled.ms.toFixed(1)} ms, ${settled.rowsWritten} rows written\n`,
    );
    runs.push(settled);
  }
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const summary = {
    mode: o.inProcess ? 'in process' : 'worker thread',
    orders: o.orders,
    traders: o.orders,
    settlements: o.repeat,
    settleMsMin: Number((ms[0] ?? 0).toFixed(1)),
    settleMsMedian: Number((ms[Math.floor(ms.length / 2)] ?? 0).toFixed(1)),
    settleMsMax: Number((ms[ms.length - 1] ?? 0).toFixed(1)),
    rowsWritten: runs[0]?.rowsWritten ?? 0,
    flows: runs[0]?.flows ?? 0,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
