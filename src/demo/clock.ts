// The demo's time-lapse clock: a Scheduler whose wall clock runs `rate` times as fast as the real
// one from an anchor, while its timers and monotonic time stay real. Handed to the demo's
// processors (block times, the settlement agent's gate closure), its P1 gateways (telegram times,
// reading cuts) and its uplinks, so that a simulated day passes in a few real minutes with every
// chain rule as it is: block times only move forward, readings are never dated ahead of the block
// time, orders are placed before their periods end and periods are settled after their gate
// closure, all in the demo's time (docs/decisions/0015-demo-time-lapse.md).

import { type Cancel, type Scheduler, systemScheduler } from '../core/scheduler.js';

export class TimeLapseClock implements Scheduler {
  #anchorMs: number;
  #anchorRealMs: number;
  #rate = 1;

  constructor(
    startMs: number,
    private readonly real: Scheduler = systemScheduler,
  ) {
    this.#anchorMs = startMs;
    this.#anchorRealMs = real.nowMs();
  }

  /** How many demo ms pass per real ms. */
  get rate(): number {
    return this.#rate;
  }

  nowMs(): number {
    const realMs = Math.max(0, this.real.nowMs() - this.#anchorRealMs);
    return Math.floor(this.#anchorMs + realMs * this.#rate);
  }

  /** From now on the clock runs `rate` times as fast as the real one (1: real speed). */
  setRate(rate: number): void {
    if (!(rate >= 1) || !Number.isFinite(rate))
      throw new RangeError(`a time-lapse rate must be at least 1, got ${rate}`);
    this.#anchorMs = this.nowMs();
    this.#anchorRealMs = this.real.nowMs();
    this.#rate = rate;
  }

  monotonicMs(): number {
    return this.real.monotonicMs();
  }

  after(delayMs: number, fn: () => void): Cancel {
    return this.real.after(delayMs, fn);
  }

  defer(fn: () => void): Cancel {
    return this.real.defer(fn);
  }
}
