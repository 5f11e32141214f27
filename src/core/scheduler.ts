// Time as an input. The processor, the mirror node, the follower and the gateway read the clock and
// start timers only through a Scheduler handed to them, never through Date.now, performance.now,
// setTimeout or setImmediate directly, so that a simulation can run them on a clock it controls and
// replay a run exactly from its seed. This file declares the port and the real-time implementation;
// the simulator brings its own.

/** Stops a timer that has not fired yet; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;

export interface Scheduler {
  /** Wall-clock time in ms since the Unix epoch (block times, validity windows). */
  nowMs(): number;
  /** A monotonic time in ms for measuring durations; only differences between two calls mean anything. */
  monotonicMs(): number;
  /** Runs `fn` once after `delayMs` (clamped to 0 .. 2^31-1 ms). */
  after(delayMs: number, fn: () => void): Cancel;
  /** Runs `fn` once, after the work already queued (the current I/O turn) is done. */
  defer(fn: () => void): Cancel;
}

/** Node's timers fire at once for delays above 2^31-1 ms, so longer delays are clamped. */
const TIMER_MAX_MS = 2_147_483_647;

export function clampDelayMs(delayMs: number): number {
  if (!Number.isFinite(delayMs)) return delayMs > 0 ? TIMER_MAX_MS : 0;
  return Math.min(Math.max(0, delayMs), TIMER_MAX_MS);
}

/** The real clock and timers of this process. */
export const systemScheduler: Scheduler = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  after(delayMs, fn) {
    const timer = setTimeout(fn, clampDelayMs(delayMs));
    return () => clearTimeout(timer);
  },
  defer(fn) {
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  },
};

/** Resolves after `delayMs` on `scheduler`, or at once when `signal` aborts; never rejects. */
export function sleepOn(
  scheduler: Scheduler,
  delayMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = scheduler.after(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
