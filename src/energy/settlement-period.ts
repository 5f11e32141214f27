// SettlementPeriod (ours; the thesis has no such contract): the context owner sets the length of
// the context's settlement period. 0 (the default, also when never set) makes every block its own
// period, exactly as in the thesis; 900 gives the Dutch 15-minute imbalance settlement period.
// The length must divide a day, so periods line up with the clock (UTC). A new length applies
// from the next block on, so the energy of one block is always booked in one period.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface SettlementPeriodPayload {
  readonly context: string;
  readonly periodSeconds: number;
}

/** The codes SettlementPeriod rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'period_length_invalid',
] as const satisfies readonly EnergyRejectCodeName[];
type SettlementPeriodRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'SettlementPeriod',
  version: '1.0',
  description: 'Sets the settlement period length of a context (0: every block is its own period). Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    periodSeconds: { type: 'uint', name: 'periodSeconds', desc: 'Seconds per period, a divisor of 86400 such as 900; 0 makes every block a period' },
  },
  manifest: energyManifest(['energy_settings'], []),
  rejects: REJECTS,
  execute: function execute(payload: SettlementPeriodPayload, ctx: ContractContext<SettlementPeriodRejectCode>): ContractResult {
    const DAY_SECONDS = 86400;
    const context = payload.context;
    const seconds = payload.periodSeconds;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may set its settlement period; the sender is ${ctx.sender}`);
    }
    if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > DAY_SECONDS || (seconds > 0 && DAY_SECONDS % seconds !== 0)) {
      return ctx.reject(
        'period_length_invalid',
        `periodSeconds ${seconds} is not allowed in context ${context}: use 0 (every block its own period) or a divisor of ${DAY_SECONDS}, such as 900 for 15 minutes`,
      );
    }
    const periodMs = BigInt(seconds) * 1000n;
    const height = BigInt(ctx.block.height);
    const current = ctx.db.get('energy_settings', { context });
    if (current === null) {
      if (periodMs !== 0n) ctx.db.put('energy_settings', { context, period_ms: periodMs, previous_period_ms: 0n, from_height: height + 1n });
      return 'OK';
    }
    if (current['period_ms'] === periodMs) return 'OK';
    // The length in force in this block stays in force until the block ends.
    const inForceMs = height >= (current['from_height'] as bigint) ? (current['period_ms'] as bigint) : (current['previous_period_ms'] as bigint);
    ctx.db.put('energy_settings', { context, period_ms: periodMs, previous_period_ms: inForceMs, from_height: height + 1n });
    return 'OK';
  },
});
