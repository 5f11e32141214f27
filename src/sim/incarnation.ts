// One life of a simulated process, from start to crash. What a crash takes away is what a real
// crash takes away: its timers (the incarnation's scheduler cancels them all and starts no more),
// its network address (it stops listening), its in-memory state (the objects of this incarnation
// are dropped) and its database connection (the incarnation's FaultyDatabase is severed, so a
// transaction under way rolls back). What it keeps is its database, from which the next
// incarnation starts, as a real restart would.

import type { Cancel, Scheduler } from '../core/scheduler.js';
import type { Logger } from '../ledger/log.js';
import type { Trace } from './trace.js';

/** A Scheduler for one incarnation: it runs on the simulation's clock and dies with the process. */
export class IncarnationScheduler implements Scheduler {
  private readonly cancels = new Set<Cancel>();
  private alive = true;

  constructor(private readonly clock: Scheduler) {}

  nowMs(): number {
    return this.clock.nowMs();
  }

  monotonicMs(): number {
    return this.clock.monotonicMs();
  }

  after(delayMs: number, fn: () => void): Cancel {
    return this.track((run) => this.clock.after(delayMs, run), fn);
  }

  defer(fn: () => void): Cancel {
    return this.track((run) => this.clock.defer(run), fn);
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** The crash: every pending timer is cancelled, and later ones never start. */
  kill(): void {
    this.alive = false;
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
  }

  private track(start: (run: () => void) => Cancel, fn: () => void): Cancel {
    if (!this.alive) return () => undefined;
    let cancel: Cancel = () => undefined;
    const own: Cancel = () => {
      this.cancels.delete(own);
      cancel();
    };
    cancel = start(() => {
      this.cancels.delete(own);
      if (this.alive) fn();
    });
    this.cancels.add(own);
    return own;
  }
}

/**
 * Fields whose values are measured on the real clock (how long the executor or the database
 * took): they differ from one run of a seed to the next, so the trace leaves them out.
 */
const WALL_CLOCK_FIELDS = new Set(['executeMs', 'storeReadMs', 'commitMs']);

/**
 * A Logger that writes into the trace, as `<actor> <level> <message> <fields>`. Like a service at
 * its default level it leaves out debug lines; a child's lines name it (`node-1.follower`).
 */
export function traceLogger(trace: Trace, actor: string): Logger {
  const line = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    const kept = Object.entries(fields ?? {}).filter(([k]) => !WALL_CLOCK_FIELDS.has(k));
    const detail =
      kept.length === 0 ? msg : `${msg} ${JSON.stringify(Object.fromEntries(kept), bigintAsText)}`;
    trace.record(actor, level, detail);
  };
  return {
    debug: () => undefined,
    child: (component) => traceLogger(trace, `${actor}.${component}`),
    pino: null,
    info: (msg, fields) => line('info', msg, fields),
    warn: (msg, fields) => line('warn', msg, fields),
    error: (msg, fields) => line('error', msg, fields),
    alarm: (msg, fields) => line('alarm', msg, fields),
  };
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
