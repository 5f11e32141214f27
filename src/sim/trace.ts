// What happened in a simulated run, in order, so a failing seed can be read and replayed. Only the
// last `keepMax` entries are kept: a long run's failure is explained by what came just before it.

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

  constructor(
    private readonly clock: { monotonicMs(): number },
    private readonly keepMax = 2_000,
  ) {
    if (!Number.isSafeInteger(keepMax) || keepMax < 1)
      throw new RangeError(`keepMax must be a positive integer, got ${keepMax}`);
  }

  record(actor: string, event: string, detail = ''): void {
    this.entries.push({
      step: this.recorded++,
      atMs: this.clock.monotonicMs(),
      actor,
      event,
      detail,
    });
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
    return this.tail(n)
      .map(
        (e) =>
          `#${e.step} +${e.atMs}ms ${e.actor} ${e.event}${e.detail === '' ? '' : ` ${e.detail}`}`,
      )
      .join('\n');
  }
}
