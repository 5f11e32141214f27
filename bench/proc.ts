// Reading a process's CPU time and memory from /proc (Linux), and the on-disk size of a folder.

import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

export const CLK_TCK = clockTicksPerSecond();

/** utime + stime of the whole process (all threads) in seconds, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (field 15) rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLK_TCK : null;
}

/** A `Vm*` line of /proc/<pid>/status in bytes (VmHWM: peak resident set, VmRSS: current), or null. */
export function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}

/** Bytes a folder takes on disk, as `du` counts them (allocated blocks), without following links. */
export function diskBytes(path: string): number {
  let total = 0;
  const walk = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    total += st.blocks * 512;
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
  return total;
}

/**
 * CPU seconds used by a changing set of processes (e.g. PostgreSQL backends, which come and go)
 * between start and the last observation. A process seen at the start counts from its value then;
 * one that appears later counts from zero (it started during the interval).
 */
export class CpuOfProcesses {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  constructor(initialPids: readonly number[]) {
    for (const pid of initialPids) {
      const s = cpuSeconds(pid);
      if (s !== null) {
        this.first.set(pid, s);
        this.last.set(pid, s);
      }
    }
  }

  observe(pids: readonly number[]): void {
    for (const pid of pids) {
      const s = cpuSeconds(pid);
      if (s === null) continue;
      if (!this.first.has(pid)) this.first.set(pid, 0);
      this.last.set(pid, s);
    }
  }

  seconds(): number {
    let total = 0;
    for (const [pid, last] of this.last) total += last - (this.first.get(pid) ?? 0);
    return total;
  }
}
