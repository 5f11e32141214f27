// MemberPosition (ours; decision 0012, "Up"): what a child marketplace could not settle locally in
// a period, as its processor signed it: this transaction is the checkpoint, and its signer must
// be the processor key registered for the member (MarketMember). It names the child chain, the
// child block that settled the period (height and hash) and the residual per direction and label
// set, which it books into the period as the member trader's production and consumption (under
// the member's producer and consumer devices). One position per member and period, before the
// period's gate closes here; periods and child heights only move forward.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { kwh, labelText } from '../helpers.js';
import { energyManifest } from '../tables.js';
import { bookMarketShares } from './booking.js';

export interface MemberPositionPayload {
  readonly context: string;
  readonly member: string;
  readonly chain: string;
  readonly childContext: string;
  readonly periodStartMs: number;
  readonly periodSeconds: number;
  readonly height: number;
  readonly blockHash: string;
  readonly directions: readonly string[];
  readonly labels: readonly (readonly string[])[];
  /** Wh (the template's kwh type turns kWh into Wh). */
  readonly amounts: readonly bigint[];
}

/** The codes MemberPosition rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'member_unknown',
  'checkpoint_signer_unknown',
  'checkpoint_mismatch',
  'market_not_on',
  'period_length_mismatch',
  'period_start_invalid',
  'period_already_settled',
  'position_after_gate',
  'position_exists',
  'checkpoint_out_of_order',
  'checkpoint_invalid',
  'position_limit_exceeded',
] as const satisfies readonly EnergyRejectCodeName[];
type MemberPositionRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'MemberPosition',
  version: '1.0',
  description: "Books a child marketplace's residual of a period as its member's position, signed by the child's processor.",
  template: {
    context: { type: 'addr', name: 'context', desc: 'The parent context' },
    member: { type: 'addr', name: 'member', desc: 'The member trader (the child context)' },
    chain: { type: 'str', name: 'chain', desc: "The child's chain id" },
    childContext: { type: 'addr', name: 'childContext', desc: 'The child context' },
    periodStartMs: { type: 'uint', name: 'periodStartMs', desc: 'Start of the period, ms since the Unix epoch' },
    periodSeconds: { type: 'uint', name: 'periodSeconds', desc: "The child's period length in seconds" },
    height: { type: 'uint', name: 'height', desc: 'The child block that settled the period locally' },
    blockHash: { type: 'hash', name: 'blockHash', desc: 'The hash of that child block' },
    directions: { type: 'strArray', name: 'directions', desc: 'produced or consumed, per position' },
    labels: { type: 'labelsArray', name: 'labels', desc: 'The label set of each position' },
    amounts: { type: 'kwhArray', name: 'amounts', desc: 'kWh of each position, above 0, at most 3 decimals' },
  },
  manifest: energyManifest(
    ['energy_market_member_positions', 'energy_market_members', 'energy_market_periods', 'energy_market_positions', 'energy_market_bookings', 'energy_market_late'],
    ['energy_market_settings'],
  ),
  rejects: REJECTS,
  helpers: { kwh, labelText, bookMarketShares },
  execute: function execute(payload: MemberPositionPayload, ctx: ContractContext<MemberPositionRejectCode>): ContractResult {
    const POSITION_WH_MAX = 1000000000n;
    const POSITIONS_MAX = 64;
    const context = payload.context;
    const member = payload.member;
    const row = ctx.db.get('energy_market_members', { context, member });
    if (row === null) return ctx.reject('member_unknown', `${member} is not a member of the market of context ${context} (MarketMember)`);
    if (ctx.sender !== row['processor']) {
      return ctx.reject('checkpoint_signer_unknown', `a position of member ${member} must be signed by its child processor ${row['processor']}; it was signed by ${ctx.sender}`);
    }
    if (payload.chain !== row['chain'] || payload.childContext !== row['child_context']) {
      return ctx.reject('checkpoint_mismatch', `member ${member} stands for context ${row['child_context']} on chain ${row['chain']}; the position is of context ${payload.childContext} on chain ${payload.chain}`);
    }
    const settings = ctx.db.get('energy_market_settings', { context });
    if (settings === null || settings['market_on'] !== true) return ctx.reject('market_not_on', `the market of context ${context} is not on`);
    const periodMs = settings['period_ms'] as bigint;
    if (BigInt(payload.periodSeconds) * 1000n !== periodMs) {
      return ctx.reject('period_length_mismatch', `context ${context} has periods of ${periodMs / 1000n} s; the child's are ${payload.periodSeconds} s`);
    }
    const startMs = BigInt(payload.periodStartMs);
    if (startMs % periodMs !== 0n) {
      return ctx.reject('period_start_invalid', `${startMs} is not the start of a period of context ${context}: periods start at multiples of ${periodMs} ms`);
    }
    const period = ctx.db.get('energy_market_periods', { context, period_start_ms: startMs });
    if (period !== null && period['settled'] === true) {
      return ctx.reject('period_already_settled', `the period starting at ${startMs} of context ${context} is settled; the position of member ${member} came too late`);
    }
    const gateMs = startMs + periodMs + (settings['gate_closure_ms'] as bigint);
    const nowMs = BigInt(ctx.block.processedMs);
    if (nowMs >= gateMs) {
      return ctx.reject('position_after_gate', `the gate of the period starting at ${startMs} of context ${context} closed at ${gateMs} (block time ${nowMs}); the owner settles member ${member} externally for it`);
    }
    if (ctx.db.get('energy_market_member_positions', { context, member, period_start_ms: startMs }) !== null) {
      return ctx.reject('position_exists', `member ${member} has a position for the period starting at ${startMs} of context ${context} already`);
    }
    const height = BigInt(payload.height);
    if (startMs <= (row['last_period_ms'] as bigint) || height <= (row['last_height'] as bigint)) {
      return ctx.reject('checkpoint_out_of_order', `positions of member ${member} only move forward: its last was for the period starting at ${row['last_period_ms']} at child height ${row['last_height']}; this one is for ${startMs} at height ${height}`);
    }
    const count = payload.directions.length;
    if (count > POSITIONS_MAX || payload.labels.length !== count || payload.amounts.length !== count) {
      return ctx.reject('checkpoint_invalid', `a position needs directions, labels and amounts of equal length (at most ${POSITIONS_MAX}); got ${count}, ${payload.labels.length} and ${payload.amounts.length}`);
    }
    const seen = new Set<string>();
    let producedWh = 0n;
    let consumedWh = 0n;
    for (let i = 0; i < count; i++) {
      const direction = payload.directions[i] as string;
      const labels = payload.labels[i] as string[];
      const wh = payload.amounts[i] as bigint;
      const key = direction + ':' + labels.join(',');
      if ((direction !== 'produced' && direction !== 'consumed') || wh <= 0n || seen.has(key)) {
        return ctx.reject('checkpoint_invalid', `position ${i} of member ${member} (${JSON.stringify(direction)}, ${labelText(labels)}, ${kwh(wh)}) needs direction produced or consumed, an amount above 0 and a direction and label set of its own`);
      }
      seen.add(key);
      if (direction === 'produced') producedWh += wh;
      else consumedWh += wh;
      const device = (direction === 'produced' ? row['producer'] : row['consumer']) as string;
      const over = bookMarketShares(ctx, { context, trader: member, labels: [...labels], direction, device, periodMs }, [{ startMs, wh, estimated: false }], POSITION_WH_MAX);
      if (over !== null) {
        return ctx.reject('position_limit_exceeded', `member ${member}'s ${direction} position with ${labelText(labels)} in the period starting at ${startMs} would reach ${kwh(over.afterWh)}; at most ${kwh(POSITION_WH_MAX)}`);
      }
    }
    const blockHeight = BigInt(ctx.block.height);
    ctx.db.put('energy_market_member_positions', { context, member, period_start_ms: startMs, chain: payload.chain, child_height: height, child_block_hash: payload.blockHash, produced_wh: producedWh, consumed_wh: consumedWh, tx_id: ctx.txId, height: blockHeight });
    ctx.db.put('energy_market_members', { ...row, last_period_ms: startMs, last_height: height });
    return 'OK';
  },
});
