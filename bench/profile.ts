// Summarises V8 CPU profiles (.cpuprofile, as written by `node --cpu-prof`): the functions and the
// files with the most self time. Each thread writes its own profile (main thread, signature
// workers, executor worker), so each file is summarised on its own.
//
//   node dist/bench/profile.js /tmp/prof            (every .cpuprofile in the folder)
//   node dist/bench/profile.js a.cpuprofile --top 30
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

interface CpuProfile {
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

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  const files = positionals.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
  if (files.length === 0) {
    process.stderr.write(
      'usage: node dist/bench/profile.js <file.cpuprofile | folder> ... [--top 25]\n',
    );
    process.exitCode = 2;
    return;
  }
  for (const path of files) {
    const s = summarise(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top);
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
