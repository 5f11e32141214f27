// The benchmark's outputs: the JSON document, the table on stdout, and the SVG plot (time vs N
// like the thesis' figure 9, one line per backend and submission path, and memory vs N).

import type { InsertLimits, VerifyLimits } from './limits.js';
import type { StackResult } from './stack-report.js';
import { formatStack } from './stack-report.js';
import type { RunResult } from './runner.js';
import { svgDocument } from './svg.js';
import type { PanelSpec, Series } from './svg.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average before and after: other work on the machine skews the figures. */
  readonly loadAverageBefore: number;
  readonly loadAverageAfter: number;
}

export interface BenchReport {
  readonly tool: 'hanzenet-bench';
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: Readonly<Record<string, unknown>>;
  readonly limits: {
    readonly verify: VerifyLimits | null;
    readonly inserts: readonly InsertLimits[];
  };
  readonly runs: readonly (RunResult & { readonly closeness: Closeness | null })[];
  /** `--stack K` only (then `runs` is empty): the city on K + 1 processors. */
  readonly stack?: StackResult;
}

/** How close a run came to the machine's limits, in transactions per second. */
export interface Closeness {
  /** Signature verifications per second over all cores (one per transaction). */
  readonly verifyLimitTxPerSecond: number | null;
  /** Batched rows per second of the run's backend ÷ rows written per transaction. */
  readonly insertLimitTxPerSecond: number | null;
  readonly rowsPerTx: number;
  readonly rowsPerTxSource: 'measured' | 'measured on postgres' | 'nominal';
  readonly lowerLimit: 'verify' | 'insert' | null;
  /** tx/s ÷ the lower limit. */
  readonly ratio: number | null;
}

/** Rows a timed transaction writes at least: its transaction row and one history row. */
export const NOMINAL_ROWS_PER_TX = 2;

export function closeness(
  run: RunResult,
  all: readonly RunResult[],
  verify: VerifyLimits | null,
  inserts: readonly InsertLimits[],
): Closeness | null {
  if (run.txPerSecond === null) return null;
  const twin =
    all.find((r) => r.backend === 'postgres' && r.n === run.n && r.rowsPerTx !== null) ??
    all.find((r) => r.rowsPerTx !== null);
  const rowsPerTx = run.rowsPerTx ?? twin?.rowsPerTx ?? NOMINAL_ROWS_PER_TX;
  const rowsPerTxSource =
    run.rowsPerTx !== null ? 'measured' : twin !== undefined ? 'measured on postgres' : 'nominal';
  const insert = inserts.find((l) => l.backend === run.backend);
  const verifyLimit = verify === null ? null : verify.poolAllPerSecond;
  const insertLimit = insert === undefined ? null : insert.batchedRowsPerSecond / rowsPerTx;
  const candidates: ['verify' | 'insert', number][] = [];
  if (verifyLimit !== null) candidates.push(['verify', verifyLimit]);
  if (insertLimit !== null) candidates.push(['insert', insertLimit]);
  candidates.sort((a, b) => a[1] - b[1]);
  const lower = candidates[0];
  return {
    verifyLimitTxPerSecond: verifyLimit,
    insertLimitTxPerSecond: insertLimit,
    rowsPerTx,
    rowsPerTxSource,
    lowerLimit: lower?.[0] ?? null,
    ratio: lower === undefined ? null : run.txPerSecond / lower[1],
  };
}

/** CPU time per transaction of a run, and the throughput this machine's cores would allow at that cost. */
export interface CpuBudget {
  readonly processorUs: number;
  /** PostgreSQL server backends (null on PGlite, which runs inside the processor). */
  readonly postgresUs: number | null;
  /** The benchmark client itself (it shares the machine). */
  readonly clientUs: number;
  readonly totalUs: number;
  /** cores ÷ total CPU per transaction: no scheduling of this work can go faster on this machine. */
  readonly ceilingTxPerSecond: number;
}

export function cpuBudget(run: RunResult, cores: number): CpuBudget | null {
  const processorSeconds = run.processor.cpuSeconds;
  const clientPercent = run.client.cpuPercentOfOneCore;
  if (
    processorSeconds === null ||
    clientPercent === null ||
    run.seconds === null ||
    run.n <= 0 ||
    cores <= 0
  )
    return null;
  const perTx = (seconds: number): number => (seconds * 1e6) / run.n;
  const processorUs = perTx(processorSeconds);
  const postgresUs = run.postgresBackends === null ? null : perTx(run.postgresBackends.cpuSeconds);
  const clientUs = perTx((clientPercent / 100) * run.seconds);
  const totalUs = processorUs + (postgresUs ?? 0) + clientUs;
  return {
    processorUs,
    postgresUs,
    clientUs,
    totalUs,
    ceilingTxPerSecond: (cores * 1e6) / totalUs,
  };
}

const MiB = 1024 * 1024;

function num(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The market workload of a run: its size, and how long settling each period took. */
export function marketLines(r: RunResult): string[] {
  const m = r.market;
  if (m === null) return [];
  const out = [
    `${r.backend} N=${r.n} market: ${m.traders} traders with standing orders, ${m.readings} of the timed transactions are its readings, ${m.periodSeconds}-s periods`,
  ];
  for (const p of m.periods) {
    const start = new Date(p.periodStartMs).toISOString().slice(11, 19);
    out.push(
      p.height === null
        ? `  period ${start}: not settled`
        : `  period ${start}: settled in block ${p.height} (${p.txsInBlock ?? '?'} txs): executing ${num(p.executeMs)} ms, committing ${num(p.commitMs)} ms`,
    );
  }
  return out;
}

export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(
    `HanzeNet benchmark ${report.startedAt}: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, node ${m.node}; load average ${m.loadAverageBefore.toFixed(2)} before, ${m.loadAverageAfter.toFixed(2)} after`,
  );
  out.push('');
  if (report.stack !== undefined) return [...out, ...formatStack(report.stack)].join('\n');
  const header = [
    'backend',
    'submit',
    'N',
    'time s',
    'tx/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'proc CPU%',
    'pg CPU%',
    'client CPU%',
    'peak MiB',
    'DB MiB',
    'blocks',
    'max/block',
    'exec s',
    'reads',
    'read s',
    'commit s',
    'node s',
    'node tx/s',
    'verify tx/s',
    '÷limit',
    'result',
  ];
  const rows = report.runs.map((r) => [
    r.backend,
    `${r.submit}×${r.connections}${r.rate === null ? '' : ` @${r.rate}/s`}`,
    String(r.n),
    num(r.seconds, 2),
    num(r.txPerSecond),
    num(r.latencyMs?.p50),
    num(r.latencyMs?.p95),
    num(r.latencyMs?.p99),
    num(r.processor.cpuPercentOfOneCore),
    num(r.postgresBackends?.cpuPercentOfOneCore),
    num(r.client.cpuPercentOfOneCore),
    num(r.processor.peakRssBytes === null ? null : r.processor.peakRssBytes / MiB),
    num(r.databaseBytes === null ? null : r.databaseBytes / MiB, 1),
    String(r.blocks.count),
    String(r.blocks.maxTxs),
    num(r.blockWork?.executeSeconds, 1),
    num(r.blockWork?.storeReads),
    num(r.blockWork?.storeReadSeconds, 1),
    num(r.blockWork?.commitSeconds, 1),
    r.node.status === 'ok' ? num(r.node.seconds, 1) : r.node.status,
    r.node.status === 'ok' ? num(r.node.txPerSecond) : '-',
    r.node.status === 'ok' ? num(r.node.verifyTxPerSecond) : '-',
    r.closeness?.ratio === null || r.closeness === null
      ? '-'
      : `${r.closeness.ratio.toFixed(2)} ${r.closeness.lowerLimit ?? ''}`,
    r.ok ? 'ok' : 'FAILED',
  ]);
  out.push(table(header, rows));
  const failed = report.runs.filter((r) => !r.ok);
  for (const r of failed)
    out.push(`\nFAILED ${r.backend} N=${r.n}: ${r.failures.slice(0, 5).join('\n  ')}`);
  const notes = [
    ...new Set(report.runs.filter((r) => r.node.status !== 'ok').map((r) => r.node.note)),
  ];
  for (const note of notes) out.push(`mirror node: ${note}`);
  for (const r of report.runs) for (const line of marketLines(r)) out.push(line);
  out.push('');
  const v = report.limits.verify;
  if (v !== null) {
    out.push(
      `signature verification (${v.binding}): ${num(v.inlinePerSecond)}/s inline on one core, ${num(v.pool1PerSecond)}/s with SignaturePool(1 worker), ${num(v.poolAllPerSecond)}/s with SignaturePool(${v.poolAllWorkers} workers)`,
    );
  }
  for (const l of report.limits.inserts) {
    out.push(
      `${l.backend} inserts: ${num(l.batchedRowsPerSecond)} rows/s batched (INSERT ... SELECT FROM unnest, ${l.batchRows} rows per statement), ${num(l.singleRowPerSecond)} rows/s one row per round trip (in one transaction)`,
    );
  }
  for (const r of report.runs) {
    const c = r.closeness;
    if (c === null || c.ratio === null) continue;
    out.push(
      `${r.backend} N=${r.n}: ${num(r.txPerSecond)} tx/s = ${num(c.ratio, 2)} of the lower limit (${c.lowerLimit ?? '-'}); verify limit ${num(c.verifyLimitTxPerSecond)} tx/s, insert limit ${num(c.insertLimitTxPerSecond)} tx/s at ${c.rowsPerTx.toFixed(2)} rows/tx (${c.rowsPerTxSource})`,
    );
  }
  for (const r of report.runs) {
    const b = cpuBudget(r, m.cores);
    if (b === null || r.rate !== null) continue;
    const pg = b.postgresUs === null ? '' : ` + PostgreSQL ${num(b.postgresUs)}`;
    out.push(
      `${r.backend} N=${r.n}: CPU per transaction: processor ${num(b.processorUs)}${pg} + client ${num(b.clientUs)} = ${num(b.totalUs)} µs; ${m.cores} cores allow at most ${num(b.ceilingTxPerSecond)} tx/s at that cost (the run: ${num(r.txPerSecond)})`,
    );
  }
  return out.join('\n');
}

const COLORS: Readonly<Record<string, string>> = { pglite: '#1f77b4', postgres: '#2ca02c' };
const EXTRA_COLORS = ['#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

function seriesKey(r: RunResult): string {
  return `${r.backend} (${r.submit}${r.rate === null ? '' : ` @${r.rate} tx/s`})`;
}

export function plotReport(report: BenchReport): string {
  const keys = [...new Set(report.runs.map(seriesKey))];
  const color = (key: string, i: number): string => {
    const backend = key.split(' ')[0] ?? '';
    const base = COLORS[backend];
    const firstOfBackend = keys.findIndex((k) => k.startsWith(backend)) === i;
    return base !== undefined && firstOfBackend
      ? base
      : (EXTRA_COLORS[i % EXTRA_COLORS.length] as string);
  };
  /** With repeated runs, the median per N. */
  const median = (values: number[]): number => {
    values.sort((a, b) => a - b);
    const mid = Math.floor(values.length / 2);
    return values.length % 2 === 1
      ? (values[mid] as number)
      : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
  };
  const pointsOf = (
    key: string,
    value: (r: RunResult) => number | null,
  ): { x: number; y: number; bad: boolean }[] => {
    const byN = new Map<number, RunResult[]>();
    for (const r of report.runs)
      if (seriesKey(r) === key) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
    const out: { x: number; y: number; bad: boolean }[] = [];
    for (const [n, runs] of byN) {
      const ys = runs.map(value).filter((y): y is number => y !== null && Number.isFinite(y));
      if (ys.length > 0) out.push({ x: n, y: median(ys), bad: runs.some((r) => !r.ok) });
    }
    return out;
  };
  const timeSeries: Series[] = keys.map((key, i) => ({
    name: key,
    color: color(key, i),
    points: pointsOf(key, (r) => r.seconds),
  }));
  const ns = report.runs.map((r) => r.n);
  const nMin = Math.min(...ns);
  const nMax = Math.max(...ns);
  if (ns.length > 0) {
    // Reference lines over whole decades, so that they show even when only one N was run.
    const x0 = 10 ** Math.floor(Math.log10(nMin));
    let x1 = 10 ** Math.ceil(Math.log10(nMax));
    if (x1 <= x0) x1 = x0 * 10;
    const ref = (rate: number): { x: number; y: number }[] => [
      { x: x0, y: x0 / rate },
      { x: x1, y: x1 / rate },
    ];
    timeSeries.push({
      name: 'thesis: 37.86 tx/s',
      color: '#999',
      dashed: true,
      points: ref(37.86),
    });
    timeSeries.push({
      name: 'target: 10,000 tx/s',
      color: '#d62728',
      dashed: true,
      points: ref(10_000),
    });
  }
  const memSeries: Series[] = keys.map((key, i) => ({
    name: key,
    color: color(key, i),
    points: pointsOf(key, (r) =>
      r.processor.peakRssBytes === null ? null : r.processor.peakRssBytes / MiB,
    ),
  }));
  const panels: PanelSpec[] = [
    {
      title: 'Time to process N transactions',
      xLabel: 'transactions (N)',
      yLabel: 'seconds, first send to last final',
      xLog: true,
      yLog: true,
      series: timeSeries,
    },
    {
      title: 'Processor peak memory',
      xLabel: 'transactions (N)',
      yLabel: 'MiB (VmHWM)',
      xLog: true,
      yLog: false,
      yFromZero: true,
      series: memSeries,
    },
  ];
  const m = report.machine;
  const caption = `${report.startedAt} · ${m.cores} cores · node ${m.node} · block interval ${String(report.options['blockIntervalMs'])} ms · a red cross marks a FAILED run`;
  return svgDocument(panels, { caption });
}
