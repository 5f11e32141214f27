// `npm run bench -- [options]`: the end-to-end benchmark of issue 5 (docs/benchmark.md).
//
//   --n 1000,10000,100000     transaction counts (default; --quick: 1000 only)
//   --db pglite|postgres|both default: pglite, plus postgres when DATABASE_URL is set
//   --block-interval-ms 1000  the processor's block interval
//   --submit http|ws          POST /api/transactions/batch with wait (default), or WebSocket submit + watch
//   --connections 32          concurrent requests (http) or WebSocket connections (ws)
//   --batch 500               transactions per batch request (http) or per watch message (ws)
//   --rate R                  http: send at most R tx/s (open loop, for latency at a given load)
//   --traders 1000            traders in the context (each with a producer and a consumer meter)
//   --market                  add the market workload (bench/market-run.ts): a market context whose
//                             traders hold standing orders, a fifth of the load its readings, and
//                             the settlement of every period it filled, timed per period
//   --market-traders 1000     traders of that market (implies --market)
//   --seed bench              the workload's seed (keys, amounts, ids)
//   --repeat 1                runs per (backend, N)
//   --out bench/results       where <timestamp>.json/.svg and latest.json/.svg go
//   --no-node                 skip the mirror node catch-up
//   --no-limits               skip measuring the machine's limits
//   --limits-seconds 2        time per signature-verification measurement
//   --processor-node-args=""  node options for the processor (note the =), e.g. --processor-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
//   --mirror-node-args=""     the same for the mirror node
//   --keep                    keep data directories and databases
//   --stack K                 instead of the runs above: a city of K neighbourhood processors, a
//                             city processor, an uplink per neighbourhood (and a mirror node per
//                             chain unless --no-node), --n meter readings per neighbourhood, all at
//                             once (bench/stack-run.ts; one N, one backend, no limits)
//                             (--n defaults to 10000 readings per neighbourhood there)
//   --households 1000         households per neighbourhood with --stack (every second with solar)

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/database.js';
import { measureInserts, measureVerify } from './limits.js';
import type { InsertLimits, VerifyLimits } from './limits.js';
import { closeness, formatReport, plotReport } from './report.js';
import type { BenchReport } from './report.js';
import { createDatabase, liveChildren, runOnce } from './runner.js';
import { liveStacks, runStack } from './stack-run.js';
import { HOUSEHOLDS_MAX, NEIGHBOURHOODS_MAX } from '../src/city/options.js';
import type { Backend, RunResult, SubmitMode } from './runner.js';

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function usage(message: string): never {
  process.stderr.write(
    `npm run bench: ${message}\nsee the options at the top of bench/run.ts or docs/benchmark.md\n`,
  );
  process.exit(2);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    usage(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        n: { type: 'string' },
        quick: { type: 'boolean', default: false },
        db: { type: 'string' },
        'block-interval-ms': { type: 'string' },
        'block-txs-max': { type: 'string' },
        submit: { type: 'string' },
        connections: { type: 'string' },
        batch: { type: 'string' },
        rate: { type: 'string' },
        traders: { type: 'string' },
        seed: { type: 'string' },
        repeat: { type: 'string' },
        out: { type: 'string' },
        'no-node': { type: 'boolean', default: false },
        'no-limits': { type: 'boolean', default: false },
        'limits-seconds': { type: 'string' },
        'processor-node-args': { type: 'string' },
        'mirror-node-args': { type: 'string' },
        keep: { type: 'boolean', default: false },
        market: { type: 'boolean', default: false },
        'market-traders': { type: 'string' },
        stack: { type: 'string' },
        households: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  const databaseUrl = process.env['DATABASE_URL'] === '' ? undefined : process.env['DATABASE_URL'];
  const ns =
    values.n !== undefined
      ? values.n.split(',').map((s) => positiveInt('n', s.trim(), 0))
      : values.quick
        ? [1000]
        : values.stack !== undefined
          ? [10_000]
          : [1000, 10_000, 100_000];
  const dbChoice = values.db ?? (databaseUrl !== undefined ? 'both' : 'pglite');
  if (!['pglite', 'postgres', 'both'].includes(dbChoice))
    usage(`--db must be pglite, postgres or both, got ${JSON.stringify(dbChoice)}`);
  const backends: Backend[] = dbChoice === 'both' ? ['pglite', 'postgres'] : [dbChoice as Backend];
  if (backends.includes('postgres') && databaseUrl === undefined)
    usage('--db postgres needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  const submit = (values.submit ?? 'http') as SubmitMode;
  if (submit !== 'http' && submit !== 'ws')
    usage(`--submit must be http or ws, got ${JSON.stringify(values.submit)}`);
  const options = {
    ns,
    backends,
    blockIntervalMs: positiveInt('block-interval-ms', values['block-interval-ms'], 1000),
    blockTxsMax:
      values['block-txs-max'] === undefined
        ? null
        : positiveInt('block-txs-max', values['block-txs-max'], 1),
    submit,
    connections: positiveInt('connections', values.connections, submit === 'http' ? 32 : 8),
    batchSize: positiveInt('batch', values.batch, 500),
    rate: values.rate === undefined ? null : positiveInt('rate', values.rate, 1),
    traders: positiveInt('traders', values.traders, 1000),
    marketTraders:
      values.market || values['market-traders'] !== undefined
        ? positiveInt('market-traders', values['market-traders'], 1000)
        : null,
    seed: values.seed ?? 'bench',
    repeat: positiveInt('repeat', values.repeat, 1),
    node: !values['no-node'],
    limits: !values['no-limits'],
    limitsSeconds: positiveInt('limits-seconds', values['limits-seconds'], values.quick ? 1 : 2),
    processorNodeArgs: (values['processor-node-args'] ?? '').split(/\s+/).filter((a) => a !== ''),
    mirrorNodeArgs: (values['mirror-node-args'] ?? '').split(/\s+/).filter((a) => a !== ''),
    keep: values.keep,
    out: resolve(values.out ?? 'bench/results'),
  };
  if (options.batchSize > 1000) usage("--batch must be at most 1000 (the server's batch limit)");
  if (options.traders < 1000)
    log(`note: ${options.traders} traders; the issue asks for 1,000 or more`);
  if (!/^[A-Za-z0-9._:-]{1,40}$/.test(options.seed))
    usage('--seed must be 1-40 characters of letters, digits, ".", "_", ":" or "-"');

  if (values.stack !== undefined) {
    if (ns.length !== 1 || backends.length !== 1 || options.repeat !== 1)
      usage('--stack takes one --n, one --db (pglite or postgres) and no --repeat');
    if (options.marketTraders !== null || options.rate !== null || submit !== 'http')
      usage('--stack sends meter readings over http: it takes no --market, --rate or --submit ws');
    return stackMain(values.stack, values.households, {
      ...options,
      n: ns[0] as number,
      backend: backends[0] as Backend,
      databaseUrl,
    });
  }
  if (values.households !== undefined) usage('--households goes with --stack');

  const startedAt = new Date();
  const loadBefore = loadavg()[0] ?? 0;
  if (options.rate !== null && submit !== 'http') usage('--rate works with --submit http');
  log(
    `N = ${ns.join(', ')} on ${backends.join(' and ')}, ${submit} × ${options.connections}, batches of ${options.batchSize}${options.rate === null ? '' : `, paced to ${options.rate} tx/s`}, ${options.blockIntervalMs} ms blocks`,
  );

  // ---- The machine's limits ----
  let verify: VerifyLimits | null = null;
  const inserts: InsertLimits[] = [];
  if (options.limits) {
    log(`limits: signature verification (${options.limitsSeconds} s per measurement)`);
    verify = await measureVerify(options.limitsSeconds);
    log(
      `limits: ${verify.inlinePerSecond.toFixed(0)}/s inline, ${verify.pool1PerSecond.toFixed(0)}/s 1 worker, ${verify.poolAllPerSecond.toFixed(0)}/s ${verify.poolAllWorkers} workers`,
    );
    const insertOpts = { batches: 10, batchRows: 10_000, singleRows: 2000 };
    for (const backend of backends) {
      log(`limits: batched inserts on ${backend}`);
      if (backend === 'pglite') {
        const dir = await mkdtemp(join(tmpdir(), 'hz-bench-limits-'));
        const db = await openDatabase({ dataDir: dir });
        try {
          inserts.push(await measureInserts(db, insertOpts));
        } finally {
          await db.close();
          await rm(dir, { recursive: true, force: true });
        }
      } else if (databaseUrl !== undefined) {
        const fresh = await createDatabase(databaseUrl, 'hz_bench_limits');
        const db = await openDatabase({ databaseUrl: fresh.url });
        try {
          inserts.push(await measureInserts(db, insertOpts));
        } finally {
          await db.close();
          await fresh.drop();
        }
      }
      const l = inserts[inserts.length - 1];
      if (l !== undefined)
        log(
          `limits: ${backend} ${l.batchedRowsPerSecond.toFixed(0)} rows/s batched, ${l.singleRowPerSecond.toFixed(0)} rows/s single`,
        );
    }
  }

  // ---- The runs ----
  const runs: RunResult[] = [];
  for (const n of ns) {
    for (const backend of backends) {
      for (let k = 0; k < options.repeat; k++) {
        try {
          runs.push(
            await runOnce({
              backend,
              n,
              baseDatabaseUrl: databaseUrl,
              blockIntervalMs: options.blockIntervalMs,
              blockTxsMax: options.blockTxsMax,
              submit,
              connections: options.connections,
              batchSize: options.batchSize,
              rate: options.rate,
              traders: options.traders,
              marketTraders: options.marketTraders,
              seed: options.repeat > 1 ? `${options.seed}-${k + 1}` : options.seed,
              node: options.node,
              keep: options.keep,
              processorNodeArgs: options.processorNodeArgs,
              mirrorNodeArgs: options.mirrorNodeArgs,
              log,
            }),
          );
        } catch (err) {
          log(
            `run ${backend} N=${n} could not complete: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
          );
          runs.push(abortedRun(backend, n, options, err));
        }
      }
    }
  }

  const report: BenchReport = {
    tool: 'hanzenet-bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryBytes: totalmem(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg()[0] ?? 0,
    },
    options: { ...options, databaseUrl: databaseUrl === undefined ? null : redact(databaseUrl) },
    limits: { verify, inserts },
    runs: runs.map((r) => ({ ...r, closeness: closeness(r, runs, verify, inserts) })),
  };
  await mkdir(options.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  const svg = plotReport(report);
  await writeFile(join(options.out, `${stamp}.json`), json);
  await writeFile(join(options.out, `${stamp}.svg`), svg);
  await writeFile(join(options.out, 'latest.json'), json);
  await writeFile(join(options.out, 'latest.svg'), svg);
  process.stdout.write(formatReport(report) + '\n');
  log(`wrote ${join(options.out, `${stamp}.json`)} and .svg (also latest.json, latest.svg)`);
  if (runs.some((r) => !r.ok)) process.exitCode = 1;
}

function machineInfo(loadBefore: number): BenchReport['machine'] {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg()[0] ?? 0,
  };
}

/** `--stack K`: the city on K + 1 processors; its report has no runs, only `stack`. */
async function stackMain(
  kText: string,
  householdsText: string | undefined,
  o: {
    n: number;
    backend: Backend;
    databaseUrl: string | undefined;
    blockIntervalMs: number;
    connections: number;
    seed: string;
    node: boolean;
    keep: boolean;
    out: string;
  },
): Promise<void> {
  const neighbourhoods = positiveInt('stack', kText, 1);
  if (neighbourhoods > NEIGHBOURHOODS_MAX)
    usage(`--stack must be 1 to ${NEIGHBOURHOODS_MAX}, got ${neighbourhoods}`);
  const households = positiveInt('households', householdsText, 1000);
  if (households > HOUSEHOLDS_MAX)
    usage(`--households must be 1 to ${HOUSEHOLDS_MAX}, got ${households}`);
  const startedAt = new Date();
  const loadBefore = loadavg()[0] ?? 0;
  const stack = await runStack({
    neighbourhoods,
    households,
    readingsPerNeighbourhood: o.n,
    backend: o.backend,
    baseDatabaseUrl: o.databaseUrl,
    blockIntervalMs: o.blockIntervalMs,
    // Per neighbourhood: the closed loop's requests in flight, shared out over the neighbourhoods.
    lanes: Math.max(1, Math.floor(o.connections / neighbourhoods)),
    seed: o.seed,
    node: o.node,
    keep: o.keep,
    log,
  });
  const report: BenchReport = {
    tool: 'hanzenet-bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(loadBefore),
    options: {
      stack: neighbourhoods,
      households,
      n: o.n,
      backend: o.backend,
      blockIntervalMs: o.blockIntervalMs,
      connections: o.connections,
      seed: o.seed,
      node: o.node,
      databaseUrl: o.databaseUrl === undefined ? null : redact(o.databaseUrl),
    },
    limits: { verify: null, inserts: [] },
    runs: [],
    stack,
  };
  await mkdir(o.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  await writeFile(join(o.out, `${stamp}-stack.json`), json);
  await writeFile(join(o.out, 'latest-stack.json'), json);
  process.stdout.write(formatReport(report) + '\n');
  log(`wrote ${join(o.out, `${stamp}-stack.json`)} (also latest-stack.json)`);
  if (!stack.ok) process.exitCode = 1;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'unparseable';
  }
}

function abortedRun(
  backend: Backend,
  n: number,
  o: {
    submit: SubmitMode;
    blockIntervalMs: number;
    connections: number;
    batchSize: number;
    rate: number | null;
    traders: number;
    seed: string;
  },
  err: unknown,
): RunResult {
  return {
    backend,
    n,
    submit: o.submit,
    blockIntervalMs: o.blockIntervalMs,
    connections: o.connections,
    batchSize: o.batchSize,
    rate: o.rate,
    traders: o.traders,
    seed: o.seed,
    ok: false,
    failures: [`the run could not complete: ${err instanceof Error ? err.message : String(err)}`],
    seconds: null,
    txPerSecond: null,
    latencyMs: null,
    processor: {
      pid: 0,
      cpuSeconds: null,
      cpuPercentOfOneCore: null,
      peakRssBytes: null,
      maxRssDuringRunBytes: null,
    },
    postgresBackends: null,
    client: { cpuPercentOfOneCore: null },
    databaseBytes: null,
    statuses: { accepted: 0, rejected: 0, invalid: 0, missing: n, admissionErrors: 0, retried: 0 },
    inBlocks: { acceptedOnce: 0, duplicates: 0 },
    mix: { produce: 0, consume: 0, transfer: 0, reduce: 0, mutate: 0 },
    blocks: { count: 0, maxTxs: 0, meanTxs: 0, firstHeight: null, lastHeight: null },
    blockWork: null,
    rowsPerTx: null,
    dbTransactionsPerTx: null,
    setup: { txs: 0, warmupRounds: 0, periodBlock: null, creditedTraders: 0, seconds: 0 },
    generationSeconds: 0,
    node: {
      status: 'skipped',
      seconds: null,
      txPerSecond: null,
      startSeconds: null,
      verifyTxPerSecond: null,
      chainTxs: 0,
      cpuSeconds: null,
      peakRssBytes: null,
      note: 'the run did not complete',
    },
    market: null,
  };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(
      `${signal}: stopping ${liveChildren.size} child process(es); temporary folders and databases of the current run stay behind`,
    );
    for (const child of liveChildren) child.kill('SIGTERM');
    for (const stack of liveStacks) for (const service of stack.list()) service.kill('SIGTERM');
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
