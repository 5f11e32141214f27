// The gateway's reports: one JSON object per line (on stderr for the CLI), each with the time it
// was written and an `event` (docs/meter.md, "Reports"). Values are plain JSON: Wh as decimal
// strings, times as ms since the Unix epoch. The time comes from the gateway's Scheduler, so a
// simulated run stamps its lines with simulated time.

import type { Scheduler } from '../../core/scheduler.js';

export type GatewayEvent =
  | 'started'
  | 'baseline'
  | 'reading'
  | 'telegram_rejected'
  | 'disconnect'
  | 'silent'
  | 'outbox_full'
  | 'tx_accepted'
  | 'tx_rejected'
  | 'tx_resigned'
  | 'resync'
  | 'processor_unreachable'
  | 'source_error'
  | 'source_connected'
  | 'source_ended'
  | 'fatal'
  | 'stopped';

export interface GatewayReport {
  readonly event: GatewayEvent;
  readonly [field: string]: unknown;
}

export class GatewayReporter {
  readonly counts: Partial<Record<GatewayEvent, number>> = {};

  constructor(
    private readonly write: (line: string) => void,
    private readonly scheduler: Scheduler,
  ) {}

  emit(report: GatewayReport): void {
    this.counts[report.event] = (this.counts[report.event] ?? 0) + 1;
    this.write(
      `${JSON.stringify({ ts: new Date(this.scheduler.nowMs()).toISOString(), ...report })}\n`,
    );
  }
}
