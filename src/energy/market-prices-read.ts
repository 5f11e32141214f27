// A context's market settings and price table as the API, the client and the CLI show them
// (docs/api.md "Market prices"): what Market wrote to state.energy_market_settings and MarketPrices
// to state.energy_market_prices, periods in time order, prices as exact EUR per kWh strings.

import type { Sql } from '../store/types.js';
import { formatNeur } from './market-statements.js';
import { parseTimeRange, type TimeRange } from './query-params.js';
import { read } from './query-rows.js';
import type { MarketSettingsView } from './views.js';

/** Most periods in one answer (and the default): 31 days of quarter hours, as one MarketPrices. */
export const PRICES_LIMIT_MAX = 2976;

export interface MarketPriceView {
  readonly periodStartMs: number;
  readonly periodStart: string;
  readonly localEurPerKwh: string;
  readonly supplyEurPerKwh: string;
  readonly feedInEurPerKwh: string;
  /** The block that set them. */
  readonly height: number;
}

export interface MarketPricesView {
  readonly context: string;
  readonly market: MarketSettingsView | null;
  readonly prices: MarketPriceView[];
  /** More periods have prices in the range than `limit` listed. */
  readonly truncated: boolean;
}

export type PricesFilter = TimeRange;

/** The filter of `?from=&to=&limit=` (period starts in ms since the Unix epoch). */
export function parsePricesFilter(params: Readonly<Record<string, string>>): PricesFilter {
  return parseTimeRange(params, PRICES_LIMIT_MAX);
}

const eur = (ueur: string | undefined): string => formatNeur(BigInt(ueur ?? '0') * 1000n);

/** The market's settings, or null when it was never turned on. */
export async function marketSettings(
  sql: Sql,
  context: string,
): Promise<MarketSettingsView | null> {
  const rows = await read<Record<string, string | boolean>>(
    sql,
    `SELECT market_on, period_ms::text AS period_ms, gate_closure_ms::text AS gate_closure_ms,
            auction, allocation, changed_height::text AS changed_height
       FROM state.energy_market_settings WHERE context = $1`,
    [context],
  );
  const s = rows[0];
  if (s === undefined) return null;
  return {
    on: s['market_on'] === true,
    periodSeconds: Number(s['period_ms']) / 1000,
    gateClosureSeconds: Number(s['gate_closure_ms']) / 1000,
    auction: s['auction'] === true,
    allocation: s['allocation'] === true,
    changedHeight: Number(s['changed_height']),
  };
}

/** The settings and the prices of the periods in range, oldest first (the table's primary key). */
export async function marketPrices(
  sql: Sql,
  context: string,
  filter: PricesFilter,
): Promise<MarketPricesView> {
  const rows = await read<Record<string, string>>(
    sql,
    `SELECT period_start_ms::text AS period_start_ms, local_ueur_per_kwh::text AS local,
            supply_ueur_per_kwh::text AS supply, feed_in_ueur_per_kwh::text AS feed_in,
            height::text AS height
       FROM state.energy_market_prices
      WHERE context = $1 AND ($2::bigint IS NULL OR period_start_ms >= $2)
        AND ($3::bigint IS NULL OR period_start_ms < $3)
      ORDER BY period_start_ms
      LIMIT $4`,
    [context, filter.fromMs ?? null, filter.toMs ?? null, filter.limit + 1],
  );
  const prices = rows.slice(0, filter.limit).map((r) => {
    const periodStartMs = Number(r['period_start_ms']);
    return {
      periodStartMs,
      periodStart: new Date(periodStartMs).toISOString(),
      localEurPerKwh: eur(r['local']),
      supplyEurPerKwh: eur(r['supply']),
      feedInEurPerKwh: eur(r['feed_in']),
      height: Number(r['height']),
    };
  });
  return {
    context,
    market: await marketSettings(sql, context),
    prices,
    truncated: rows.length > filter.limit,
  };
}
