// The settlement agent (docs/energy.md, "The settlement agent"): runs beside the processor and
// sends SettlePeriod for every market period whose gate has closed and that is not settled yet,
// oldest first, so that every period is settled on time without anyone having to. Periods of a
// context settle in order, so a period that cannot be settled holds back the later ones. Anyone may
// send SettlePeriod, so the agent signs with a key of its own; the contract decides, and a
// rejection (another settlement came first, the prices are missing) changes nothing.
//
// It reads the state through SQL and submits through a port, and takes time from a Scheduler, so
// it runs the same against a real processor and in tests.

import type { Cancel, Scheduler } from '../core/scheduler.js';
import type { Logger } from '../ledger/log.js';
import type { Sql } from '../store/types.js';

/** A period the agent should settle now. */
export interface DuePeriod {
  readonly context: string;
  readonly periodStartMs: number;
  /** The owner has set the period's prices (SettlePeriod needs them). */
  readonly hasPrices: boolean;
}

/** How the agent's SettlePeriod calls reach the chain, and what became of them. */
export interface SettlementSubmitter {
  /**
   * Sends SettlePeriod {context, periodStartMs}; resolves with its final outcome (`accepted`, or
   * the rejection's code), or null when it could not be sent (the agent tries again later).
   */
  settle(context: string, periodStartMs: number): Promise<{ status: string; code?: string } | null>;
}

export interface SettlementAgentOptions {
  /** How often to look for periods to settle (default 5 s). */
  readonly intervalMs?: number;
  /** Most periods settled per round (default 20). */
  readonly periodsPerRound?: number;
}

const INTERVAL_MS_DEFAULT = 5000;
const PERIODS_PER_ROUND_DEFAULT = 20;

/** Periods due for settlement at `nowMs`: gate closed, not settled; oldest first. */
export async function duePeriods(sql: Sql, nowMs: number, limit: number): Promise<DuePeriod[]> {
  const result = await sql.query<{ context: string; start_ms: string; has_prices: boolean }>(
    `SELECT p.context, p.period_start_ms::text AS start_ms, (pr.context IS NOT NULL) AS has_prices
       FROM state.energy_market_periods p
       JOIN state.energy_market_settings s ON s.context = p.context
       LEFT JOIN state.energy_market_prices pr
         ON pr.context = p.context AND pr.period_start_ms = p.period_start_ms
      WHERE NOT p.settled AND p.end_ms + s.gate_closure_ms <= $1
      ORDER BY p.period_start_ms, p.context
      LIMIT $2`,
    [nowMs, limit],
  );
  return result.rows.map((r) => ({
    context: r.context,
    periodStartMs: Number(r.start_ms),
    hasPrices: r.has_prices,
  }));
}

export class SettlementAgent {
  private readonly intervalMs: number;
  private readonly periodsPerRound: number;
  private cancel: Cancel | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** Periods whose missing prices were reported already (reported once each). */
  private readonly reportedMissing = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly submitter: SettlementSubmitter,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    options: SettlementAgentOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? INTERVAL_MS_DEFAULT;
    this.periodsPerRound = options.periodsPerRound ?? PERIODS_PER_ROUND_DEFAULT;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops looking; waits for a round that is under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
    await this.running;
  }

  /** One round: settles what is due now. Returns how many periods were settled. */
  async round(): Promise<number> {
    const due = await duePeriods(this.sql, this.scheduler.nowMs(), this.periodsPerRound);
    let settled = 0;
    // Periods settle in order: once one of a context is not settled, its later ones wait.
    const blocked = new Set<string>();
    for (const period of due) {
      if (this.stopped) break;
      if (blocked.has(period.context)) continue;
      const name = `${period.context}@${period.periodStartMs}`;
      if (!period.hasPrices) {
        blocked.add(period.context);
        if (!this.reportedMissing.has(name)) {
          this.reportedMissing.add(name);
          this.log.warn('a market period cannot be settled: its owner has set no prices', {
            context: period.context,
            periodStartMs: period.periodStartMs,
          });
        }
        continue;
      }
      const outcome = await this.submitter.settle(period.context, period.periodStartMs);
      if (
        outcome === null ||
        (outcome.status !== 'accepted' && outcome.code !== 'period_already_settled')
      )
        blocked.add(period.context);
      if (outcome === null) continue;
      if (outcome.status === 'accepted') {
        settled++;
        this.reportedMissing.delete(name);
        this.log.info('settled a market period', {
          context: period.context,
          periodStartMs: period.periodStartMs,
        });
      } else if (outcome.code !== 'period_already_settled' && outcome.code !== 'gate_not_closed') {
        this.log.warn('a market period was not settled', {
          context: period.context,
          periodStartMs: period.periodStartMs,
          status: outcome.status,
          code: outcome.code,
        });
      }
    }
    return settled;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancel = this.scheduler.after(delayMs, () => {
      this.cancel = null;
      this.running = this.round()
        .catch((err: unknown) => {
          this.log.warn('the settlement agent could not look for periods to settle', {
            error: err instanceof Error ? err.message : String(err),
          });
          return 0;
        })
        .then(() => {
          this.running = null;
          this.schedule(this.intervalMs);
        });
    });
  }
}
