// The market's part of the benchmark workload (docs/benchmark.md, "The market workload"),
// deterministic from the seed like the rest of workload.ts: the owner turns the market on (double
// auction, then community allocation) and sets the prices of the periods, every trader places one
// standing order over those periods (even traders sell, odd traders buy; a quarter of the buyers
// want solar energy), readings put energy into the periods, and one SettlePeriod per period clears
// it once its gate has closed.

import {
  Prng,
  type BenchTx,
  type Participants,
  type SignContext,
  kwhText,
  signBenchTx,
} from './workload.js';

/** Gate closure of the benchmark's market: a period may be settled 10 s after its end. */
export const MARKET_GATE_CLOSURE_SECONDS = 10;

/** Limit prices are drawn from these ranges, EUR per kWh in thousandths. */
const SELL_PRICE_MILLI = [40, 200] as const;
const BUY_PRICE_MILLI = [100, 320] as const;

/** "0.123" for 123 thousandths of a euro. */
function eurText(milli: number): string {
  return `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
}

export interface MarketSettings {
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
}

/** Market on (auction and allocation), and the prices of `periods` periods from `fromMs`. */
export function marketSetupTxs(
  ctx: SignContext,
  p: Participants,
  fromMs: number,
  periods: number,
  settings: MarketSettings = {
    periodSeconds: 900,
    gateClosureSeconds: MARKET_GATE_CLOSURE_SECONDS,
  },
): BenchTx[] {
  const context = p.owner.address;
  const rng = new Prng(p.seed, 'market-prices');
  const supply = Array.from({ length: periods }, () => eurText(rng.int(220, 340)));
  return [
    signBenchTx(ctx, p, 'market', 0, 'Market', p.owner, {
      context,
      on: true,
      periodSeconds: settings.periodSeconds,
      gateClosureSeconds: settings.gateClosureSeconds,
      auction: true,
      allocation: true,
    }),
    signBenchTx(ctx, p, 'prices', 0, 'MarketPrices', p.owner, {
      context,
      fromMs,
      localEur: supply.map(() => '0.15'),
      supplyEur: supply,
      feedInEur: supply.map(() => '0.05'),
    }),
  ];
}

/** Every trader's standing order over the periods from `fromMs` to `toMs` (both starts). */
export function marketOrderTxs(
  ctx: SignContext,
  p: Participants,
  fromMs: number,
  toMs: number,
): BenchTx[] {
  const context = p.owner.address;
  const rng = new Prng(p.seed, 'market-orders');
  return p.traders.map((trader, i) => {
    const selling = i % 2 === 0;
    const [low, high] = selling ? SELL_PRICE_MILLI : BUY_PRICE_MILLI;
    // A third of the orders name an amount, the others trade the whole position.
    const amount = rng.int(0, 2) === 0 ? { amount: kwhText(rng.int(100, 1500)) } : {};
    const labels = !selling && rng.int(0, 3) === 0 ? ['solar'] : [];
    return signBenchTx(ctx, p, 'order', i, 'Order', trader, {
      context,
      side: selling ? 'sell' : 'buy',
      priceEur: eurText(rng.int(low, high)),
      ...amount,
      labels,
      fromMs,
      toMs,
    });
  });
}

/**
 * One reading per trader for round `round`: sellers' producers report 0.200-2.000 kWh, buyers'
 * consumers 0.200-2.500 kWh. Booked into the period of the block that carries them.
 */
export function marketReadingTxs(ctx: SignContext, p: Participants, round: number): BenchTx[] {
  const context = p.owner.address;
  const rng = new Prng(p.seed, `market-readings-${round}`);
  return p.traders.map((_, i) => {
    const selling = i % 2 === 0;
    const device = selling ? p.producers[i] : p.consumers[i];
    if (device === undefined) throw new Error(`trader ${i} has no meters`);
    const wh = selling ? rng.int(200, 2000) : -rng.int(200, 2500);
    return signBenchTx(
      ctx,
      p,
      selling ? 'produce' : 'consume',
      1_000_000 + round * p.traders.length + i,
      'Energy',
      device,
      {
        context,
        amount: kwhText(wh),
      },
    );
  });
}

/** SettlePeriod of the period starting at `periodStartMs` (anyone may send it: the owner does). */
export function settleTx(ctx: SignContext, p: Participants, periodStartMs: number): BenchTx {
  return signBenchTx(ctx, p, 'settle', periodStartMs, 'SettlePeriod', p.owner, {
    context: p.owner.address,
    periodStartMs,
  });
}
