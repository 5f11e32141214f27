// The processor's own metrics, next to the ones every ledger role has (src/ledger/metrics.ts).

import type { LedgerMetrics } from '../ledger/metrics.js';

export function registerProcessorMetrics(
  metrics: LedgerMetrics,
  pending: { readonly size: number },
  inFlight: { readonly size: number },
): void {
  metrics.gauge(
    'hanzenet_admission_queue_length',
    'Admitted transactions waiting for a block (the pending queue).',
    () => pending.size,
  );
  metrics.gauge(
    'hanzenet_transactions_in_flight',
    'Transactions taken from the queue into a block that is executing or committing.',
    () => inFlight.size,
  );
}
