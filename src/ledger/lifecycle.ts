// The start-up and shut-down shell both roles run in: what was opened is closed in reverse order
// (the API before the block loop, the block loop before the database), a failed start closes what
// it had opened, and SIGINT/SIGTERM end the wait of a running service.

import { describeError } from './log.js';
import type { Logger } from './log.js';

export type Closer = () => Promise<void>;

/** What a service opened, closed last-opened first; every closer runs once, even when one fails. */
export class Closers {
  readonly #closers: Closer[] = [];

  constructor(private readonly log: Logger) {}

  add(close: Closer): void {
    this.#closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.log.error('error while shutting down', { error: describeError(err) });
      }
    }
  }
}

/**
 * Runs a service's start-up: `start` registers what it opens on `closers`; when it throws,
 * everything opened so far is closed before the error goes on.
 */
export async function startWithClosers<T>(
  log: Logger,
  start: (closers: Closers) => Promise<T>,
): Promise<T> {
  const closers = new Closers(log);
  try {
    return await start(closers);
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
}

/**
 * A controller aborted by the first SIGINT or SIGTERM (logged as `shutting down`), or by the
 * service itself (`stop`). `dispose` removes the signal handlers again.
 */
export function stopOnSignals(log: Logger): {
  readonly signal: AbortSignal;
  stop(reason: string): void;
  dispose(): void;
} {
  const controller = new AbortController();
  const stop = (reason: string): void => {
    if (controller.signal.aborted) return;
    log.info('shutting down', { signal: reason });
    controller.abort();
  };
  const onSigint = (): void => stop('SIGINT');
  const onSigterm = (): void => stop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    stop,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

/** Resolves once `signal` aborts (at once when it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
