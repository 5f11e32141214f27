// The demo's progress on stderr: the demo's clock, and per neighbourhood the periods settled of
// the day, the readings the chain accepted and (with --stack) the periods whose settlement came
// back down from the city; read through the API like any client. Once every period of the day is
// settled (and, in a stack, has come back down), the clock slows to real speed and the demo idles.

import type { Cancel } from '../core/scheduler.js';
import { fetchMarketFigures } from '../energy/client.js';
import { fetchUpstream } from '../stack/client.js';
import type { TimeLapseClock } from './clock.js';
import type { DemoNeighbourhood } from './neighbourhood.js';
import { PERIODS_PER_DAY } from './setup.js';
import type { DemoStack } from './stack.js';

const EVERY_MS = 2000;

export interface ProgressOptions {
  readonly dayStartMs: number;
  readonly dayEndMs: number;
  /** However the day went, the time-lapse ends at this demo time. */
  readonly lapseEndMs: number;
  readonly write: (line: string) => void;
}

interface Count {
  readonly name: string;
  readonly settled: number;
  readonly readings: number;
  /** Periods whose settlement came down from the city (null without a city). */
  readonly down: number | null;
  readonly upstream: number | null;
  readonly selfSufficiency: string | null;
}

export class Progress {
  private cancel: Cancel | null = null;
  private last = '';
  private idle = false;

  constructor(
    private readonly clock: TimeLapseClock,
    private readonly neighbourhoods: readonly DemoNeighbourhood[],
    private readonly stack: DemoStack | null,
    private readonly o: ProgressOptions,
  ) {}

  start(): void {
    const tick = (): void => {
      this.round().then(
        () => {
          if (this.cancel !== null) this.cancel = this.clock.after(EVERY_MS, tick);
        },
        (err: unknown) => {
          this.o.write(`demo: could not read the progress: ${(err as Error).message}\n`);
          if (this.cancel !== null) this.cancel = this.clock.after(EVERY_MS, tick);
        },
      );
    };
    this.cancel = this.clock.after(EVERY_MS, tick);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private async count(n: DemoNeighbourhood): Promise<Count> {
    const context = n.chain.owner.address;
    const figures = await fetchMarketFigures(n.chain.client, context, {
      fromMs: this.o.dayStartMs,
      toMs: this.o.dayEndMs,
      group: 'day',
    });
    const settled = figures.totals.periods;
    let down: number | null = null;
    let upstream: number | null = null;
    if (this.stack !== null) {
      const rows = (
        await fetchUpstream(n.chain.client, context, { fromMs: this.o.dayStartMs, limit: 1000 })
      ).upstream;
      upstream = rows.length;
      down = rows.filter((r) => r.state === 'settled').length;
    }
    return {
      name: n.chain.name,
      settled,
      readings: n.gateway.accepted(),
      down,
      upstream,
      selfSufficiency: figures.totals.selfSufficiency,
    };
  }

  private async round(): Promise<void> {
    const counts = await Promise.all(this.neighbourhoods.map((n) => this.count(n)));
    const nowMs = this.clock.nowMs();
    const clock = new Date(nowMs).toISOString().slice(0, 16).replace('T', ' ');
    const parts = counts.map(
      (c) =>
        `${c.name}: ${c.settled}/${PERIODS_PER_DAY} periods settled, ${c.readings} readings${c.down === null ? '' : `, ${c.down}/${c.upstream} back from the city`}`,
    );
    const summary = parts.join(' | ');
    const done = counts.every(
      (c) => c.settled === PERIODS_PER_DAY && (c.down === null || c.down === c.upstream),
    );
    // While idle, a line only when something changed.
    if (!this.idle || summary !== this.last) this.o.write(`demo ${clock} UTC | ${summary}\n`);
    this.last = summary;
    if (this.idle) return;
    if (done || nowMs > this.o.lapseEndMs) {
      this.idle = true;
      this.clock.setRate(1);
      const figures = counts
        .map(
          (c) =>
            `${c.name} self-sufficiency ${c.selfSufficiency === null ? '-' : `${(Number(c.selfSufficiency) * 100).toFixed(1)}%`}`,
        )
        .join(', ');
      this.o.write(
        done
          ? `demo: the day is settled (${figures}); the clock runs at real speed now, the dashboard shows the day; Ctrl-C stops the demo\n`
          : `demo: the day did not settle in time; the clock runs at real speed now; Ctrl-C stops the demo\n`,
      );
    }
  }
}
