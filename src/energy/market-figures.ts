// A market context's figures per settled period, day or month, and in total (docs/api.md "Market
// figures", docs/energy.md "Figures"): energy consumed, produced, used by its own producer, bought
// and sold locally, supplied (import) and exported (export), the self-sufficiency and
// self-consumption, the peak import, and the local clearing prices against the supplier's
// supply and feed-in prices. Read in one SQL statement (one snapshot) over the window of
// src/energy/market-group-window.ts; every sum is exact (bigint), energy leaves as kWh strings,
// money as EUR strings, ratios as decimals with 6 digits rounded down.

import { formatWh } from '../core/amount.js';
import { csvLine } from '../core/csv.js';
import type { Sql } from '../store/types.js';
import { groupThresholds, groupWindow } from './market-group-window.js';
import type { GroupKind, GroupQuery } from './market-groups.js';
import { formatNeur, type StatementFigures } from './market-statements.js';
import { read } from './query-rows.js';

/** Prices in EUR per kWh (exact decimals); `avg` is defined in docs/api.md "Market figures". */
export interface PriceRangeView {
  readonly minEurPerKwh: string;
  readonly avgEurPerKwh: string;
  readonly maxEurPerKwh: string;
}

/**
 * The statement's energy and money, summed: `supplied*` is the import (what the external supplier
 * supplied), `exported*` the export (what it took).
 */
export interface FiguresView
  extends Pick<
    StatementFigures,
    | 'consumedKwh'
    | 'producedKwh'
    | 'ownUseKwh'
    | 'boughtKwh'
    | 'boughtEur'
    | 'soldKwh'
    | 'soldEur'
    | 'suppliedKwh'
    | 'suppliedEur'
    | 'exportedKwh'
    | 'exportedEur'
  > {
  readonly periods: number;
  /** (consumed - supplied) / consumed; null when nothing was consumed. */
  readonly selfSufficiency: string | null;
  /** (produced - exported) / produced; null when nothing was produced. */
  readonly selfConsumption: string | null;
  /** The period with the largest import (the earliest of equals); null when nothing was supplied. */
  readonly peakImport: {
    readonly kwh: string;
    readonly periodStartMs: number;
    readonly periodStart: string;
  } | null;
  readonly prices: {
    /** The local market's prices (auction and allocation); null when nothing was traded locally. */
    readonly local: PriceRangeView | null;
    readonly supply: PriceRangeView | null;
    readonly feedIn: PriceRangeView | null;
  };
}

export interface FiguresGroupView extends FiguresView {
  /** The period's start (ISO 8601, UTC), the local date (`2026-03-29`) or month (`2026-03`). */
  readonly group: string;
  readonly startMs: number;
  readonly start: string;
  readonly endMs: number;
  readonly end: string;
}

export interface MarketFiguresView {
  readonly context: string;
  readonly group: GroupKind;
  readonly tz: string;
  readonly groups: FiguresGroupView[];
  /** The figures of the groups listed, together. */
  readonly totals: FiguresView;
  readonly truncated: boolean;
  /** When truncated: pass this as `from` for the groups that follow. */
  readonly nextFromMs: number | null;
}

const SUMS = [
  ['consumed_wh', 'consumedKwh'],
  ['produced_wh', 'producedKwh'],
  ['own_use_wh', 'ownUseKwh'],
  ['bought_wh', 'boughtKwh'],
  ['bought_neur', 'boughtEur'],
  ['sold_wh', 'soldKwh'],
  ['sold_neur', 'soldEur'],
  ['supplied_wh', 'suppliedKwh'],
  ['supplied_neur', 'suppliedEur'],
  ['exported_wh', 'exportedKwh'],
  ['exported_neur', 'exportedEur'],
] as const;

/** A price's min, max, and what its average is made of (avg = floor(sum / weight)). */
interface PriceAcc {
  min: bigint;
  max: bigint;
  sum: bigint;
  weight: bigint;
}

/** A group's figures as exact integers (Wh, nano-euro, micro-euro per kWh). */
interface FiguresAcc {
  periods: number;
  sums: Record<string, bigint>;
  peakWh: bigint;
  peakMs: number | null;
  local: PriceAcc | null;
  supply: PriceAcc | null;
  feedIn: PriceAcc | null;
}

const FIGURES_SQL = `
WITH s AS (
  SELECT period_start_ms, ${SUMS.map(([c]) => `sum(${c}) AS ${c}`).join(', ')}
    FROM state.energy_market_statements
   WHERE context = $1 AND period_start_ms >= $2 AND period_start_ms < $3
   GROUP BY period_start_ms
), f AS (
  SELECT period_start_ms, sum(wh) AS local_wh, sum(neur) AS local_neur,
         min(price_ueur_per_kwh) AS local_min, max(price_ueur_per_kwh) AS local_max
    FROM state.energy_market_flows
   WHERE context = $1 AND period_start_ms >= $2 AND period_start_ms < $3
     AND kind IN ('auction', 'allocation')
   GROUP BY period_start_ms
), p AS (
  SELECT s.*, per.end_ms, pr.supply_ueur_per_kwh AS supply, pr.feed_in_ueur_per_kwh AS feed_in,
         f.local_wh, f.local_neur, f.local_min, f.local_max,
         CASE WHEN cardinality($4::bigint[]) = 0 THEN s.period_start_ms
              ELSE width_bucket(s.period_start_ms, $4::bigint[]) END AS g
    FROM s
    LEFT JOIN state.energy_market_periods per
      ON per.context = $1 AND per.period_start_ms = s.period_start_ms
    LEFT JOIN state.energy_market_prices pr
      ON pr.context = $1 AND pr.period_start_ms = s.period_start_ms
    LEFT JOIN f ON f.period_start_ms = s.period_start_ms
)
SELECT g::text AS g, count(*)::text AS periods, min(period_start_ms)::text AS first_ms,
       max(end_ms)::text AS end_ms, ${SUMS.map(([c]) => `sum(${c})::text AS ${c}`).join(', ')},
       max(supplied_wh)::text AS peak_wh,
       (array_agg(period_start_ms ORDER BY supplied_wh DESC, period_start_ms))[1]::text AS peak_ms,
       sum(local_wh)::text AS local_wh, sum(local_neur)::text AS local_neur,
       min(local_min)::text AS local_min, max(local_max)::text AS local_max,
       min(supply)::text AS supply_min, max(supply)::text AS supply_max,
       sum(supply)::text AS supply_sum, count(supply)::text AS supply_count,
       min(feed_in)::text AS feed_in_min, max(feed_in)::text AS feed_in_max,
       sum(feed_in)::text AS feed_in_sum, count(feed_in)::text AS feed_in_count
  FROM p GROUP BY g ORDER BY g`;

/** The figures of a context's settled periods, per period, day or month, oldest first. */
export async function marketFigures(
  sql: Sql,
  context: string,
  query: GroupQuery,
): Promise<MarketFiguresView> {
  const base = { context, group: query.group, tz: query.tz };
  const window = await groupWindow(sql, context, undefined, query);
  if (window === null) {
    return {
      ...base,
      groups: [],
      totals: figuresView(emptyAcc()),
      truncated: false,
      nextFromMs: null,
    };
  }
  const rows = await read<Record<string, string | null>>(sql, FIGURES_SQL, [
    context,
    window.fromMs,
    window.toMs,
    groupThresholds(window),
  ]);
  const total = emptyAcc();
  const groups = rows.map((r): FiguresGroupView => {
    const acc = accOf(r);
    addAcc(total, acc);
    const calendar = window.groups[Number(r['g']) - 1];
    const startMs = calendar?.startMs ?? Number(r['first_ms']);
    const endMs = calendar?.endMs ?? Number(r['end_ms']);
    return {
      group: calendar?.label ?? new Date(startMs).toISOString(),
      startMs,
      start: new Date(startMs).toISOString(),
      endMs,
      end: new Date(endMs).toISOString(),
      ...figuresView(acc),
    };
  });
  return {
    ...base,
    groups,
    totals: figuresView(total),
    truncated: window.nextFromMs !== null,
    nextFromMs: window.nextFromMs,
  };
}

function emptyAcc(): FiguresAcc {
  return {
    periods: 0,
    sums: {},
    peakWh: 0n,
    peakMs: null,
    local: null,
    supply: null,
    feedIn: null,
  };
}

function big(value: string | null | undefined): bigint {
  return value == null ? 0n : BigInt(value);
}

function priceAcc(
  min: string | null | undefined,
  max: string | null | undefined,
  sum: bigint,
  weight: bigint,
): PriceAcc | null {
  return min == null || max == null || weight === 0n
    ? null
    : { min: BigInt(min), max: BigInt(max), sum, weight };
}

/** One row of FIGURES_SQL as exact integers. */
function accOf(r: Record<string, string | null>): FiguresAcc {
  const sums: Record<string, bigint> = {};
  for (const [column] of SUMS) sums[column] = big(r[column]);
  const peakWh = big(r['peak_wh']);
  return {
    periods: Number(r['periods']),
    sums,
    peakWh,
    peakMs: peakWh > 0n ? Number(r['peak_ms']) : null,
    // Volume-weighted: nano-euro over Wh is micro-euro per kWh.
    local: priceAcc(r['local_min'], r['local_max'], big(r['local_neur']), big(r['local_wh'])),
    // Per period: every period of a group weighs the same.
    supply: priceAcc(
      r['supply_min'],
      r['supply_max'],
      big(r['supply_sum']),
      big(r['supply_count']),
    ),
    feedIn: priceAcc(
      r['feed_in_min'],
      r['feed_in_max'],
      big(r['feed_in_sum']),
      big(r['feed_in_count']),
    ),
  };
}

function mergePrice(a: PriceAcc | null, b: PriceAcc | null): PriceAcc | null {
  if (a === null || b === null) return a ?? b;
  return {
    min: a.min < b.min ? a.min : b.min,
    max: a.max > b.max ? a.max : b.max,
    sum: a.sum + b.sum,
    weight: a.weight + b.weight,
  };
}

/** Adds a later group to `total` (a peak only replaces an earlier one when strictly larger). */
function addAcc(total: FiguresAcc, acc: FiguresAcc): void {
  total.periods += acc.periods;
  for (const [column] of SUMS)
    total.sums[column] = (total.sums[column] ?? 0n) + (acc.sums[column] ?? 0n);
  if (acc.peakMs !== null && acc.peakWh > total.peakWh) {
    total.peakWh = acc.peakWh;
    total.peakMs = acc.peakMs;
  }
  total.local = mergePrice(total.local, acc.local);
  total.supply = mergePrice(total.supply, acc.supply);
  total.feedIn = mergePrice(total.feedIn, acc.feedIn);
}

/** numerator / denominator with 6 decimals, rounded down; null when the denominator is 0. */
export function ratioText(numerator: bigint, denominator: bigint): string | null {
  if (denominator === 0n) return null;
  const scaled = numerator * 1_000_000n;
  let q = scaled / denominator;
  if (q * denominator > scaled) q -= 1n; // bigint division truncates; round toward -infinity
  const negative = q < 0n;
  const abs = negative ? -q : q;
  return `${negative ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/** Micro-euro per kWh as exact EUR per kWh text. */
function formatUeur(ueur: bigint): string {
  return formatNeur(ueur * 1000n);
}

function priceView(p: PriceAcc | null): PriceRangeView | null {
  if (p === null) return null;
  return {
    minEurPerKwh: formatUeur(p.min),
    avgEurPerKwh: formatUeur(p.sum / p.weight), // prices and weights are never negative
    maxEurPerKwh: formatUeur(p.max),
  };
}

function figuresView(acc: FiguresAcc): FiguresView {
  const n = (column: string): bigint => acc.sums[column] ?? 0n;
  const out: Record<string, string> = {};
  for (const [column, field] of SUMS)
    out[field] = column.endsWith('_neur') ? formatNeur(n(column)) : formatWh(n(column));
  return {
    periods: acc.periods,
    ...(out as unknown as Omit<
      FiguresView,
      'periods' | 'selfSufficiency' | 'selfConsumption' | 'peakImport' | 'prices'
    >),
    selfSufficiency: ratioText(n('consumed_wh') - n('supplied_wh'), n('consumed_wh')),
    selfConsumption: ratioText(n('produced_wh') - n('exported_wh'), n('produced_wh')),
    peakImport:
      acc.peakMs === null
        ? null
        : {
            kwh: formatWh(acc.peakWh),
            periodStartMs: acc.peakMs,
            periodStart: new Date(acc.peakMs).toISOString(),
          },
    prices: {
      local: priceView(acc.local),
      supply: priceView(acc.supply),
      feedIn: priceView(acc.feedIn),
    },
  };
}

const CSV_SUMS = SUMS.map(([, field]) => field);

/** The figures as CSV: a header line, one line per group, and a last line `total`. */
export function figuresCsv(view: MarketFiguresView): string {
  const header = [
    'context',
    view.group,
    'tz',
    'start',
    'end',
    'periods',
    ...CSV_SUMS,
    'selfSufficiency',
    'selfConsumption',
    'peakImportKwh',
    'peakImportPeriodStart',
    ...['local', 'supply', 'feedIn'].flatMap((p) => [
      `${p}MinEurPerKwh`,
      `${p}AvgEurPerKwh`,
      `${p}MaxEurPerKwh`,
    ]),
  ];
  const line = (group: string, start: string, end: string, f: FiguresView): string =>
    csvLine([
      view.context,
      group,
      view.tz,
      start,
      end,
      String(f.periods),
      ...CSV_SUMS.map((field) => f[field]),
      f.selfSufficiency ?? '',
      f.selfConsumption ?? '',
      f.peakImport?.kwh ?? '',
      f.peakImport?.periodStart ?? '',
      ...[f.prices.local, f.prices.supply, f.prices.feedIn].flatMap((p) => [
        p?.minEurPerKwh ?? '',
        p?.avgEurPerKwh ?? '',
        p?.maxEurPerKwh ?? '',
      ]),
    ]);
  const lines = [csvLine(header), ...view.groups.map((g) => line(g.group, g.start, g.end, g))];
  lines.push(
    line('total', view.groups[0]?.start ?? '', view.groups.at(-1)?.end ?? '', view.totals),
  );
  return `${lines.join('\n')}\n`;
}
