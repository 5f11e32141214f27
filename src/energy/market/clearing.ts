// Settling one market period (docs/decisions/0011-local-market.md; docs/energy.md, "Settling a
// period"): own use, the double auction, the community allocation, then external supply and
// export. A pure computation on bigints: SettlePeriod loads the period's positions and orders,
// calls clearMarketPeriod and writes what it returns, so the same inputs give the same flows on
// every node. These are contract helpers (../helpers.ts): plain function declarations that run
// inside QuickJS, calling only each other, all declared by SettlePeriod.
//
// Amounts are Wh, prices micro-euro per kWh, money nano-euro (Wh x micro-euro per kWh), all exact.

import { shareByWeight } from './share.js';

/** A trader's production or consumption of one label set in the period. */
export interface ClearingPosition {
  readonly trader: string;
  readonly labels: readonly string[];
  /** `produced` or `consumed`. */
  readonly direction: string;
  readonly wh: bigint;
}

/** An order that applies to the period. */
export interface ClearingOrder {
  readonly seq: bigint;
  readonly trader: string;
  /** `buy` or `sell`. */
  readonly side: string;
  readonly priceUeur: bigint;
  /** Most Wh to trade in the period; null: the trader's whole position. */
  readonly amountWh: bigint | null;
  /** For a buy: labels the energy must carry. Sells carry none. */
  readonly labels: readonly string[];
}

export interface ClearingInput {
  /** The context owner: the counterparty of external supply and export. */
  readonly owner: string;
  readonly positions: readonly ClearingPosition[];
  readonly orders: readonly ClearingOrder[];
  readonly auction: boolean;
  readonly allocation: boolean;
  readonly localUeur: bigint;
  readonly supplyUeur: bigint;
  readonly feedInUeur: bigint;
}

/**
 * Energy that changed hands (or covered its own trader's consumption): `own`, `auction`,
 * `allocation`, `supply` (from the owner) or `export` (to the owner), with the seller's labels.
 */
export interface ClearingFlow {
  readonly kind: string;
  readonly seller: string;
  readonly buyer: string;
  readonly labels: readonly string[];
  readonly wh: bigint;
  readonly priceUeur: bigint;
  readonly neur: bigint;
}

/** One requirement class of the auction: its labels, its uniform price and the Wh it traded. */
export interface ClearingClass {
  readonly labels: readonly string[];
  readonly priceUeur: bigint;
  readonly wh: bigint;
}

export interface ClearingResult {
  readonly flows: ClearingFlow[];
  readonly classes: ClearingClass[];
}

/** A lot of energy on offer or wanted: one trader's label set, with what is left of it. */
interface Lot {
  readonly trader: string;
  readonly labels: readonly string[];
  readonly key: string;
  wh: bigint;
}

/** True when `labels` carries every label of `required` (both sorted). */
export function carriesLabels(labels: readonly string[], required: readonly string[]): boolean {
  let i = 0;
  for (const r of required) {
    while (i < labels.length && (labels[i] as string) < r) i++;
    if (i >= labels.length || labels[i] !== r) return false;
    i++;
  }
  return true;
}

/** Order of requirement classes and of demand lots: most labels first, then by labels text. */
export function compareSpecificFirst(
  a: { labels: readonly string[]; key: string },
  b: { labels: readonly string[]; key: string },
): number {
  if (a.labels.length !== b.labels.length) return b.labels.length - a.labels.length;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Order in which a trader's lots are used: fewest labels first (labelled energy is kept for others), then by labels text. */
export function compareFewestFirst(
  a: { labels: readonly string[]; key: string },
  b: { labels: readonly string[]; key: string },
): number {
  if (a.labels.length !== b.labels.length) return a.labels.length - b.labels.length;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Settles one period. Own use first: each trader's consumption lots (most specific requirement
 * first) are covered by its own production that carries their labels, fewest labels first. Then
 * the auction (when on and there are orders), per requirement class of the buy orders, most
 * specific first: bids by price descending, asks ascending, equal prices by sequence; a bid never
 * meets an ask of its own trader; each side is capped by the trader's remaining position. Every
 * match of a class trades at the class's uniform price: the middle of the interval between the
 * last matched and the first unmatched orders (within the last matched bid and ask), rounded
 * down. Then the allocation (when on): per requirement class of the remaining demand, the
 * compatible surplus shared in proportion to the deficits (or, when it is more, taken in
 * proportion to the surpluses), paired seller to buyer in order (northwest corner). What is left
 * is supplied by the owner at the supply price or exported to it at the feed-in price.
 */
export function clearMarketPeriod(input: ClearingInput): ClearingResult {
  const flows: ClearingFlow[] = [];
  const classes: ClearingClass[] = [];
  const supplyLots: Lot[] = [];
  const demandLots: Lot[] = [];
  for (const p of input.positions) {
    const lot = { trader: p.trader, labels: p.labels, key: p.labels.join(','), wh: p.wh };
    if (p.direction === 'produced') supplyLots.push(lot);
    else demandLots.push(lot);
  }
  const byTrader = (a: Lot, b: Lot): number =>
    a.trader < b.trader ? -1 : a.trader > b.trader ? 1 : 0;
  supplyLots.sort((a, b) => byTrader(a, b) || compareFewestFirst(a, b));
  demandLots.sort((a, b) => byTrader(a, b) || compareSpecificFirst(a, b));
  // Each trader's lots, in the orders above.
  const supplyOf = new Map<string, Lot[]>();
  const demandOf = new Map<string, Lot[]>();
  for (const s of supplyLots) {
    const list = supplyOf.get(s.trader);
    if (list === undefined) supplyOf.set(s.trader, [s]);
    else list.push(s);
  }
  for (const d of demandLots) {
    const list = demandOf.get(d.trader);
    if (list === undefined) demandOf.set(d.trader, [d]);
    else list.push(d);
  }
  const none: Lot[] = [];
  const flow = (
    kind: string,
    seller: string,
    buyer: string,
    labels: readonly string[],
    wh: bigint,
    priceUeur: bigint,
  ): void => {
    flows.push({ kind, seller, buyer, labels, wh, priceUeur, neur: wh * priceUeur });
  };

  // Own use.
  for (const d of demandLots) {
    for (const s of supplyOf.get(d.trader) ?? none) {
      if (d.wh === 0n) break;
      if (s.wh === 0n || !carriesLabels(s.labels, d.labels)) continue;
      const wh = s.wh < d.wh ? s.wh : d.wh;
      s.wh -= wh;
      d.wh -= wh;
      flow('own', d.trader, d.trader, s.labels, wh, 0n);
    }
  }

  // The double auction.
  if (input.auction) {
    const asks = input.orders
      .filter((o) => o.side === 'sell')
      .map((o) => ({ order: o, left: o.amountWh === null ? -1n : o.amountWh }))
      .sort((a, b) =>
        a.order.priceUeur === b.order.priceUeur
          ? a.order.seq < b.order.seq
            ? -1
            : 1
          : a.order.priceUeur < b.order.priceUeur
            ? -1
            : 1,
      );
    const bidsAll = input.orders
      .filter((o) => o.side === 'buy')
      .map((o) => ({
        order: o,
        key: o.labels.join(','),
        labels: o.labels,
        left: o.amountWh === null ? -1n : o.amountWh,
      }))
      .sort((a, b) =>
        a.order.priceUeur === b.order.priceUeur
          ? a.order.seq < b.order.seq
            ? -1
            : 1
          : a.order.priceUeur > b.order.priceUeur
            ? -1
            : 1,
      );
    type Ask = (typeof asks)[number];
    type Bid = (typeof bidsAll)[number];
    const classList: { labels: readonly string[]; key: string }[] = [];
    const seenClasses = new Set<string>();
    for (const bid of bidsAll) {
      if (seenClasses.has(bid.key)) continue;
      seenClasses.add(bid.key);
      classList.push({ labels: bid.labels, key: bid.key });
    }
    classList.sort(compareSpecificFirst);
    // What an order can still trade in a class: its amount left (-1: no cap), capped by the
    // trader's lots that fit.
    const sellable = (ask: Ask, required: readonly string[]): bigint => {
      let wh = 0n;
      for (const s of supplyOf.get(ask.order.trader) ?? none)
        if (carriesLabels(s.labels, required)) wh += s.wh;
      return ask.left >= 0n && ask.left < wh ? ask.left : wh;
    };
    const buyable = (bid: Bid): bigint => {
      let wh = 0n;
      for (const d of demandOf.get(bid.order.trader) ?? none)
        if (carriesLabels(bid.labels, d.labels)) wh += d.wh;
      return bid.left >= 0n && bid.left < wh ? bid.left : wh;
    };
    for (const cls of classList) {
      const bids = bidsAll.filter((b) => b.key === cls.key);
      const matches: { seller: string; buyer: string; labels: readonly string[]; wh: bigint }[] =
        [];
      let lastBid: bigint | null = null;
      let lastAsk: bigint | null = null;
      let first = 0; // asks before this one have nothing left in this class
      for (const bid of bids) {
        let want = buyable(bid);
        for (let j = first; j < asks.length && want > 0n; j++) {
          const ask = asks[j] as Ask;
          if (ask.order.priceUeur > bid.order.priceUeur) break;
          const offer = sellable(ask, cls.labels);
          if (offer === 0n) {
            if (j === first) first++;
            continue;
          }
          if (ask.order.trader === bid.order.trader) continue;
          const wh = want < offer ? want : offer;
          if (bid.left >= 0n) bid.left -= wh;
          if (ask.left >= 0n) ask.left -= wh;
          want -= wh;
          let rest = wh;
          for (const s of supplyOf.get(ask.order.trader) ?? none) {
            if (rest === 0n) break;
            if (s.wh === 0n || !carriesLabels(s.labels, cls.labels)) continue;
            const take = s.wh < rest ? s.wh : rest;
            s.wh -= take;
            rest -= take;
            matches.push({
              seller: ask.order.trader,
              buyer: bid.order.trader,
              labels: s.labels,
              wh: take,
            });
          }
          rest = wh;
          for (const d of demandOf.get(bid.order.trader) ?? none) {
            if (rest === 0n) break;
            if (d.wh === 0n || !carriesLabels(bid.labels, d.labels)) continue;
            const take = d.wh < rest ? d.wh : rest;
            d.wh -= take;
            rest -= take;
          }
          lastBid = bid.order.priceUeur;
          lastAsk = ask.order.priceUeur;
        }
      }
      if (lastBid === null || lastAsk === null) continue;
      // The uniform price: within the last matched ask and bid, narrowed by the first orders
      // below them that still have something to trade; the middle, rounded down.
      let lower = lastAsk;
      let upper = lastBid;
      for (const bid of bids) {
        if (bid.order.priceUeur <= lastBid && buyable(bid) > 0n) {
          if (bid.order.priceUeur > lower) lower = bid.order.priceUeur;
          break;
        }
      }
      for (let j = first; j < asks.length; j++) {
        const ask = asks[j] as Ask;
        if (ask.order.priceUeur >= lastAsk && sellable(ask, cls.labels) > 0n) {
          if (ask.order.priceUeur < upper) upper = ask.order.priceUeur;
          break;
        }
      }
      if (lower > upper) {
        lower = lastAsk;
        upper = lastBid;
      }
      const priceUeur = (lower + upper) / 2n;
      let classWh = 0n;
      for (const m of matches) {
        flow('auction', m.seller, m.buyer, m.labels, m.wh, priceUeur);
        classWh += m.wh;
      }
      classes.push({ labels: cls.labels, priceUeur, wh: classWh });
    }
  }

  // The community allocation.
  if (input.allocation) {
    const requirementClasses: { labels: readonly string[]; key: string }[] = [];
    const seen = new Set<string>();
    for (const d of demandLots) {
      if (d.wh === 0n || seen.has(d.key)) continue;
      seen.add(d.key);
      requirementClasses.push({ labels: d.labels, key: d.key });
    }
    requirementClasses.sort(compareSpecificFirst);
    for (const cls of requirementClasses) {
      const wants = demandLots.filter((d) => d.key === cls.key && d.wh > 0n);
      const offers = supplyLots.filter((s) => s.wh > 0n && carriesLabels(s.labels, cls.labels));
      let demandWh = 0n;
      for (const d of wants) demandWh += d.wh;
      let supplyWh = 0n;
      for (const s of offers) supplyWh += s.wh;
      if (demandWh === 0n || supplyWh === 0n) continue;
      const gives =
        supplyWh > demandWh
          ? shareByWeight(
              demandWh,
              offers.map((s) => s.wh),
            )
          : offers.map((s) => s.wh);
      const gets =
        supplyWh > demandWh
          ? wants.map((d) => d.wh)
          : shareByWeight(
              supplyWh,
              wants.map((d) => d.wh),
            );
      let i = 0;
      let j = 0;
      while (i < offers.length && j < wants.length) {
        const give = gives[i] as bigint;
        const get = gets[j] as bigint;
        if (give === 0n) {
          i++;
          continue;
        }
        if (get === 0n) {
          j++;
          continue;
        }
        const wh = give < get ? give : get;
        const s = offers[i] as Lot;
        const d = wants[j] as Lot;
        s.wh -= wh;
        d.wh -= wh;
        gives[i] = give - wh;
        gets[j] = get - wh;
        flow('allocation', s.trader, d.trader, s.labels, wh, input.localUeur);
      }
    }
  }

  // External supply and export, through the owner.
  for (const d of demandLots)
    if (d.wh > 0n) flow('supply', input.owner, d.trader, [], d.wh, input.supplyUeur);
  for (const s of supplyLots)
    if (s.wh > 0n) flow('export', s.trader, input.owner, s.labels, s.wh, input.feedInUeur);
  return { flows, classes };
}
