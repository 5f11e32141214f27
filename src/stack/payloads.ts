// The payloads of the two transactions between a child and a parent market, built from rows
// (docs/decisions/0012-stacked-marketplaces.md): MemberPosition goes up (the child's residual of a
// period, summed per direction and label set), UpstreamSettlement comes down (the parent's flows of
// the member in that period, or the missed variant). Pure: no I/O, the same rows give the same
// payload byte for byte, which is what makes a retry send the same transaction.

import { formatWh } from '../core/amount.js';
import { compareCodeUnits } from '../core/labels.js';

/** A row of `energy_market_residuals` (the child, after its local settlement). */
export interface ResidualRow {
  readonly trader: string;
  readonly direction: string;
  readonly labels: readonly string[];
  readonly wh: bigint;
}

/** A row of `energy_market_flows` (the parent, a settled period). */
export interface ParentFlowRow {
  readonly seq: bigint;
  readonly kind: string;
  readonly seller: string;
  readonly buyer: string;
  readonly labels: readonly string[];
  readonly wh: bigint;
  readonly priceUeur: bigint;
  readonly height: bigint;
}

export interface MemberPositionPayload {
  readonly context: string;
  readonly member: string;
  readonly chain: string;
  readonly childContext: string;
  readonly periodStartMs: number;
  readonly periodSeconds: number;
  readonly height: number;
  readonly blockHash: string;
  readonly directions: string[];
  readonly labels: string[][];
  readonly amounts: string[];
}

export interface UpstreamSettlementPayload {
  readonly context: string;
  readonly periodStartMs: number;
  readonly chain: string;
  readonly parentContext: string;
  readonly member: string;
  readonly height: number;
  readonly blockHash: string;
  readonly missed: boolean;
  readonly supplyEur: string;
  readonly feedInEur: string;
  readonly sides: string[];
  readonly counterparties: string[];
  readonly labels: string[][];
  readonly amounts: string[];
  readonly pricesEur: string[];
  readonly external: boolean[];
}

export interface MemberPositionInput {
  /** The parent context (C) and the child's chain id and context (N, also the member's address). */
  readonly parentContext: string;
  readonly childChain: string;
  readonly childContext: string;
  readonly periodStartMs: number;
  readonly periodMs: number;
  /** The child block that holds the SettlePeriod that wrote the residual, and its hash (hex). */
  readonly height: number;
  readonly blockHash: string;
  readonly residuals: readonly ResidualRow[];
}

/**
 * The MemberPosition payload: the residual summed per direction and label set, kWh above 0,
 * sorted by direction (`consumed` before `produced`), then by the labels joined with commas.
 */
export function buildMemberPosition(input: MemberPositionInput): MemberPositionPayload {
  const sums = new Map<string, { direction: string; labels: string[]; wh: bigint }>();
  for (const row of input.residuals) {
    const labels = canonicalLabels(row.labels);
    const key = `${row.direction}\n${labels.join(',')}`;
    const sum = sums.get(key);
    if (sum === undefined) sums.set(key, { direction: row.direction, labels, wh: row.wh });
    else sum.wh += row.wh;
  }
  const positions = [...sums.values()]
    .filter((p) => p.wh > 0n)
    .sort(
      (a, b) =>
        compareCodeUnits(a.direction, b.direction) ||
        compareCodeUnits(a.labels.join(','), b.labels.join(',')),
    );
  return {
    context: input.parentContext,
    member: input.childContext,
    chain: input.childChain,
    childContext: input.childContext,
    periodStartMs: input.periodStartMs,
    periodSeconds: input.periodMs / 1000,
    height: input.height,
    blockHash: input.blockHash,
    directions: positions.map((p) => p.direction),
    labels: positions.map((p) => p.labels),
    amounts: positions.map((p) => formatWh(p.wh)),
  };
}

/** The residual's totals per direction, as the parent records them (produced_wh, consumed_wh). */
export function residualTotalsWh(residuals: readonly ResidualRow[]): {
  producedWh: bigint;
  consumedWh: bigint;
} {
  let producedWh = 0n;
  let consumedWh = 0n;
  for (const r of residuals) {
    if (r.direction === 'produced') producedWh += r.wh;
    else if (r.direction === 'consumed') consumedWh += r.wh;
  }
  return { producedWh, consumedWh };
}

export interface UpstreamSettlementInput {
  readonly parentChain: string;
  readonly parentContext: string;
  /** The member in the parent, which is also the child context. */
  readonly member: string;
  readonly periodStartMs: number;
  /** The parent's supply and feed-in prices of the period, micro-euro per kWh. */
  readonly supplyUeur: bigint;
  readonly feedInUeur: bigint;
  /** The parent block the settlement is signed at (see settlementHeight) and its hash (hex). */
  readonly height: number;
  readonly blockHash: string;
}

/** Flows of the parent's period that go down: the member's, without late energy and corrections. */
export function memberFlows(member: string, flows: readonly ParentFlowRow[]): ParentFlowRow[] {
  return flows
    .filter((f) => f.seller === member || f.buyer === member)
    .filter((f) => !f.kind.startsWith('late_') && !f.kind.startsWith('correction_'))
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}

/** The highest parent block that wrote one of the member's flows; null without flows. */
export function settlementHeight(member: string, flows: readonly ParentFlowRow[]): number | null {
  let height: bigint | null = null;
  for (const f of memberFlows(member, flows))
    if (height === null || f.height > height) height = f.height;
  return height === null ? null : Number(height);
}

/** UpstreamSettlement of a member whose position reached the parent: its flows in the period. */
export function buildUpstreamSettlement(
  input: UpstreamSettlementInput,
  flows: readonly ParentFlowRow[],
): UpstreamSettlementPayload {
  const mine = memberFlows(input.member, flows);
  return {
    ...settlementHead(input, false),
    sides: mine.map((f) => sideOf(input.member, f)),
    counterparties: mine.map((f) => (f.buyer === input.member ? f.seller : f.buyer)),
    labels: mine.map((f) => [...f.labels]),
    amounts: mine.map((f) => formatWh(f.wh)),
    pricesEur: mine.map((f) => formatUeur(f.priceUeur)),
    external: mine.map((f) => f.kind === 'supply' || f.kind === 'export'),
  };
}

/**
 * UpstreamSettlement of a member that sent no position before the parent's gate closure: no
 * flows; `height` is the first parent block at or after the gate closure.
 */
export function buildMissedSettlement(input: UpstreamSettlementInput): UpstreamSettlementPayload {
  return {
    ...settlementHead(input, true),
    sides: [],
    counterparties: [],
    labels: [],
    amounts: [],
    pricesEur: [],
    external: [],
  };
}

function settlementHead(input: UpstreamSettlementInput, missed: boolean) {
  return {
    context: input.member,
    periodStartMs: input.periodStartMs,
    chain: input.parentChain,
    parentContext: input.parentContext,
    member: input.member,
    height: input.height,
    blockHash: input.blockHash,
    missed,
    supplyEur: formatUeur(input.supplyUeur),
    feedInEur: formatUeur(input.feedInUeur),
  };
}

function sideOf(member: string, flow: ParentFlowRow): string {
  if (flow.seller === member && flow.buyer === member) return 'own';
  return flow.buyer === member ? 'in' : 'out';
}

/** Exact EUR text of micro-euro: 200000n -> "0.2", 0n -> "0", 1n -> "0.000001". */
export function formatUeur(ueur: bigint): string {
  const negative = ueur < 0n;
  const abs = negative ? -ueur : ueur;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / 1_000_000n}${frac ? `.${frac}` : ''}`;
}

function canonicalLabels(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort(compareCodeUnits);
}
