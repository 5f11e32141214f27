// MarketCorrection (ours; docs/energy.md "Corrections", docs/decisions/0011-local-market.md): the
// context owner corrects what a trader metered in a market period, usually because reconciliation
// found that the grid operator measured something else. The correction is never written into the
// period's positions (the period is usually settled already): it waits in
// energy_market_corrections until the next SettlePeriod of the context settles it like late
// energy, as imbalance at the prices of its own period, and shows it in that trader's statement.
// Each correction is one row, settled by exactly one settlement.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { kwh } from '../helpers.js';
import { energyManifest } from '../tables.js';

export interface MarketCorrectionPayload {
  readonly context: string;
  readonly trader: string;
  readonly periodStartMs: number;
  readonly labels: readonly string[];
  /** Wh, signed: the change of what the trader metered in `direction` (positive: more). */
  readonly amount: bigint;
  /** `produced` or `consumed`. */
  readonly direction: string;
  readonly description?: string;
}

/** The codes MarketCorrection rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'market_not_on',
  'trader_not_found',
  'period_start_invalid',
  'period_not_ended',
  'direction_invalid',
  'amount_zero',
  'correction_too_large',
  'description_too_long',
] as const satisfies readonly EnergyRejectCodeName[];
type MarketCorrectionRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'MarketCorrection',
  version: '1.0',
  description:
    "Corrects what a trader metered in an ended market period; the next settlement settles it as imbalance at that period's prices. Only the context owner.",
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    trader: { type: 'addr', name: 'trader', desc: 'The trader whose metered energy is corrected' },
    periodStartMs: { type: 'uint', name: 'periodStartMs', desc: 'Start of the market period the energy was metered in, ms since the Unix epoch' },
    labels: { type: 'labels', name: 'labels', desc: 'The labels of the energy (the device\'s labels), e.g. [] for unlabelled energy' },
    amount: { type: 'kwh', name: 'amount', desc: 'kWh (at most 3 decimals), signed: positive the trader metered more, negative less' },
    direction: { type: 'str', name: 'direction', desc: 'produced or consumed' },
    description: { type: 'str?', name: 'description', desc: 'An optional description (at most 256 characters)' },
  },
  manifest: energyManifest(['energy_market_corrections', 'energy_market_counters'], ['energy_traders', 'energy_market_settings']),
  rejects: REJECTS,
  helpers: { kwh },
  execute: function execute(payload: MarketCorrectionPayload, ctx: ContractContext<MarketCorrectionRejectCode>): ContractResult {
    const CORRECTION_WH_MAX = 1000000000n;
    const DESCRIPTION_CHARS_MAX = 256;
    const context = payload.context;
    const trader = payload.trader;
    const amountWh = payload.amount;
    const description = payload.description ?? '';
    const nowMs = BigInt(ctx.block.processedMs);
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may correct metered market energy; the sender is ${ctx.sender}`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null) return ctx.reject('market_not_on', `context ${context} has never turned its market on (Market), so it has no market periods to correct`);
    if (ctx.db.get('energy_traders', { context, address: trader }) === null) {
      return ctx.reject('trader_not_found', `${trader} is not a trader in context ${context}`);
    }
    const periodMs = settings['period_ms'] as bigint;
    const startMs = BigInt(payload.periodStartMs);
    if (startMs % periodMs !== 0n) {
      return ctx.reject('period_start_invalid', `${startMs} is not the start of a period of context ${context}: periods start at multiples of ${periodMs} ms`);
    }
    if (startMs + periodMs > nowMs) {
      return ctx.reject('period_not_ended', `the period starting at ${startMs} of context ${context} ends at ${startMs + periodMs}, after the block time ${nowMs}; only metered (ended) periods are corrected`);
    }
    if (payload.direction !== 'produced' && payload.direction !== 'consumed') {
      return ctx.reject('direction_invalid', `direction must be "produced" or "consumed", got ${JSON.stringify(payload.direction)}`);
    }
    if (amountWh === 0n) return ctx.reject('amount_zero', `the correction of ${trader} in context ${context} must not be zero: positive the trader metered more, negative less`);
    if (amountWh > CORRECTION_WH_MAX || amountWh < -CORRECTION_WH_MAX) {
      return ctx.reject('correction_too_large', `a correction is at most ${kwh(CORRECTION_WH_MAX)} in magnitude, got ${kwh(amountWh)}`);
    }
    if (description.length > DESCRIPTION_CHARS_MAX) {
      return ctx.reject('description_too_long', `the description holds ${description.length} characters; at most ${DESCRIPTION_CHARS_MAX} are allowed`);
    }
    const counterKey = { context, name: 'correction_seq' };
    const counter = ctx.db.get('energy_market_counters', counterKey);
    const seq = counter === null ? 1n : (counter['value'] as bigint) + 1n;
    ctx.db.put('energy_market_counters', { ...counterKey, value: seq });
    ctx.db.put('energy_market_corrections', {
      context,
      seq,
      tx_id: ctx.txId,
      period_start_ms: startMs,
      trader,
      labels: [...payload.labels],
      direction: payload.direction,
      wh: amountWh,
      description,
      height: BigInt(ctx.block.height),
      settled_period_ms: -1n,
    });
    return 'OK';
  },
});
