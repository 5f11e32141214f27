// The benchmark's own pieces, without running the benchmark: the workload generator's promise that
// every timed transaction is accepted in any order (checked by executing the generated, signed
// transactions on the real engine, test/support/energy-chain.ts), the SVG writer producing
// well-formed SVG, and the profile comparison; and `--stack 1` run as a user runs it, with tiny
// numbers, for the report's stack fields.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyTxSignature } from '../src/chain/tx.js';
import { compareProfiles, formatComparison } from '../bench/profile.js';
import type { CpuProfile } from '../bench/profile.js';
import { closeness, cpuBudget, formatReport, plotReport } from '../bench/report.js';
import type { BenchReport } from '../bench/report.js';
import type { RunResult } from '../bench/runner.js';
import type { StackResult } from '../bench/stack-report.js';
import { escapeXml, svgDocument } from '../bench/svg.js';
import {
  SETTLEMENT_PERIOD_MS,
  SpendableModel,
  deviceTxs,
  kwhText,
  mixOf,
  participants,
  timedTxs,
  traderTxs,
  warmupTxs,
} from '../bench/workload.js';
import type { BenchTx, ContractHashes } from '../bench/workload.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { EnergyChain, closeEnergyChains } from './support/energy-chain.js';
import { TEST_CHAIN_ID } from './support/test-chain.js';

// Signed for the test chain with the real contract hashes, so that the chain runs them as they are.
const CHAIN_ID = TEST_CHAIN_ID;
const HASHES: ContractHashes = Object.fromEntries(
  ENERGY_CONTRACTS.map((def) => [def.type, packContract(def).hashHex]),
);
const CTX = { chainId: CHAIN_ID, hashes: HASHES };

after(closeEnergyChains);
const TRADERS = 40;
const N = 600;

async function executeAll(
  chain: EnergyChain,
  txs: readonly BenchTx[],
  what: string,
): Promise<void> {
  const outcomes = await chain.executeTxs(txs.map((t) => t.tx));
  for (const [i, t] of txs.entries()) {
    const outcome = outcomes[i];
    if (outcome === undefined) assert.fail(`${what}: no outcome for ${t.kind}`);
    if (outcome.status !== 'accepted')
      assert.fail(
        `${what}: ${t.kind} ${JSON.stringify(t.payload)} ended ${outcome.status}: ${outcome.code}: ${outcome.message}`,
      );
  }
}

/** A chain with the context set up and the warm-up booked in period 102; returns the model. */
async function preparedChain(): Promise<{
  chain: EnergyChain;
  model: SpendableModel;
  people: ReturnType<typeof participants>;
}> {
  const people = participants('smoke', TRADERS);
  // 10:00:30 UTC: the warm-up block and the first timed blocks share the 10:00-10:15 period.
  const chain = await EnergyChain.open({
    height: 100,
    processedMs: Date.UTC(2026, 0, 1, 10, 0, 30),
  });
  await executeAll(chain, traderTxs(CTX, people), 'traders');
  await chain.nextBlock();
  await executeAll(chain, deviceTxs(CTX, people), 'devices');
  await chain.nextBlock();
  const warmup = warmupTxs(CTX, people, 0);
  await executeAll(chain, warmup, 'warm-up');
  const model = new SpendableModel(TRADERS);
  for (const t of warmup) if (t.credit !== undefined) model.credit(t.credit.trader, t.credit.wh);
  return { chain, model, people };
}

test('the timed load is accepted by the real energy contracts in any order, across blocks and periods', async () => {
  const { chain: forward, model, people } = await preparedChain();
  assert.equal(forward.height, 102);
  const timed = timedTxs(CTX, people, { n: N, periodBlock: 102, model });
  assert.equal(timed.length, N);
  const mix = mixOf(timed);
  assert.ok(
    mix.transfer > 0 && mix.reduce > 0 && mix.mutate > 0 && mix.produce > 0 && mix.consume > 0,
    JSON.stringify(mix),
  );
  assert.ok(mix.produce + mix.consume > N * 0.85, `mostly Energy: ${JSON.stringify(mix)}`);

  // In order, 100 per block, the second half in the next settlement period.
  for (let i = 0; i < N; i += 100) {
    await forward.nextBlock(i === N / 2 ? SETTLEMENT_PERIOD_MS : 1000);
    await executeAll(forward, timed.slice(i, i + 100), `in order, block ${forward.height}`);
  }

  // Adversarial: every spend first (largest first), then settlement, then the readings.
  await forward.close();
  const { chain: spendsFirst } = await preparedChain();
  await spendsFirst.nextBlock();
  const rank = (t: BenchTx): number =>
    t.kind === 'transfer' || t.kind === 'reduce' ? 0 : t.kind === 'mutate' ? 1 : 2;
  const amount = (t: BenchTx): number => Math.abs(Number(t.payload['amount']));
  await executeAll(
    spendsFirst,
    [...timed].sort((a, b) => rank(a) - rank(b) || amount(b) - amount(a)),
    'spends first',
  );

  // Reversed, one block.
  await spendsFirst.close();
  const { chain: reversed } = await preparedChain();
  await reversed.nextBlock();
  await executeAll(reversed, [...timed].reverse(), 'reversed');
});

test('generated transactions are signed for the chain, deterministic, and carry exact kWh', () => {
  const people = participants('smoke', 4);
  const a = traderTxs(CTX, people);
  const b = traderTxs(CTX, participants('smoke', 4));
  assert.deepEqual(
    a.map((t) => t.tx.idHex),
    b.map((t) => t.tx.idHex),
  );
  assert.notDeepEqual(
    a.map((t) => t.tx.idHex),
    traderTxs(CTX, participants('other', 4)).map((t) => t.tx.idHex),
  );
  const all = [...a, ...deviceTxs(CTX, people), ...warmupTxs(CTX, people, 0)];
  for (const t of all) {
    assert.ok(verifyTxSignature(t.tx, CHAIN_ID), `${t.kind} verifies`);
    assert.equal(t.tx.sender, t.sender);
    assert.equal(t.tx.payloadText, JSON.stringify(t.payload));
    assert.equal(Buffer.from(t.base64, 'base64').equals(Buffer.from(t.tx.bytes)), true);
    assert.equal(t.tx.validTillMs, 0);
  }
  assert.equal(kwhText(7), '0.007');
  assert.equal(kwhText(-1250), '-1.250');
  assert.equal(kwhText(12000), '12.000');
});

/** A small well-formedness check: balanced tags, quoted attributes, no raw < or bare & in text. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let last = 0;
  for (const m of body.matchAll(/<[^<>]*>/g)) {
    const text = body.slice(last, m.index);
    assert.ok(
      !/[<>]/.test(text),
      `raw angle bracket in text near ${JSON.stringify(text.slice(0, 60))}`,
    );
    assert.ok(
      !/&(?!(lt|gt|amp|apos|quot|#\d+);)/.test(text),
      `bare & in text ${JSON.stringify(text.slice(0, 60))}`,
    );
    last = m.index + m[0].length;
    const tag = m[0];
    const close = /^<\/([A-Za-z][\w:-]*)\s*>$/.exec(tag);
    if (close) {
      assert.equal(stack.pop(), close[1], `closing ${tag}`);
      continue;
    }
    const open = /^<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(tag);
    assert.ok(open, `malformed tag ${tag.slice(0, 120)}`);
    if (open[3] !== '/') stack.push(open[1] as string);
  }
  assert.equal(body.slice(last).trim(), '');
  assert.deepEqual(stack, []);
  assert.ok(body.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
}

function fakeRun(
  backend: 'pglite' | 'postgres',
  n: number,
  seconds: number,
  ok: boolean,
): RunResult {
  return {
    backend,
    n,
    submit: 'http',
    blockIntervalMs: 1000,
    connections: 32,
    batchSize: 500,
    rate: null,
    traders: 1000,
    seed: 's',
    ok,
    failures: ok ? [] : ['1 rejected'],
    seconds,
    txPerSecond: ok ? n / seconds : null,
    latencyMs: { p50: 500, p95: 900, p99: 1000, max: 1100, mean: 520 },
    processor: {
      pid: 1,
      cpuSeconds: 1,
      cpuPercentOfOneCore: 90,
      peakRssBytes: 300 * 2 ** 20,
      maxRssDuringRunBytes: 290 * 2 ** 20,
    },
    postgresBackends: backend === 'postgres' ? { cpuSeconds: 1, cpuPercentOfOneCore: 20 } : null,
    client: { cpuPercentOfOneCore: 10 },
    databaseBytes: 50 * 2 ** 20,
    statuses: { accepted: n, rejected: 0, invalid: 0, missing: 0, admissionErrors: 0, retried: 0 },
    inBlocks: { acceptedOnce: n, duplicates: 0 },
    mix: { produce: 1, consume: 1, transfer: 1, reduce: 1, mutate: 1 },
    blocks: { count: 3, maxTxs: 10, meanTxs: 5, firstHeight: 5, lastHeight: 7 },
    blockWork: { executeSeconds: 1.5, storeReads: 12, storeReadSeconds: 0.1, commitSeconds: 0.4 },
    rowsPerTx: backend === 'postgres' ? 2.5 : null,
    dbTransactionsPerTx: null,
    setup: { txs: 4001, warmupRounds: 1, periodBlock: 5, creditedTraders: 1000, seconds: 8 },
    generationSeconds: 1,
    node: {
      status: 'skipped',
      seconds: null,
      txPerSecond: null,
      startSeconds: null,
      verifyTxPerSecond: null,
      chainTxs: 0,
      cpuSeconds: null,
      peakRssBytes: null,
      note: 'not available <yet> & "so"',
    },
    market: null,
  };
}

test('the SVG writer draws well-formed SVG, escaping names', () => {
  const plain = svgDocument(
    [
      {
        title: 'A <b> & "c"',
        xLabel: 'x',
        yLabel: 'y',
        xLog: true,
        yLog: false,
        series: [
          {
            name: "it's <odd> & fine",
            color: '#123456',
            points: [
              { x: 10, y: 1 },
              { x: 1000, y: 3, bad: true },
            ],
          },
        ],
      },
    ],
    { caption: '1 < 2 & 3 > 2' },
  );
  assertWellFormedXml(plain);
  assert.ok(plain.includes('A &lt;b&gt; &amp; &quot;c&quot;'));
  assert.equal(escapeXml(`<&>'"`), '&lt;&amp;&gt;&apos;&quot;');

  const runs = [
    fakeRun('pglite', 1000, 2, true),
    fakeRun('postgres', 1000, 1, true),
    fakeRun('pglite', 10_000, 20, false),
    fakeRun('postgres', 10_000, 5, true),
  ];
  const report: BenchReport = {
    tool: 'hanzenet-bench',
    version: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    command: 'npm run bench',
    machine: {
      cpuModel: 'test',
      cores: 2,
      memoryBytes: 2 ** 34,
      node: 'v20',
      platform: 'linux x64',
      loadAverageBefore: 0,
      loadAverageAfter: 0,
    },
    options: { blockIntervalMs: 1000 },
    limits: {
      verify: {
        binding: 'test',
        cores: 2,
        inlinePerSecond: 20_000,
        pool1PerSecond: 19_000,
        poolAllPerSecond: 36_000,
        poolAllWorkers: 2,
      },
      inserts: [
        {
          backend: 'postgres',
          batchRows: 10_000,
          batches: 10,
          batchedRowsPerSecond: 80_000,
          singleRowPerSecond: 5000,
          singleRows: 2000,
        },
      ],
    },
    runs: runs.map((r) => ({ ...r, closeness: closeness(r, runs, null, []) })),
  };
  const svg = plotReport(report);
  assertWellFormedXml(svg);
  assert.ok(
    svg.includes('pglite (http)') &&
      svg.includes('postgres (http)') &&
      svg.includes('thesis: 37.86 tx/s'),
  );
  const c = closeness(runs[1] as RunResult, runs, report.limits.verify, report.limits.inserts);
  assert.ok(c !== null);
  assert.equal(c.lowerLimit, 'insert'); // 80,000 rows/s ÷ 2.5 rows/tx = 32,000 tx/s < 36,000 verifications/s
  assert.equal(Math.round(c.insertLimitTxPerSecond ?? 0), 32_000);
  assert.ok(formatReport(report).includes('FAILED'));
  // postgres N=1,000 in 1 s: processor 1 s, PostgreSQL 1 s, client 10% of 1 s = 2.1 s of CPU for 1,000 transactions.
  const b = cpuBudget(runs[1] as RunResult, 2);
  assert.ok(b !== null);
  assert.deepEqual(
    [b.processorUs, b.postgresUs ?? -1, b.clientUs, b.totalUs].map(Math.round),
    [1000, 1000, 100, 2100],
  );
  assert.equal(Math.round(b.ceilingTxPerSecond), 952);
  assert.ok(
    formatReport(report).includes(
      'postgres N=1000: CPU per transaction: processor 1000 + PostgreSQL 1000 + client 100 = 2100 µs; 2 cores allow at most 952 tx/s',
    ),
  );
});

/** A profile whose samples spent `msByFrame` ms in each frame (function, file URL, line). */
function fakeProfile(frames: readonly [string, string, number, number][]): CpuProfile {
  const nodes = frames.map(([functionName, url, lineNumber], i) => ({
    id: i + 1,
    callFrame: { functionName, url, lineNumber },
  }));
  const samples: number[] = [];
  const timeDeltas: number[] = [0];
  frames.forEach(([, , , ms], i) => {
    for (let k = 0; k < ms; k++) {
      samples.push(i + 1);
      timeDeltas.push(1000);
    }
  });
  return { nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas };
}

test('the profile comparison matches functions across lines, sums threads and applies the gauge', () => {
  const before = [
    fakeProfile([
      ['(idle)', '', -1, 50],
      ['commit', 'file:///w/a/dist/src/store/commit.js', 10, 30],
      ['', 'file:///w/a/dist/src/api/routes.js', 5, 4],
    ]),
    fakeProfile([['ecdsaVerify', 'file:///w/a/node_modules/secp256k1/lib/index.js', 285, 20]]),
  ];
  const after = [
    fakeProfile([
      ['commit', 'file:///w/b/dist/src/store/commit.js', 12, 45],
      ['', 'file:///w/b/dist/src/api/routes.js', 9, 4],
    ]),
    fakeProfile([['ecdsaVerify', 'file:///w/b/node_modules/secp256k1/lib/index.js', 285, 30]]),
  ];
  const c = compareProfiles(before, after, 10, 'ecdsaVerify');
  assert.deepEqual(c.beforeThreadsMs, [34, 20]);
  assert.deepEqual(c.afterThreadsMs, [49, 30]);
  assert.equal(c.beforeBusyMs, 54);
  assert.equal(c.afterBusyMs, 79);
  assert.equal(c.beforeGaugeMs, 20);
  assert.equal(c.afterGaugeMs, 30);
  assert.deepEqual(c.rows, [
    { name: 'commit commit.js', beforeMs: 30, afterMs: 45 },
    { name: 'ecdsaVerify index.js', beforeMs: 20, afterMs: 30 },
    { name: '(anonymous) routes.js', beforeMs: 4, afterMs: 4 },
  ]);
  const text = formatComparison(c, 'ecdsaVerify');
  // 79 / 54 = 1.463 as measured; the gauge ran 1.5 times slower, so 79 / 1.5 / 54 = 0.975.
  assert.ok(text.includes('after/before 1.463'), text);
  assert.ok(text.includes("divided by the gauge's: 0.975"), text);
  assert.ok(text.includes('      30       45       +15  commit commit.js'), text);
  const none = formatComparison(compareProfiles(before.slice(0, 1), after, 10, 'ecdsaVerify'), 'x');
  assert.ok(none.includes('gauge x: not in both sets of profiles'), none);
});

const BENCH = fileURLToPath(new URL('../bench/run.js', import.meta.url));

/** Runs `node dist/bench/run.js args` to its end; its exit code and output. */
function runBench(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['DATABASE_URL'];
    const proc = spawn(process.execPath, [BENCH, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.once('error', reject);
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bench --stack 1 reports the aggregate, the CPU per reading and each period through the city', {
  timeout: 240_000,
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'hz-bench-stack-test-'));
  try {
    const run = await runBench([
      '--stack',
      '1',
      '--households',
      '4',
      '--n',
      '24',
      '--no-node',
      '--out',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const report = JSON.parse(
      await readFile(join(out, 'latest-stack.json'), 'utf8'),
    ) as BenchReport;
    const stack = report.stack as StackResult;
    assert.ok(stack !== undefined, 'the report has its stack part');
    assert.deepEqual(report.runs, []);
    assert.equal(stack.ok, true, stack.failures.join('\n'));
    assert.equal(stack.neighbourhoods, 1);
    assert.equal(stack.meters, 6, 'a house meter per household, a solar meter every second');
    assert.equal(stack.processors.length, 1);
    assert.equal(stack.processors[0]?.readings, 24);
    assert.equal(
      stack.readings,
      stack.processors.reduce((s, p) => s + p.readings, 0),
    );
    assert.ok(stack.seconds > 0);
    assert.ok(Math.abs(stack.txPerSecond - stack.readings / stack.seconds) < 1e-6);
    const cpu = stack.cpu.perTxUs;
    assert.ok(cpu.neighbourhoodProcessors > 0, 'the processor worked');
    assert.ok(cpu.loadGenerator > 0, 'the load generator worked');
    assert.equal(cpu.postgres, null, 'PGlite: no server to measure');
    assert.ok(
      Math.abs(cpu.total - (cpu.neighbourhoodProcessors + cpu.cityProcessor + cpu.loadGenerator)) <
        1e-6,
    );
    assert.ok(stack.periods.length >= 1);
    for (const p of stack.periods) {
      assert.equal(p.periodEndMs - p.periodStartMs, stack.periodSeconds * 1000);
      const n1 = p.neighbourhoods[0];
      assert.equal(n1?.name, 'n1');
      assert.equal(n1?.missed, false, 'the position reached the city before its gate closure');
      assert.ok((n1?.localSettledAfterEndMs ?? 0) > 0);
      assert.ok(
        (n1?.citySettledAfterEndMs ?? 0) > (n1?.localSettledAfterEndMs ?? 0),
        'the city settles after the neighbourhood',
      );
      assert.ok(
        (n1?.arrivedAfterEndMs ?? 0) > (n1?.citySettledAfterEndMs ?? 0),
        'and the settlement comes down after that',
      );
      assert.equal(p.citySettledAfterEndMs, n1?.citySettledAfterEndMs);
      assert.equal(p.lastArrivalAfterEndMs, n1?.arrivedAfterEndMs);
    }
    assert.match(run.stdout, /cannot grow linearly/);
    assert.match(run.stdout, /24 readings in [0-9.]+ s/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
