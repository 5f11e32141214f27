// Sleeping that an AbortSignal can cut short. Node's timers fire at once for delays above
// 2^31-1 ms, so long (or infinite) delays are clamped.

const TIMER_MAX_MS = 2_147_483_647;

/** Resolves after `ms` (or at once when `signal` aborts); never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), TIMER_MAX_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backoff delay with +-25 % jitter, so that many clients do not reconnect in step. */
export function jittered(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}
