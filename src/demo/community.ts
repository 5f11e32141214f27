// The simulated community of `hanzenet demo` and of the market-day benchmark (bench/market-day.ts):
// which households have solar panels, how much they use, which trade in the auction with a
// standing order, and the supplier's price over the day. Deterministic: the seed and the
// household's number fix everything.

import { uniform } from '../meter/sim/random.js';

/** One household: panels or not, how much it uses, and whether it trades with standing orders. */
export interface Household {
  /** Peak power of its solar panels, kWp; 0: no panels. */
  readonly pvKwp: number;
  readonly baseLoadW: number;
  /** A standing order for the whole day, or none. */
  readonly order: StandingOrder | null;
}

export interface StandingOrder {
  readonly side: 'buy' | 'sell';
  /** EUR per kWh, an exact decimal. */
  readonly priceEur: string;
  readonly labels: string[];
}

/**
 * `count` households: two in three have panels (2.5 to 6.5 kWp), and one in three trades in the
 * auction (panel owners sell from 0.06 EUR/kWh, the others buy up to 0.16 to 0.25, half of them
 * solar energy only).
 */
export function communityHouseholds(seed: number, count: number): Household[] {
  return Array.from({ length: count }, (_, i) => {
    const r = (stream: number): number => uniform(seed, 1000 + stream, i);
    const pvKwp = r(0) < 2 / 3 ? Math.round(25 + r(1) * 40) / 10 : 0;
    const baseLoadW = Math.round(150 + r(2) * 250);
    const trades = r(3) < 1 / 3;
    const order: StandingOrder | null = !trades
      ? null
      : pvKwp > 0
        ? { side: 'sell', priceEur: (0.06 + Math.floor(r(4) * 8) / 100).toFixed(2), labels: [] }
        : {
            side: 'buy',
            priceEur: (0.16 + Math.floor(r(4) * 10) / 100).toFixed(2),
            labels: r(5) < 0.5 ? ['solar'] : [],
          };
    return { pvKwp, baseLoadW, order };
  });
}

/**
 * The supplier's price (EUR/kWh) of the quarter hour `periodIndex` (0 to 95) of a UTC day: cheap at
 * night and midday, dear in the morning and most in the evening.
 */
export function supplyEur(periodIndex: number): string {
  const hour = periodIndex / 4;
  const cents =
    hour >= 17 && hour < 21 ? 34 : hour >= 7 && hour < 10 ? 29 : hour >= 11 && hour < 15 ? 21 : 25;
  return (cents / 100).toFixed(2);
}
