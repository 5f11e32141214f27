// `npm run sim`: runs the deterministic simulator (docs/decisions/0004).
//
//   npm run sim -- --seed 42              one seed: one JSON line on stdout
//   npm run sim -- --seeds 1..500         a range: progress on stderr, a JSON summary on stdout
//   options: --steps N, --nodes N, --households N, --no-shrink
//
// A failing seed exits 1: its summary, how to replay it, and the smallest failing configuration
// found by replaying it smaller, with the tail of that run's trace. Bad arguments exit 2.

import { describeFaultPlan } from './faults.js';
import { DEFAULT_OPTIONS, runSimulation } from './run.js';
import type { SimOptions, SimResult } from './run.js';
import { shrinkFailure } from './shrink.js';

const TRACE_TAIL_LINES = 60;
const SEEDS_MAX = 10_000_000;

interface Args {
  readonly from: number;
  readonly to: number;
  readonly range: boolean;
  readonly steps: number;
  readonly nodes: number;
  readonly households: number;
  readonly shrink: boolean;
}

class UsageError extends Error {}

function count(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `${name} takes an integer from ${min} to ${max}, got ${JSON.stringify(text ?? null)}`,
    );
  return n;
}

export function parseSimArgs(argv: readonly string[]): Args {
  let seeds: { from: number; to: number; range: boolean } | null = null;
  let steps: number = DEFAULT_OPTIONS.steps;
  let nodes: number = DEFAULT_OPTIONS.nodes;
  let households: number = DEFAULT_OPTIONS.households;
  let shrink = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    switch (arg) {
      case '--seed': {
        const seed = count('--seed', value, 0, Number.MAX_SAFE_INTEGER);
        seeds = { from: seed, to: seed, range: false };
        i++;
        break;
      }
      case '--seeds': {
        const m = /^(\d+)\.\.(\d+)$/.exec(value ?? '');
        if (m === null)
          throw new UsageError(`--seeds takes A..B, got ${JSON.stringify(value ?? null)}`);
        const from = count('--seeds start', m[1], 0, Number.MAX_SAFE_INTEGER);
        const to = count('--seeds end', m[2], from, from + SEEDS_MAX - 1);
        seeds = { from, to, range: true };
        i++;
        break;
      }
      case '--steps':
        steps = count('--steps', value, 1, 10_000_000);
        i++;
        break;
      case '--nodes':
        nodes = count('--nodes', value, 1, 8);
        i++;
        break;
      case '--households':
        households = count('--households', value, 1, 64);
        i++;
        break;
      case '--no-shrink':
        shrink = false;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (seeds === null) throw new UsageError('give --seed S or --seeds A..B');
  return { ...seeds, steps, nodes, households, shrink };
}

function summary(r: SimResult): Record<string, unknown> {
  return {
    seed: r.seed,
    plan: r.plan,
    steps: r.steps,
    virtualMs: r.virtualMs,
    blocks: r.blocks,
    txsConfirmed: r.txsConfirmed,
    faults: r.faults,
    result: r.result,
    ...(r.violation === null ? {} : { violation: r.violation }),
    traceDigest: r.traceDigest,
  };
}

function replayCommand(o: SimOptions): string {
  return `npm run sim -- --seed ${o.seed} --steps ${o.steps} --nodes ${o.nodes} --households ${o.households}`;
}

async function reportFailure(args: Args, options: SimOptions, result: SimResult): Promise<void> {
  process.stderr.write(`seed ${result.seed} failed: ${JSON.stringify(result.violation)}\n`);
  process.stderr.write(`replay: ${replayCommand(options)}\n`);
  if (!args.shrink) {
    process.stderr.write(`${result.trace.format(TRACE_TAIL_LINES)}\n`);
    return;
  }
  const shrunk = await shrinkFailure(options, result, 24, (what, fails) =>
    process.stderr.write(`shrinking: ${what}: ${fails ? 'still fails' : 'passes'}\n`),
  );
  const o = shrunk.options;
  process.stderr.write(
    `smallest failing configuration (${shrunk.replays} replays): steps ${o.steps}, households ${o.households}, nodes ${o.nodes}, faults ${o.plan === undefined ? 'of the seed' : describeFaultPlan(o.plan)}\n`,
  );
  process.stderr.write(`its violation: ${JSON.stringify(shrunk.result.violation)}\n`);
  process.stderr.write(`the last ${TRACE_TAIL_LINES} entries of its trace:\n`);
  process.stderr.write(`${shrunk.result.trace.format(TRACE_TAIL_LINES)}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ error: { code: 'usage_error', message: err.message } })}\n`,
    );
    return 2;
  }
  const startedMs = performance.now();
  let ok = 0;
  for (let seed = args.from; seed <= args.to; seed++) {
    const options: SimOptions = {
      seed,
      steps: args.steps,
      nodes: args.nodes,
      households: args.households,
    };
    const result = await runSimulation(options);
    if (!args.range) process.stdout.write(`${JSON.stringify(summary(result))}\n`);
    if (result.violation !== null) {
      if (args.range) process.stdout.write(`${JSON.stringify(summary(result))}\n`);
      await reportFailure(args, options, result);
      return 1;
    }
    ok++;
    if (args.range) {
      const seconds = (performance.now() - startedMs) / 1000;
      process.stderr.write(
        `seed ${seed} ok: ${result.blocks} blocks, ${result.txsConfirmed} txs confirmed (${ok} seeds, ${(ok / seconds).toFixed(2)} seeds/s)\n`,
      );
    }
  }
  if (args.range) {
    const seconds = (performance.now() - startedMs) / 1000;
    process.stdout.write(
      `${JSON.stringify({ seeds: `${args.from}..${args.to}`, ok, failed: 0, seconds: Math.round(seconds), seedsPerSecond: Number((ok / seconds).toFixed(3)) })}\n`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
