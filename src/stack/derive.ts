// Deriving the two crossing transactions' payloads from one chain's own database
// (docs/decisions/0012): the child derives the MemberPosition of a period whose upstream row is
// open; the parent derives the UpstreamSettlement of a member once its period is complete, or the
// missed variant once its gate closed without a position. Errors are coded and change nothing.

import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { stackTxIdHex } from './ids.js';
import {
  buildMemberPosition,
  buildMissedSettlement,
  buildUpstreamSettlement,
  settlementHeight,
} from './payloads.js';
import type { MemberPositionPayload, UpstreamSettlementPayload } from './payloads.js';
import {
  blockHashAt,
  firstBlockAtOrAfter,
  flowsOfTrader,
  isPeriodSettled,
  marketTiming,
  memberOf,
  memberPositionOf,
  parentOf,
  pricesOf,
  residualsOf,
  upstreamOf,
} from './queries.js';

export interface DerivedUp {
  readonly idHex: string;
  /** The chain the transaction is for (the parent's). */
  readonly chainId: string;
  readonly payload: MemberPositionPayload;
}

export interface DerivedDown {
  readonly idHex: string;
  /** The chain the transaction is for (the child's). */
  readonly chainId: string;
  readonly payload: UpstreamSettlementPayload;
}

/** The MemberPosition of a child context's period, from the child's own chain (`childChain`). */
export async function deriveUp(
  sql: Sql,
  childChain: string,
  context: string,
  periodStartMs: number,
  parentChain: string,
): Promise<DerivedUp> {
  const where = { context, periodStartMs, parentChain };
  const parent = await parentOf(sql, context);
  if (parent === null || parent.parentChain !== parentChain) {
    const has =
      parent === null ? 'has no parent market' : `has its parent on chain ${parent.parentChain}`;
    throw new ChainError(
      'stack_not_linked',
      `context ${context} ${has}, not on chain ${parentChain}`,
      where,
    );
  }
  const upstream = await upstreamOf(sql, context, periodStartMs);
  if (upstream === null || upstream.state !== 'open') {
    const why =
      upstream === null
        ? 'has no upstream row (not settled locally yet, or it left no residual)'
        : `is ${upstream.state} with the parent already`;
    throw new ChainError(
      'stack_upstream_not_open',
      `the period starting at ${periodStartMs} of context ${context} ${why}`,
      where,
    );
  }
  const residuals = await residualsOf(sql, context, periodStartMs);
  const timing = await marketTiming(sql, context);
  const blockHash = await blockHashAt(sql, upstream.localHeight);
  if (residuals.length === 0 || timing === null || blockHash === null) {
    throw new ChainError(
      'stack_no_residual',
      `the open upstream row of the period starting at ${periodStartMs} of context ${context} has no residual rows`,
      where,
    );
  }
  const payload = buildMemberPosition({
    parentContext: parent.parentContext,
    childChain,
    childContext: context,
    periodStartMs,
    periodMs: timing.periodMs,
    height: upstream.localHeight,
    blockHash,
    residuals,
  });
  const idHex = stackTxIdHex({
    childChain,
    parentChain,
    childContext: context,
    periodStartMs,
    direction: 'up',
  });
  return { idHex, chainId: parentChain, payload };
}

/** The UpstreamSettlement of a member of a parent context, from the parent's own chain. */
export async function deriveDown(
  sql: Sql,
  parentChain: string,
  context: string,
  periodStartMs: number,
  member: string,
  childChain: string,
): Promise<DerivedDown> {
  const where = { context, periodStartMs, member, childChain };
  const row = await memberOf(sql, context, member);
  if (row === null || row.chain !== childChain) {
    const is = row === null ? 'is no member' : `is linked to chain ${row.chain}`;
    throw new ChainError(
      'stack_not_linked',
      `trader ${member} of context ${context} ${is}, not to chain ${childChain}`,
      where,
    );
  }
  const idHex = stackTxIdHex({
    childChain,
    parentChain,
    childContext: row.childContext,
    periodStartMs,
    direction: 'down',
  });
  const position = await memberPositionOf(sql, context, member, periodStartMs);
  const payload =
    position === null
      ? await missedPayload(sql, parentChain, context, periodStartMs, member)
      : await settledPayload(sql, parentChain, context, periodStartMs, member);
  return { idHex, chainId: childChain, payload };
}

async function settledPayload(
  sql: Sql,
  parentChain: string,
  context: string,
  periodStartMs: number,
  member: string,
): Promise<UpstreamSettlementPayload> {
  const where = { context, periodStartMs, member };
  if (!(await isPeriodSettled(sql, context, periodStartMs))) {
    throw new ChainError(
      'stack_period_incomplete',
      `the period starting at ${periodStartMs} of context ${context} is not settled yet`,
      where,
    );
  }
  // A parent with a parent of its own is complete only once its own residual came back down.
  const own = await upstreamOf(sql, context, periodStartMs);
  if (own !== null && own.state !== 'settled') {
    throw new ChainError(
      'stack_period_incomplete',
      `the period starting at ${periodStartMs} of context ${context} waits for its own parent market (upstream ${own.state})`,
      where,
    );
  }
  const prices = await pricesOf(sql, context, periodStartMs);
  const flows = await flowsOfTrader(sql, context, periodStartMs, member);
  const height = settlementHeight(member, flows);
  const blockHash = height === null ? null : await blockHashAt(sql, height);
  if (prices === null || height === null || blockHash === null) {
    throw new ChainError(
      'stack_period_incomplete',
      `the settled period starting at ${periodStartMs} of context ${context} holds no flows of member ${member}`,
      where,
    );
  }
  const head = { parentChain, parentContext: context, member, periodStartMs, height, blockHash };
  return buildUpstreamSettlement(
    { ...head, supplyUeur: prices.supplyUeur, feedInUeur: prices.feedInUeur },
    flows,
  );
}

async function missedPayload(
  sql: Sql,
  parentChain: string,
  context: string,
  periodStartMs: number,
  member: string,
): Promise<UpstreamSettlementPayload> {
  const where = { context, periodStartMs, member };
  const timing = await marketTiming(sql, context);
  if (timing === null) {
    throw new ChainError('stack_period_incomplete', `context ${context} has no market`, where);
  }
  // Once a block at or after the gate closure exists, no position can be accepted any more:
  // MemberPosition refuses it (position_after_gate), so "missed" is final.
  const gateMs = periodStartMs + timing.periodMs + timing.gateClosureMs;
  const block = await firstBlockAtOrAfter(sql, gateMs);
  if (block === null) {
    throw new ChainError(
      'stack_period_incomplete',
      `member ${member} has no position for the period starting at ${periodStartMs} of context ${context}, whose gate closes at ${gateMs}`,
      { ...where, gateMs },
    );
  }
  const prices = await pricesOf(sql, context, periodStartMs);
  if (prices === null) {
    throw new ChainError(
      'stack_prices_missing',
      `context ${context} has no prices for the period starting at ${periodStartMs}, which member ${member} missed`,
      where,
    );
  }
  return buildMissedSettlement({
    parentChain,
    parentContext: context,
    member,
    periodStartMs,
    supplyUeur: prices.supplyUeur,
    feedInUeur: prices.feedInUeur,
    height: block.height,
    blockHash: block.hash,
  });
}
