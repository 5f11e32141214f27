// One subscription to LedgerService.onTxFinal, fanned out by transaction id. Every waiter in the
// API (REST `wait`, WebSocket `watch`, Validana `wait`/`push`) registers here *before* it submits
// or looks up the transaction, so a transaction that becomes final in between is never missed.

import type { LedgerService } from './types.js';
import type { TxView } from '../chain/views.js';

export type ReportError = (err: unknown, context: string) => void;

interface Entry {
  readonly onFinal: (view: TxView) => void;
  readonly onClose: () => void;
}

export type WaitOutcome =
  | { readonly kind: 'final'; readonly view: TxView }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'cancelled' };

export interface Waiter {
  /** Always resolves (never rejects), so an unawaited waiter cannot raise an unhandled rejection. */
  readonly promise: Promise<WaitOutcome>;
  /** Stops waiting; the promise resolves with `cancelled` unless it already settled. */
  cancel(): void;
}

export class TxFinalHub {
  private readonly entries = new Map<string, Set<Entry>>();
  private readonly unsubscribe: () => void;
  private closed = false;
  private count = 0;

  constructor(
    service: LedgerService,
    private readonly reportError: ReportError,
  ) {
    this.unsubscribe = service.onTxFinal((view) => this.dispatch(view));
  }

  /** Number of registrations waiting for a final view. */
  get size(): number {
    return this.count;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Calls `onFinal` once when `idHex` becomes final, or `onClose` if the hub closes first.
   * Returns a function that cancels the registration (calling neither).
   */
  watch(idHex: string, onFinal: (view: TxView) => void, onClose: () => void): () => void {
    if (this.closed) {
      onClose();
      return () => undefined;
    }
    const key = idHex.toLowerCase();
    const entry: Entry = { onFinal, onClose };
    let set = this.entries.get(key);
    if (set === undefined) {
      set = new Set();
      this.entries.set(key, set);
    }
    set.add(entry);
    this.count += 1;
    return () => this.remove(key, entry);
  }

  /** Waits for one id; `timeoutMs` null waits until final, cancelled or closed. */
  wait(idHex: string, timeoutMs: number | null): Waiter {
    let settle: (outcome: WaitOutcome) => void = () => undefined;
    const promise = new Promise<WaitOutcome>((resolve) => {
      settle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (outcome: WaitOutcome): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      settle(outcome);
    };
    const stop = this.watch(
      idHex,
      (view) => finish({ kind: 'final', view }),
      () => finish({ kind: 'closed' }),
    );
    if (timeoutMs !== null && !done) {
      timer = setTimeout(() => {
        stop();
        finish({ kind: 'timeout' });
      }, timeoutMs);
    }
    return {
      promise,
      cancel: () => {
        stop();
        finish({ kind: 'cancelled' });
      },
    };
  }

  /** Stops listening to the service and tells every waiter that the server is going away. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    const all = [...this.entries.values()].flatMap((set) => [...set]);
    this.entries.clear();
    this.count = 0;
    for (const entry of all) this.call(() => entry.onClose(), 'closing a transaction waiter');
  }

  private remove(key: string, entry: Entry): void {
    const set = this.entries.get(key);
    if (set === undefined || !set.delete(entry)) return;
    this.count -= 1;
    if (set.size === 0) this.entries.delete(key);
  }

  private dispatch(view: TxView): void {
    const key = view.id.toLowerCase();
    const set = this.entries.get(key);
    if (set === undefined) return;
    this.entries.delete(key);
    this.count -= set.size;
    for (const entry of set)
      this.call(() => entry.onFinal(view), `delivering the final view of transaction ${key}`);
  }

  // The service calls dispatch synchronously from its commit path: an exception from one of our
  // listeners must not unwind into the processor, so it is reported here instead.
  private call(fn: () => void, context: string): void {
    try {
      fn();
    } catch (err) {
      this.reportError(err, context);
    }
  }
}
