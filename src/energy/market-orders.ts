// The order book of one market period and, once the period is settled, its clearing (docs/api.md
// "Market orders"): the orders of state.energy_market_orders whose range covers the period, in
// clearing order (per side, best price first, then by sequence), and the auction's uniform price
// and volume per requirement class from state.energy_market_clearings. A settlement removes the
// orders whose last period it settled, so the book of a settled period lists only the standing
// orders that are still open (`complete` false); decision 0014 says why and what would keep more.

import { Type } from '@sinclair/typebox';
import { formatWh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { marketSettings } from './market-prices-read.js';
import { formatNeur } from './market-statements.js';
import { parseIntegerParam } from './query-params.js';
import { bigintOf, iso, jsonArray, read, safeNumber, stringArray, textOf } from './query-rows.js';
import { DecimalText, checkQuery } from './query-schema.js';
import type { MarketSettingsView } from './views.js';

/** Most orders in one answer, and the default: SettlePeriod takes at most 9,999 per side. */
export const ORDERS_LIMIT_MAX = 20_000;

export interface MarketOrderView {
  /** The id of the transaction that placed it (CancelOrder names it). */
  readonly id: string;
  readonly seq: number;
  readonly trader: string;
  readonly side: 'buy' | 'sell';
  readonly priceEurPerKwh: string;
  /** Most kWh per period; null: the trader's whole position. */
  readonly kwh: string | null;
  /** A buy's required labels; [] for a sell. */
  readonly labels: string[];
  /** Placed for a range of periods (true) or for this one period only. */
  readonly standing: boolean;
  readonly fromMs: number;
  readonly toMs: number;
  /** `open`: the period is not settled yet; `settled`: it took part in the period's settlement. */
  readonly state: 'open' | 'settled';
  readonly height: number;
}

export interface ClearingClassView {
  readonly labels: string[];
  readonly priceEurPerKwh: string;
  readonly kwh: string;
}

export interface MarketOrdersView {
  readonly context: string;
  readonly periodStartMs: number;
  readonly periodStart: string;
  readonly periodEndMs: number;
  readonly settled: boolean;
  readonly market: MarketSettingsView | null;
  readonly orders: MarketOrderView[];
  /** False for a settled period: its one-period orders and the ranges that ended with it are gone. */
  readonly complete: boolean;
  readonly truncated: boolean;
  /** The auction's result per requirement class; null until the period is settled. */
  readonly clearing: { readonly classes: ClearingClassView[]; readonly kwh: string } | null;
}

/** Which period: its start, the one holding the server's clock (`current`), or the last settled. */
export type PeriodChoice =
  | { readonly kind: 'at'; readonly startMs: number }
  | { readonly kind: 'current' }
  | { readonly kind: 'last' };

export interface OrdersQuery {
  readonly period: PeriodChoice;
  readonly limit: number;
}

const OrdersSchema = Type.Object(
  {
    period: Type.Optional(Type.Union([Type.Literal('current'), Type.Literal('last'), DecimalText])),
    limit: Type.Optional(DecimalText),
  },
  { additionalProperties: false },
);

/** The period and limit of `?period=&limit=`. */
export function parseOrdersQuery(query: unknown): OrdersQuery {
  const params = checkQuery(OrdersSchema, query);
  const limit =
    params['limit'] === undefined
      ? ORDERS_LIMIT_MAX
      : parseIntegerParam(params['limit'], 'limit', 1, ORDERS_LIMIT_MAX);
  const p = params['period'] ?? 'current';
  const period: PeriodChoice =
    p === 'current' || p === 'last'
      ? { kind: p }
      : { kind: 'at', startMs: parseIntegerParam(p, 'period', 0, Number.MAX_SAFE_INTEGER) };
  return { period, limit };
}

/** The order book and clearing of the chosen period. */
export async function marketOrders(
  sql: Sql,
  context: string,
  query: OrdersQuery,
  nowMs: number,
): Promise<MarketOrdersView> {
  const market = await marketSettings(sql, context);
  if (market === null)
    throw new ChainError(
      'not_found',
      `context ${context} has never turned its market on (Market), so it has no order book`,
      { context },
    );
  const periodMs = market.periodSeconds * 1000;
  const startMs = await periodStart(sql, context, query.period, periodMs, nowMs);
  const rows = await read<Record<string, unknown>>(
    sql,
    `SELECT
       (SELECT p.settled FROM state.energy_market_periods p
         WHERE p.context = $1 AND p.period_start_ms = $2) AS settled,
       (SELECT coalesce(json_agg(json_build_object('labels', c.labels,
                 'ueur', c.price_ueur_per_kwh::text, 'wh', c.wh::text) ORDER BY c.labels_key), '[]')
          FROM state.energy_market_clearings c
         WHERE c.context = $1 AND c.period_start_ms = $2) AS classes,
       (SELECT coalesce(json_agg(json_build_object('id', o.order_id, 'seq', o.seq::text,
                 'trader', o.trader, 'side', o.side, 'ueur', o.price_ueur_per_kwh::text,
                 'wh', o.amount_wh::text, 'labels', o.labels, 'from', o.from_ms::text,
                 'to', o.to_ms::text, 'height', o.height::text)
                 ORDER BY o.side, o.price_key, o.seq), '[]')
          FROM (SELECT * FROM state.energy_market_orders
                 WHERE context = $1 AND from_ms <= $2 AND to_ms >= $2
                 ORDER BY side, price_key, seq LIMIT $3) o) AS orders`,
    [context, startMs, query.limit + 1],
  );
  const row = rows[0] ?? {};
  const settled = row['settled'] === true;
  const orderRows = jsonArray(parsedJson(row['orders']), 'orders');
  const classes = jsonArray(parsedJson(row['classes']), 'classes').map(classView);
  return {
    context,
    periodStartMs: startMs,
    periodStart: iso(startMs),
    periodEndMs: startMs + periodMs,
    settled,
    market,
    orders: orderRows.slice(0, query.limit).map((o) => orderView(o, settled)),
    complete: !settled,
    truncated: orderRows.length > query.limit,
    clearing: settled
      ? {
          classes: classes.map(({ labels, priceEurPerKwh, kwh }) => ({
            labels,
            priceEurPerKwh,
            kwh,
          })),
          kwh: formatWh(classes.reduce((sum, c) => sum + c.wh, 0n)),
        }
      : null,
  };
}

async function periodStart(
  sql: Sql,
  context: string,
  choice: PeriodChoice,
  periodMs: number,
  nowMs: number,
): Promise<number> {
  if (choice.kind === 'current') return Math.floor(nowMs / periodMs) * periodMs;
  if (choice.kind === 'at') {
    if (choice.startMs % periodMs !== 0)
      throw new ChainError(
        'bad_request',
        `period must be the start of a period of context ${context}: a multiple of ${periodMs} ms, got ${choice.startMs}`,
        { field: 'period' },
      );
    return choice.startMs;
  }
  // Periods settle in order: the newest settled one is found walking the primary key backwards.
  const rows = await read<{ start: string }>(
    sql,
    `SELECT period_start_ms::text AS start FROM state.energy_market_periods
      WHERE context = $1 AND settled ORDER BY period_start_ms DESC LIMIT 1`,
    [context],
  );
  const last = rows[0];
  if (last === undefined)
    throw new ChainError('not_found', `context ${context} has no settled market period yet`, {
      context,
    });
  return safeNumber(last.start, 'period_start_ms');
}

/** json_agg arrives parsed from pg and as text or parsed from PGlite. */
function parsedJson(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null)
    throw new ChainError('internal', `expected an object for ${name}`);
  return (value as Record<string, unknown>)[name];
}

function orderView(o: unknown, settled: boolean): MarketOrderView {
  const side = textOf(field(o, 'side'), 'side');
  if (side !== 'buy' && side !== 'sell')
    throw new ChainError('internal', `energy_market_orders holds an order of side ${side}`);
  const wh = bigintOf(field(o, 'wh'), 'amount_wh');
  const fromMs = safeNumber(field(o, 'from'), 'from_ms');
  const toMs = safeNumber(field(o, 'to'), 'to_ms');
  return {
    id: textOf(field(o, 'id'), 'order_id'),
    seq: safeNumber(field(o, 'seq'), 'seq'),
    trader: textOf(field(o, 'trader'), 'trader'),
    side,
    priceEurPerKwh: formatNeur(bigintOf(field(o, 'ueur'), 'price_ueur_per_kwh') * 1000n),
    kwh: wh < 0n ? null : formatWh(wh),
    labels: stringArray(field(o, 'labels'), 'labels'),
    standing: toMs > fromMs,
    fromMs,
    toMs,
    state: settled ? 'settled' : 'open',
    height: safeNumber(field(o, 'height'), 'height'),
  };
}

function classView(c: unknown): ClearingClassView & { wh: bigint } {
  const wh = bigintOf(field(c, 'wh'), 'wh');
  return {
    labels: stringArray(field(c, 'labels'), 'labels'),
    priceEurPerKwh: formatNeur(bigintOf(field(c, 'ueur'), 'price_ueur_per_kwh') * 1000n),
    kwh: formatWh(wh),
    wh,
  };
}
