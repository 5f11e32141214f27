// Reduce (thesis 6.2.6): a trader removes a non-empty subset of the labels from some of its
// energy in one period. The amount leaves the balance with the original labels (which must hold
// at least that much) and joins the balance with the remaining labels, where it may cancel a
// negative balance (thesis figure 6). Labels can only ever be removed, never added.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import { applyBalanceChange, kwh, labelText, periodStartingAt, planBalanceChange } from './helpers.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface ReducePayload {
  readonly context: string;
  /** The first block of the settlement period. */
  readonly block: number;
  readonly originalLabels: readonly string[];
  /** Wh. */
  readonly amount: bigint;
  readonly labelsToRemove: readonly string[];
}

/** The codes Reduce rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'sender_not_trader',
  'amount_must_be_positive',
  'labels_to_remove_empty',
  'labels_to_remove_not_subset',
  'block_not_period_start',
  'insufficient_energy',
  'balance_limit_exceeded',
] as const satisfies readonly EnergyRejectCodeName[];
type ReduceRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Reduce',
  version: '1.0',
  description: 'Removes labels from some of the signing trader\'s energy in one period.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    block: { type: 'uint', name: 'block', desc: 'The settlement period, named by its first block' },
    originalLabels: { type: 'labels', name: 'originalLabels', desc: 'The exact label set of the energy to reduce' },
    amount: { type: 'kwh', name: 'amount', desc: 'kWh to reduce (positive, at most 3 decimals)' },
    labelsToRemove: { type: 'labels', name: 'labelsToRemove', desc: 'The labels to remove: a non-empty subset of originalLabels' },
  },
  manifest: energyManifest(['energy_balances', 'energy_history'], ['energy_traders', 'energy_periods']),
  rejects: REJECTS,
  helpers: { kwh, labelText, periodStartingAt, planBalanceChange, applyBalanceChange },
  execute: function execute(payload: ReducePayload, ctx: ContractContext<ReduceRejectCode>): ContractResult {
    const BALANCE_WH_MAX = 1000000000000000n;
    const context = payload.context;
    const sender = ctx.sender;
    const amountWh = payload.amount;
    const original = [...new Set(payload.originalLabels)].sort();
    const toRemove = [...new Set(payload.labelsToRemove)].sort();
    if (ctx.db.get('energy_traders', { context, address: sender }) === null) {
      return ctx.reject('sender_not_trader', `sender ${sender} is not a trader in context ${context}`);
    }
    if (amountWh <= 0n) return ctx.reject('amount_must_be_positive', `the amount to reduce must be positive, got ${kwh(amountWh)}`);
    if (toRemove.length === 0) {
      return ctx.reject('labels_to_remove_empty', `labelsToRemove is empty: name at least one of the labels in [${original.join(', ')}] to remove`);
    }
    const missing = toRemove.filter((label) => !original.includes(label));
    if (missing.length > 0) {
      return ctx.reject(
        'labels_to_remove_not_subset',
        `cannot remove [${missing.join(', ')}]: not in originalLabels [${original.join(', ')}]; labels can only be removed from energy that carries them`,
      );
    }
    const period = periodStartingAt(ctx, context, payload.block);
    if (period === null) {
      return ctx.reject(
        'block_not_period_start',
        `block ${payload.block} is not the first block of a settlement period in context ${context}; name a period by its first block`,
      );
    }
    const from = planBalanceChange(ctx, context, period, sender, original, -amountWh);
    if (from.beforeWh < amountWh) {
      return ctx.reject(
        'insufficient_energy',
        `trader ${sender} holds ${kwh(from.beforeWh)} with ${labelText(original)} in period ${payload.block} of context ${context}, less than the ${kwh(amountWh)} to reduce`,
      );
    }
    const remaining = original.filter((label) => !toRemove.includes(label));
    const to = planBalanceChange(ctx, context, period, sender, remaining, amountWh);
    if (to.afterWh > BALANCE_WH_MAX) {
      return ctx.reject(
        'balance_limit_exceeded',
        `reducing ${kwh(amountWh)} would bring the balance of ${sender} with ${labelText(remaining)} in period ${payload.block} of context ${context} to ${kwh(to.afterWh)}, beyond the limit of ${kwh(BALANCE_WH_MAX)}`,
      );
    }
    applyBalanceChange(ctx, context, period, from, { seq: 0n, kind: 'reduce', counterparty: '', description: '' });
    applyBalanceChange(ctx, context, period, to, { seq: 1n, kind: 'reduce', counterparty: '', description: '' });
    return 'OK';
  },
});
