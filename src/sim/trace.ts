// What happened in a simulated run, in order, so a failing seed can be read and replayed. Only the
// last `keepMax` entries are kept: a long run's failure is explained by what came just before it.

import { createHash } from 'node:crypto';

export interface TraceEntry {
  readonly step: number;
  readonly atMs: number;
  readonly actor: string;
  readonly event: string;
  readonly detail: string;
}

export class Trace {
  private readonly entries: TraceEntry[] = [];
  private recorded = 0;
  /** A hash of every entry ever recorded, kept or not: two runs of a seed must give the same. */
  private readonly hash = createHash('sha256');

  constructor(
    private readonly clock: { monotonicMs(): number },
    private readonly keepMax = 2_000,
  ) {
    if (!Number.isSafeInteger(keepMax) || keepMax < 1)
      throw new RangeError(`keepMax must be a positive integer, got ${keepMax}`);
  }

  record(actor: string, event: string, detail = ''): void {
    const entry = {
      step: this.recorded++,
      atMs: this.clock.monotonicMs(),
      actor,
      event,
      detail,
    };
    this.entries.push(entry);
    this.hash.update(`${formatEntry(entry)}\n`);
    if (this.entries.length > this.keepMax)
      this.entries.splice(0, this.entries.length - this.keepMax);
  }

  /** How many entries were recorded in all, including those no longer kept. */
  get count(): number {
    return this.recorded;
  }

  /** The kept entries, oldest first. */
  tail(n = this.keepMax): readonly TraceEntry[] {
    return this.entries.slice(Math.max(0, this.entries.length - n));
  }

  /** One line per entry: `#step +ms actor event detail`. */
  format(n = this.keepMax): string {
    return this.tail(n).map(formatEntry).join('\n');
  }

  /** The hash (hex) of every entry recorded so far. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

function formatEntry(e: TraceEntry): string {
  return `#${e.step} +${e.atMs}ms ${e.actor} ${e.event}${e.detail === '' ? '' : ` ${e.detail}`}`;
}
