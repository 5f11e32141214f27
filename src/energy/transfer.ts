// Transfer (thesis 6.2.5): a trader moves energy of one period and one exact label set to another
// trader of the same context. Trading never makes a balance negative (thesis 5.2): the sender
// must hold at least the amount in that very balance.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import { applyBalanceChange, kwh, labelText, periodStartingAt, planBalanceChange } from './helpers.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface TransferPayload {
  readonly context: string;
  readonly receiver: string;
  /** The first block of the settlement period. */
  readonly block: number;
  readonly labels: readonly string[];
  /** Wh. */
  readonly amount: bigint;
  readonly description?: string;
}

/** The codes Transfer rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'sender_not_trader',
  'receiver_not_trader',
  'transfer_to_self',
  'amount_must_be_positive',
  'description_too_long',
  'block_not_period_start',
  'insufficient_energy',
  'balance_limit_exceeded',
] as const satisfies readonly EnergyRejectCodeName[];
type TransferRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Transfer',
  version: '1.0',
  description: 'Transfers energy of one period and label set from the signing trader to another trader.',
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address' },
    receiver: { type: 'addr', name: 'receiver', desc: 'The trader receiving the energy' },
    block: { type: 'uint', name: 'block', desc: 'The settlement period, named by its first block' },
    labels: { type: 'labels', name: 'labels', desc: 'The exact label set of the energy, e.g. ["solar"] or []' },
    amount: { type: 'kwh', name: 'amount', desc: 'kWh to transfer (positive, at most 3 decimals)' },
    description: { type: 'str?', name: 'description', desc: 'An optional description (at most 256 characters)' },
  },
  manifest: energyManifest(['energy_balances', 'energy_history'], ['energy_traders', 'energy_periods']),
  rejects: REJECTS,
  helpers: { kwh, labelText, periodStartingAt, planBalanceChange, applyBalanceChange },
  execute: function execute(payload: TransferPayload, ctx: ContractContext<TransferRejectCode>): ContractResult {
    const BALANCE_WH_MAX = 1000000000000000n;
    const DESCRIPTION_CHARS_MAX = 256;
    const context = payload.context;
    const sender = ctx.sender;
    const receiver = payload.receiver;
    const amountWh = payload.amount;
    const labels = [...new Set(payload.labels)].sort();
    const description = payload.description ?? '';

    function isTrader(address: string): boolean {
      return ctx.db.get('energy_traders', { context, address }) !== null;
    }

    if (!isTrader(sender)) return ctx.reject('sender_not_trader', `sender ${sender} is not a trader in context ${context}`);
    if (!isTrader(receiver)) return ctx.reject('receiver_not_trader', `receiver ${receiver} is not a trader in context ${context}`);
    if (receiver === sender) return ctx.reject('transfer_to_self', `trader ${sender} cannot transfer energy to itself in context ${context}`);
    if (amountWh <= 0n) return ctx.reject('amount_must_be_positive', `the amount to transfer must be positive, got ${kwh(amountWh)}`);
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
    const from = planBalanceChange(ctx, context, period, sender, labels, -amountWh);
    if (from.beforeWh < amountWh) {
      return ctx.reject(
        'insufficient_energy',
        `sender ${sender} holds ${kwh(from.beforeWh)} with ${labelText(labels)} in period ${payload.block} of context ${context}, less than the ${kwh(amountWh)} to transfer`,
      );
    }
    const to = planBalanceChange(ctx, context, period, receiver, labels, amountWh);
    if (to.afterWh > BALANCE_WH_MAX) {
      return ctx.reject(
        'balance_limit_exceeded',
        `receiving ${kwh(amountWh)} would bring the balance of ${receiver} in period ${payload.block} of context ${context} to ${kwh(to.afterWh)}, beyond the limit of ${kwh(BALANCE_WH_MAX)}`,
      );
    }
    applyBalanceChange(ctx, context, period, from, { seq: 0n, kind: 'transfer', counterparty: receiver, description });
    applyBalanceChange(ctx, context, period, to, { seq: 1n, kind: 'transfer', counterparty: sender, description });
    return 'OK';
  },
});
