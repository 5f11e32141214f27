// The JSON views of the stacked marketplaces' reads (docs/api.md, "Stacked marketplaces"): energy
// as exact kWh text, prices as exact EUR text, heights and times as numbers.

import { formatWh } from '../core/amount.js';
import type { MemberPositionPayload, UpstreamSettlementPayload } from './payloads.js';
import { formatUeur } from './payloads.js';
import type { ParentFlowRow, ResidualRow } from './payloads.js';
import type { MemberPositionRow, MemberRow, ParentLink, UpstreamRow } from './queries.js';

export interface ParentsView {
  readonly parentChain: string;
  readonly parents: ParentLink[];
}

export interface UpstreamRowView {
  readonly periodStartMs: number;
  readonly state: string;
  readonly localHeight: number;
  readonly producedKwh: string;
  readonly consumedKwh: string;
  readonly missed: boolean;
  readonly parentHeight: number;
  readonly parentBlockHash: string;
  readonly settledHeight: number;
}

export interface UpstreamView {
  readonly context: string;
  readonly upstream: UpstreamRowView[];
}

export interface ResidualRowView {
  readonly trader: string;
  readonly direction: string;
  readonly labels: string[];
  readonly kwh: string;
}

export interface ResidualsView {
  readonly context: string;
  readonly periodStartMs: number;
  /** The context's market period length (null: the market was never on). */
  readonly periodSeconds: number | null;
  readonly residuals: ResidualRowView[];
}

export interface MembersView {
  readonly context: string;
  readonly members: MemberRow[];
}

export interface MemberPositionView {
  readonly member: string;
  readonly periodStartMs: number;
  readonly chain: string;
  readonly childHeight: number;
  readonly childBlockHash: string;
  readonly producedKwh: string;
  readonly consumedKwh: string;
  readonly txId: string;
  readonly height: number;
}

export interface MemberPositionsView {
  readonly context: string;
  readonly positions: MemberPositionView[];
}

export interface MemberFlowView {
  readonly seq: number;
  readonly kind: string;
  readonly seller: string;
  readonly buyer: string;
  readonly labels: string[];
  readonly kwh: string;
  readonly priceEur: string;
  readonly height: number;
}

/** A member's flows in a parent's period, with what decides whether and how it goes down. */
export interface MemberFlowsView {
  readonly context: string;
  readonly member: string;
  readonly periodStartMs: number;
  readonly settled: boolean;
  /** The context's own upstream row of the period (a parent with a parent), or null. */
  readonly upstreamState: string | null;
  readonly hasPosition: boolean;
  readonly supplyEur: string | null;
  readonly feedInEur: string | null;
  /** The first block at or after the period's gate closure, or null while there is none. */
  readonly gateBlock: { readonly height: number; readonly hash: string } | null;
  readonly flows: MemberFlowView[];
}

/** A transaction a processor signed for the other chain. */
export interface SignedStackTxView {
  readonly id: string;
  /** The chain it is signed for. */
  readonly chainId: string;
  readonly contractType: 'MemberPosition' | 'UpstreamSettlement';
  readonly contractHash: string;
  /** The transaction's bytes, hex. */
  readonly tx: string;
  readonly payload: MemberPositionPayload | UpstreamSettlementPayload;
}

export function upstreamRowView(r: UpstreamRow): UpstreamRowView {
  return {
    periodStartMs: r.periodStartMs,
    state: r.state,
    localHeight: r.localHeight,
    producedKwh: formatWh(r.producedWh),
    consumedKwh: formatWh(r.consumedWh),
    missed: r.missed,
    parentHeight: r.parentHeight,
    parentBlockHash: r.parentBlockHash,
    settledHeight: r.settledHeight,
  };
}

export function residualRowView(r: ResidualRow): ResidualRowView {
  return { trader: r.trader, direction: r.direction, labels: [...r.labels], kwh: formatWh(r.wh) };
}

export function memberPositionView(r: MemberPositionRow): MemberPositionView {
  return {
    member: r.member,
    periodStartMs: r.periodStartMs,
    chain: r.chain,
    childHeight: r.childHeight,
    childBlockHash: r.childBlockHash,
    producedKwh: formatWh(r.producedWh),
    consumedKwh: formatWh(r.consumedWh),
    txId: r.txId,
    height: r.height,
  };
}

export function memberFlowView(f: ParentFlowRow): MemberFlowView {
  return {
    seq: Number(f.seq),
    kind: f.kind,
    seller: f.seller,
    buyer: f.buyer,
    labels: [...f.labels],
    kwh: formatWh(f.wh),
    priceEur: formatUeur(f.priceUeur),
    height: Number(f.height),
  };
}
