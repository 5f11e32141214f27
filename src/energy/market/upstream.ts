// Settling a period's residual with what came back from the parent market (decision 0012,
// "Down"): each flow of the member in the parent is shared over the households that still have a
// deficit or surplus, in proportion to what each still has, exact to the Wh. A contract helper
// (../helpers.ts): a plain function declaration that runs inside QuickJS and calls only
// shareByWeight, which UpstreamSettlement declares too.
//
// Amounts are Wh, prices micro-euro per kWh, money nano-euro, all exact.

import { shareByWeight } from './share.js';

/** One flow of the member in the parent market, as the parent's processor signed it. */
export interface ParentFlow {
  /** `in` (the member received), `out` (it delivered) or `own` (its surplus covered its deficit). */
  readonly side: string;
  readonly counterparty: string;
  readonly labels: readonly string[];
  readonly wh: bigint;
  readonly priceUeur: bigint;
  /** The parent's supply or export: energy from or to outside the parent market. */
  readonly external: boolean;
}

/** A household's residual of the period: its remaining deficit (`consumed`) or surplus (`produced`). */
export interface Residual {
  readonly trader: string;
  readonly labels: readonly string[];
  readonly direction: string;
  readonly wh: bigint;
}

/** A flow of the child context that settles part of a residual. */
export interface UpstreamFlow {
  /** `upstream`, `upstream_own`, `supply` or `export`. */
  readonly kind: string;
  /** Which side is the context's household: `in` the buyer, `out` the seller, `own` both. */
  readonly side: string;
  readonly seller: string;
  readonly buyer: string;
  readonly labels: readonly string[];
  readonly wh: bigint;
  readonly priceUeur: bigint;
  readonly neur: bigint;
}

/**
 * Shares the parent's flows over the residuals (decision 0012's table). Surpluses first: each
 * `out` or `own` flow over the surpluses of its label set, in proportion to what each has left
 * (an `own` share then waits to cover deficits as the household's energy); then each `in` flow
 * and each such own share over the deficits, the same way. The caller has checked that the flows
 * add up to the residuals exactly, so every share fits and every residual ends at zero.
 * `localUeur` prices own energy (the child's local price).
 */
export function settleResiduals(
  residuals: readonly Residual[],
  flows: readonly ParentFlow[],
  localUeur: bigint,
): UpstreamFlow[] {
  const out: UpstreamFlow[] = [];
  const left = residuals.map((r) => ({ trader: r.trader, key: r.labels.join(','), direction: r.direction, wh: r.wh }));
  const shareOver = (holders: { trader: string; wh: bigint }[], wh: bigint): bigint[] => {
    let sum = 0n;
    for (const h of holders) sum += h.wh;
    if (sum === 0n) return holders.map(() => 0n);
    const shares = shareByWeight(wh, holders.map((h) => h.wh));
    for (let i = 0; i < holders.length; i++) (holders[i] as { wh: bigint }).wh -= shares[i] as bigint;
    return shares;
  };
  const deficits = left.filter((r) => r.direction === 'consumed');
  const ownShares: { seller: string; labels: readonly string[]; wh: bigint }[] = [];
  for (const f of flows) {
    if (f.side === 'in') continue;
    const key = f.labels.join(',');
    const surpluses = left.filter((r) => r.direction === 'produced' && r.key === key);
    const shares = shareOver(surpluses, f.wh);
    for (let i = 0; i < surpluses.length; i++) {
      const wh = shares[i] as bigint;
      if (wh === 0n) continue;
      const seller = (surpluses[i] as { trader: string }).trader;
      if (f.side === 'own') ownShares.push({ seller, labels: f.labels, wh });
      else out.push({ kind: f.external ? 'export' : 'upstream', side: 'out', seller, buyer: f.counterparty, labels: f.labels, wh, priceUeur: f.priceUeur, neur: wh * f.priceUeur });
    }
  }
  for (const f of flows) {
    if (f.side !== 'in') continue;
    const shares = shareOver(deficits, f.wh);
    for (let i = 0; i < deficits.length; i++) {
      const wh = shares[i] as bigint;
      if (wh === 0n) continue;
      out.push({ kind: f.external ? 'supply' : 'upstream', side: 'in', seller: f.counterparty, buyer: (deficits[i] as { trader: string }).trader, labels: f.labels, wh, priceUeur: f.priceUeur, neur: wh * f.priceUeur });
    }
  }
  for (const s of ownShares) {
    const shares = shareOver(deficits, s.wh);
    for (let i = 0; i < deficits.length; i++) {
      const wh = shares[i] as bigint;
      if (wh === 0n) continue;
      out.push({ kind: 'upstream_own', side: 'own', seller: s.seller, buyer: (deficits[i] as { trader: string }).trader, labels: s.labels, wh, priceUeur: localUeur, neur: wh * localUeur });
    }
  }
  return out;
}
