// The stack part of the benchmark's report (`npm run bench -- --stack K`, docs/benchmark.md,
// "A city on many processors"): its JSON shape and its text summary.

import type { Backend } from './runner.js';
import type { NeighbourhoodLoad } from './stack-load.js';
import type { NodeCatchUp, StackPeriod } from './stack-settle.js';

/** CPU seconds of each part over the timed phase; null where it cannot be measured. */
export interface StackCpuSeconds {
  readonly neighbourhoodProcessors: number;
  readonly cityProcessor: number;
  readonly uplinks: number;
  readonly nodes: number;
  /** The backends of the processors' databases (postgres only). */
  readonly postgres: number | null;
  readonly loadGenerator: number;
}

export interface StackCpu {
  readonly seconds: StackCpuSeconds;
  /** Microseconds of CPU per reading, each part and the total (processors, PostgreSQL, load). */
  readonly perTxUs: StackCpuSeconds & { readonly total: number };
}

export interface StackResult {
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly neighbourhoods: number;
  readonly households: number;
  /** Meters over all neighbourhoods: a house meter per household, a solar meter every second. */
  readonly meters: number;
  readonly backend: Backend;
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
  readonly cityGateClosureSeconds: number;
  readonly setupSeconds: number;
  readonly readings: number;
  /** From the first reading sent to the last neighbourhood's last final answer. */
  readonly seconds: number;
  /** Aggregate: all readings ÷ that time. */
  readonly txPerSecond: number;
  /** Per neighbourhood processor. */
  readonly processors: readonly NeighbourhoodLoad[];
  readonly cpu: StackCpu;
  /**
   * CPU seconds from the end of the load until the last settlement arrived (or the wait ended):
   * the settlements, the positions and the uplinks' rounds, over `seconds` of wall time.
   */
  readonly settleCpuSeconds: {
    readonly neighbourhoodProcessors: number;
    readonly cityProcessor: number;
    readonly uplinks: number;
    readonly seconds: number;
  };
  readonly periods: readonly StackPeriod[];
  /** Null with --no-node. */
  readonly nodes: readonly NodeCatchUp[] | null;
}

/** What this machine can show, printed with every stack run. */
export const STACK_CAVEAT =
  'All processors, PostgreSQL and the load generator share this machine\'s cores: with 2 cores the aggregate cannot grow linearly with K. The CPU per reading is the figure to scale from (docs/benchmark.md, "A city on many processors").';

export function stackCpu(readings: number, s: StackCpuSeconds): StackCpu {
  const us = (seconds: number): number => (seconds * 1e6) / readings;
  const perTx = {
    neighbourhoodProcessors: us(s.neighbourhoodProcessors),
    cityProcessor: us(s.cityProcessor),
    uplinks: us(s.uplinks),
    nodes: us(s.nodes),
    postgres: s.postgres === null ? null : us(s.postgres),
    loadGenerator: us(s.loadGenerator),
  };
  const total =
    perTx.neighbourhoodProcessors +
    perTx.cityProcessor +
    (perTx.postgres ?? 0) +
    perTx.loadGenerator;
  return { seconds: s, perTxUs: { ...perTx, total } };
}

const ms = (x: number | null): string => (x === null ? '-' : String(Math.round(x)));
const time = (t: number): string => new Date(t).toISOString().slice(11, 19);

export function formatStack(r: StackResult): string[] {
  const out: string[] = [];
  out.push(
    `Stack: a city of ${r.neighbourhoods} neighbourhood processor(s) + 1 city processor on ${r.backend}, ${r.households} households each (${r.meters} meters), ${r.periodSeconds}-s periods, gate closures ${r.gateClosureSeconds} s / city ${r.cityGateClosureSeconds} s; set up in ${r.setupSeconds.toFixed(1)} s`,
  );
  out.push(
    `  ${r.ok ? '' : 'FAILED: '}${r.readings} readings in ${r.seconds.toFixed(2)} s: ${r.txPerSecond.toFixed(0)} tx/s over the ${r.neighbourhoods} processor(s)`,
  );
  for (const p of r.processors)
    out.push(
      `    ${p.name}: ${p.readings} readings, ${p.txPerSecond.toFixed(0)} tx/s (${p.seconds.toFixed(2)} s)`,
    );
  const u = r.cpu.perTxUs;
  out.push(
    `  CPU per reading, µs: neighbourhood processors ${u.neighbourhoodProcessors.toFixed(0)}, city processor ${u.cityProcessor.toFixed(0)}, PostgreSQL ${u.postgres === null ? '-' : u.postgres.toFixed(0)}, load generator ${u.loadGenerator.toFixed(0)}; total ${u.total.toFixed(0)} (uplinks ${u.uplinks.toFixed(0)}, mirror nodes ${u.nodes.toFixed(0)} besides)`,
  );
  const sc = r.settleCpuSeconds;
  out.push(
    `  after the load, until the last settlement arrived (${sc.seconds.toFixed(1)} s): CPU s neighbourhood processors ${sc.neighbourhoodProcessors.toFixed(2)}, city processor ${sc.cityProcessor.toFixed(2)}, uplinks ${sc.uplinks.toFixed(2)}`,
  );
  out.push('  period (UTC)  city settled  arrived (ms after the period end, per neighbourhood)');
  for (const p of r.periods)
    out.push(
      `  ${time(p.periodStartMs)}      ${ms(p.citySettledAfterEndMs).padStart(8)}      ${p.neighbourhoods
        .map((n) => `${n.name} ${ms(n.arrivedAfterEndMs)}${n.missed === true ? ' (missed)' : ''}`)
        .join(', ')}`,
    );
  if (r.nodes !== null)
    out.push(
      `  mirror nodes: ${r.nodes.map((n) => `${n.name} ${n.caughtUp ? `at ${n.height} after ${n.seconds.toFixed(1)} s` : 'BEHIND'}`).join(', ')}`,
    );
  for (const f of r.failures) out.push(`  failure: ${f}`);
  out.push(`  ${STACK_CAVEAT}`);
  return out;
}
