// Summarises V8 CPU profiles (.cpuprofile, as written by `node --cpu-prof`): the functions and the
// files with the most self time. Each thread writes its own profile (main thread, signature
// workers, executor worker), so each file is summarised on its own.
//
//   node dist/bench/profile.js /tmp/prof            (every .cpuprofile in the folder)
//   node dist/bench/profile.js a.cpuprofile --top 30
//   node dist/bench/profile.js --compare /tmp/prof-before /tmp/prof-after
//
// --compare adds up the self time of every thread of each folder and lists the functions whose
// self time changed most, keyed by function name and file name without line or folder, so that a
// function that only moved to another line still matches (one that moved to another file shows as
// two rows). It also prints a contention gauge: the self time of --gauge (default ecdsaVerify, the
// signature check, done once per transaction), which does the same work in both folders when both
// runs had the same transactions. Its ratio says how much slower the machine itself ran; busy time
// divided by it is the comparison that other load on the machine does not skew.
//
// Profile the processor during a benchmark with:
//   npm run bench -- --n 10000 --db postgres --processor-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Time not idle: everything but "(idle)". */
  readonly busyMs: number;
  readonly functions: readonly SelfTime[];
  readonly files: readonly SelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const clean = url.replace(/^file:\/\//, '');
  const at = clean.search(/\/(dist|node_modules)\//);
  return at >= 0 ? clean.slice(at + 1) : clean.startsWith('node:') ? clean : basename(clean);
}

export function summarise(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  let idle = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time after it (until the next) is its cost.
    const us = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i] as number);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    const name = `${functionName === '' ? '(anonymous)' : functionName}${where === '' ? '' : ` ${where}:${lineNumber + 1}`}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = where === '' ? functionName : where;
    file.set(f, (file.get(f) ?? 0) + us);
    total += us;
    if (functionName === '(idle)') idle += us;
  }
  const list = (m: Map<string, number>): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: total === 0 ? 0 : us / total }));
  return {
    totalMs: total / 1000,
    busyMs: (total - idle) / 1000,
    functions: list(fn),
    files: list(file),
  };
}

/** Self time in µs per `function file` (file name without folder or line), and the busy total. */
export function selfTimeByFunction(profile: CpuProfile): {
  busyUs: number;
  byFunction: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busyUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i] as number);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url } = node.callFrame;
    const file = url === '' ? '' : basename(shortUrl(url));
    const key = `${functionName === '' ? '(anonymous)' : functionName}${file === '' ? '' : ` ${file}`}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    busyUs += us;
  }
  return { busyUs, byFunction };
}

export interface ProfileComparison {
  /** Busy ms of each profile (thread), in file order. */
  readonly beforeThreadsMs: readonly number[];
  readonly afterThreadsMs: readonly number[];
  readonly beforeBusyMs: number;
  readonly afterBusyMs: number;
  /** Self ms of the gauge function in each set; 0 when it never ran. */
  readonly beforeGaugeMs: number;
  readonly afterGaugeMs: number;
  /** The functions whose self time changed most, largest change first. */
  readonly rows: readonly { name: string; beforeMs: number; afterMs: number }[];
}

/** Compares two sets of profiles (all threads of a run each): see the comment at the top. */
export function compareProfiles(
  before: readonly CpuProfile[],
  after: readonly CpuProfile[],
  top: number,
  gauge: string,
): ProfileComparison {
  const sum = (profiles: readonly CpuProfile[]) => {
    const total = new Map<string, number>();
    const threadsMs: number[] = [];
    for (const p of profiles) {
      const { busyUs, byFunction } = selfTimeByFunction(p);
      threadsMs.push(busyUs / 1000);
      for (const [k, us] of byFunction) total.set(k, (total.get(k) ?? 0) + us);
    }
    let gaugeUs = 0;
    for (const [k, us] of total) if (k === gauge || k.startsWith(`${gauge} `)) gaugeUs += us;
    return { total, threadsMs, gaugeMs: gaugeUs / 1000 };
  };
  const b = sum(before);
  const a = sum(after);
  const names = new Set([...b.total.keys(), ...a.total.keys()]);
  const rows = [...names]
    .map((name) => ({
      name,
      beforeMs: (b.total.get(name) ?? 0) / 1000,
      afterMs: (a.total.get(name) ?? 0) / 1000,
    }))
    .sort((x, y) => Math.abs(y.afterMs - y.beforeMs) - Math.abs(x.afterMs - x.beforeMs))
    .slice(0, top);
  const busy = (ms: readonly number[]): number => ms.reduce((x, y) => x + y, 0);
  return {
    beforeThreadsMs: b.threadsMs,
    afterThreadsMs: a.threadsMs,
    beforeBusyMs: busy(b.threadsMs),
    afterBusyMs: busy(a.threadsMs),
    beforeGaugeMs: b.gaugeMs,
    afterGaugeMs: a.gaugeMs,
    rows,
  };
}

export function formatComparison(c: ProfileComparison, gauge: string): string {
  const ms = (v: number): string => v.toFixed(0);
  const ratio = (x: number, y: number): string => (y > 0 ? (x / y).toFixed(3) : '-');
  const lines = [
    `busy ms per thread: before ${c.beforeThreadsMs.map(ms).join(' ')}, after ${c.afterThreadsMs.map(ms).join(' ')}`,
    `busy ms: before ${ms(c.beforeBusyMs)}, after ${ms(c.afterBusyMs)}, after/before ${ratio(c.afterBusyMs, c.beforeBusyMs)}`,
  ];
  if (c.beforeGaugeMs > 0 && c.afterGaugeMs > 0) {
    const gaugeRatio = c.afterGaugeMs / c.beforeGaugeMs;
    lines.push(
      `gauge ${gauge}: before ${ms(c.beforeGaugeMs)} ms, after ${ms(c.afterGaugeMs)} ms, after/before ${gaugeRatio.toFixed(3)}`,
      `busy after/before divided by the gauge's: ${ratio(c.afterBusyMs / gaugeRatio, c.beforeBusyMs)}`,
    );
  } else {
    lines.push(`gauge ${gauge}: not in both sets of profiles`);
  }
  lines.push('  before    after    change  function file');
  for (const r of c.rows) {
    const change = r.afterMs - r.beforeMs;
    lines.push(
      `${ms(r.beforeMs).padStart(8)} ${ms(r.afterMs).padStart(8)} ${`${change >= 0 ? '+' : ''}${ms(change)}`.padStart(9)}  ${r.name}`,
    );
  }
  return lines.join('\n') + '\n';
}

function profileFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
}

const readProfile = (path: string): CpuProfile =>
  JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      top: { type: 'string', default: '25' },
      compare: { type: 'boolean', default: false },
      gauge: { type: 'string', default: 'ecdsaVerify' },
    },
    allowPositionals: true,
  });
  const top = Number(values.top);
  if (values.compare) {
    const [before, after] = positionals;
    if (positionals.length !== 2 || before === undefined || after === undefined) {
      process.stderr.write(
        'usage: node dist/bench/profile.js --compare <before folder> <after folder> [--top 25] [--gauge ecdsaVerify]\n',
      );
      process.exitCode = 2;
      return;
    }
    const c = compareProfiles(
      profileFiles([before]).map(readProfile),
      profileFiles([after]).map(readProfile),
      top,
      values.gauge,
    );
    process.stdout.write(formatComparison(c, values.gauge));
    return;
  }
  const files = profileFiles(positionals);
  if (files.length === 0) {
    process.stderr.write(
      'usage: node dist/bench/profile.js <file.cpuprofile | folder> ... [--top 25]\n',
    );
    process.exitCode = 2;
    return;
  }
  for (const path of files) {
    const s = summarise(readProfile(path), top);
    const lines = [
      `== ${path}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy`,
      '  self ms   share  function',
    ];
    for (const f of s.functions)
      lines.push(
        `  ${f.ms.toFixed(0).padStart(7)}  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`,
      );
    lines.push('  self ms   share  file');
    for (const f of s.files.slice(0, 12))
      lines.push(
        `  ${f.ms.toFixed(0).padStart(7)}  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`,
      );
    process.stdout.write(lines.join('\n') + '\n\n');
  }
}

if (process.argv[1] !== undefined && basename(process.argv[1]) === 'profile.js') main();
