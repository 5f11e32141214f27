// A Scheduler on virtual time. Nothing happens until the simulation asks for the next event: time
// then jumps to that event's instant and its callback runs. Events at the same instant run in the
// order they were scheduled, so a run depends only on its seed, never on the machine's speed.

import { clampDelayMs, type Cancel, type Scheduler } from '../core/scheduler.js';

interface SimEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Whether event `x` runs before event `y`. */
function runsBefore(x: SimEvent, y: SimEvent): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
}

/** A binary min-heap of events, ordered by (time, order of scheduling). */
class EventHeap {
  private readonly items: SimEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): SimEvent | undefined {
    return this.items[0];
  }

  push(event: SimEvent): void {
    const items = this.items;
    items.push(event);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!runsBefore(items[i] as SimEvent, items[parent] as SimEvent)) break;
      [items[i], items[parent]] = [items[parent] as SimEvent, items[i] as SimEvent];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && runsBefore(items[left] as SimEvent, items[smallest] as SimEvent))
        smallest = left;
      if (right < items.length && runsBefore(items[right] as SimEvent, items[smallest] as SimEvent))
        smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as SimEvent, items[i] as SimEvent];
      i = smallest;
    }
    return top;
  }
}

export class SimScheduler implements Scheduler {
  private readonly events = new EventHeap();
  private currentMs: number;
  private readonly startMs: number;
  private seq = 0;
  private live = 0;

  /** `startMs` is the wall-clock instant the simulated world starts at (ms since the epoch). */
  constructor(startMs: number) {
    if (!Number.isSafeInteger(startMs) || startMs < 0) {
      throw new RangeError(
        `a simulation starts at a non-negative integer ms instant, got ${String(startMs)}`,
      );
    }
    this.startMs = startMs;
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  monotonicMs(): number {
    return this.currentMs - this.startMs;
  }

  after(delayMs: number, fn: () => void): Cancel {
    return this.schedule(this.currentMs + Math.round(clampDelayMs(delayMs)), fn);
  }

  defer(fn: () => void): Cancel {
    return this.schedule(this.currentMs, fn);
  }

  /** Events scheduled and not yet run or cancelled. */
  get pendingCount(): number {
    return this.live;
  }

  /** The instant of the next event, or undefined when none is scheduled. */
  nextAtMs(): number | undefined {
    this.dropCancelled();
    return this.events.peek()?.atMs;
  }

  /**
   * Moves time to the next event and runs it. Returns false, leaving time as it is, when nothing
   * is scheduled or the next event lies after `untilMs`. An exception from the callback reaches
   * the caller: the simulation decides what a failing event means.
   */
  runNext(untilMs = Number.POSITIVE_INFINITY): boolean {
    this.dropCancelled();
    const next = this.events.peek();
    if (next === undefined || next.atMs > untilMs) return false;
    this.events.pop();
    this.live--;
    next.cancelled = true; // a cancel from inside the callback must not count it twice
    this.currentMs = next.atMs;
    next.fn();
    return true;
  }

  /** Moves time forward to `atMs` without running anything (nothing may be due before it). */
  advanceTo(atMs: number): void {
    const due = this.nextAtMs();
    if (due !== undefined && due < atMs) {
      throw new RangeError(`cannot advance to ${atMs}: an event is due at ${due}`);
    }
    if (atMs > this.currentMs) this.currentMs = atMs;
  }

  private schedule(atMs: number, fn: () => void): Cancel {
    const event: SimEvent = { atMs, seq: this.seq++, fn, cancelled: false };
    this.events.push(event);
    this.live++;
    return () => {
      if (event.cancelled) return;
      event.cancelled = true;
      this.live--;
    };
  }

  private dropCancelled(): void {
    while (this.events.peek()?.cancelled === true) this.events.pop();
  }
}
