// Mutate (thesis 6.2.7): the context owner changes a trader's balance of one period and label set
// by any non-zero amount, for settlement with external suppliers (thesis 5.3.1). Unlike Transfer
// it may make a balance negative; with Energy it is the only way the sum of balances changes.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import { applyBalanceChange, kwh, periodStartingAt, planBalanceChange } from './helpers.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface MutatePayload {
  readonly context: string;
  readonly trader: string;
  /** The first block of the settlement period. */
  readonly block: number;
  readonly labels: readonly string[];
  /** Wh, positive or negative. */
  readonly amount: bigint;
  readonly description?: string;
}

/** The codes Mutate rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'trader_not_found',
  'amount_zero',
  'description_too_long',
  'block_not_period_start',
  'balance_limit_exceeded',
] as const satisfies readonly EnergyRejectCodeName[];
type MutateRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Mutate',
  version: '1.0',
  description: 'Changes a trader\'s balance of one period and label set by any amount. Only the context owner.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    trader: { type: 'addr', name: 'trader', desc: 'The trader whose balance changes' },
    block: { type: 'uint', name: 'block', desc: 'The settlement period, named by its first block' },
    labels: { type: 'labels', name: 'labels', desc: 'The label set of the balance, e.g. [] for unlabelled energy' },
    amount: { type: 'kwh', name: 'amount', desc: 'kWh to add (positive) or take away (negative), at most 3 decimals' },
    description: { type: 'str?', name: 'description', desc: 'An optional description (at most 256 characters)' },
  },
  manifest: energyManifest(['energy_balances', 'energy_history'], ['energy_traders', 'energy_periods']),
  rejects: REJECTS,
  helpers: { kwh, periodStartingAt, planBalanceChange, applyBalanceChange },
  execute: function execute(payload: MutatePayload, ctx: ContractContext<MutateRejectCode>): ContractResult {
    const BALANCE_WH_MAX = 1000000000000000n;
    const DESCRIPTION_CHARS_MAX = 256;
    const context = payload.context;
    const trader = payload.trader;
    const amountWh = payload.amount;
    const labels = [...new Set(payload.labels)].sort();
    const description = payload.description ?? '';

    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may mutate balances; the sender is ${ctx.sender}`);
    }
    if (ctx.db.get('energy_traders', { context, address: trader }) === null) {
      return ctx.reject('trader_not_found', `${trader} is not a trader in context ${context}`);
    }
    if (amountWh === 0n) return ctx.reject('amount_zero', `the amount to mutate the balance of ${trader} in context ${context} by must not be zero`);
    if (description.length > DESCRIPTION_CHARS_MAX) {
      return ctx.reject('description_too_long', `the description holds ${description.length} characters; at most ${DESCRIPTION_CHARS_MAX} are allowed`);
    }
    const period = periodStartingAt(ctx, context, payload.block);
    if (period === null) {
      return ctx.reject(
        'block_not_period_start',
        `block ${payload.block} is not the first block of a settlement period in context ${context}; name a period by its first block`,
      );
    }
    const change = planBalanceChange(ctx, context, period, trader, labels, amountWh);
    const afterWh = change.afterWh;
    if (afterWh > BALANCE_WH_MAX || afterWh < -BALANCE_WH_MAX) {
      return ctx.reject(
        'balance_limit_exceeded',
        `mutating by ${kwh(amountWh)} would bring the balance of ${trader} in period ${payload.block} of context ${context} to ${kwh(afterWh)}, beyond the limit of ${kwh(BALANCE_WH_MAX)}`,
      );
    }
    applyBalanceChange(ctx, context, period, change, { seq: 0n, kind: 'mutate', counterparty: context, description });
    return 'OK';
  },
});
