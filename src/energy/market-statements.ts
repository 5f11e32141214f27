// The market's statements as the API, the client and the CLI show them (docs/api.md "Market
// statements", docs/energy.md): what SettlePeriod wrote to state.energy_market_statements for a
// context, per trader and settled period, filtered by trader and time, with totals. Energy leaves
// as exact kWh strings, money as exact EUR strings (nano-euro inside), never as floating point.

import { formatWh } from '../core/amount.js';
import { csvLine } from '../core/csv.js';
import type { Sql } from '../store/types.js';
import { parseAddressParam, parseTimeRange } from './query-params.js';
import { read } from './query-rows.js';
import type { StatementFigures } from './views.js';

/** Most statements in one answer (and the default). */
export const STATEMENTS_LIMIT_MAX = 10_000;

export interface StatementFilter {
  readonly trader?: string;
  /** Periods starting at or after this, ms since the Unix epoch. */
  readonly fromMs?: number;
  /** Periods starting before this, ms since the Unix epoch. */
  readonly toMs?: number;
  readonly limit: number;
}

export type { StatementFigures };

export interface StatementView extends StatementFigures {
  readonly trader: string;
  readonly periodStartMs: number;
  readonly periodStart: string;
}

export interface StatementsView {
  readonly context: string;
  readonly statements: StatementView[];
  /** The sums over the statements listed. */
  readonly totals: StatementFigures;
  /** More statements match than `limit` listed. */
  readonly truncated: boolean;
}

/** The statement columns (Wh or nano-euro) and their fields in the views (kWh or EUR). */
export const COLUMNS = [
  ['produced_wh', 'producedKwh'],
  ['consumed_wh', 'consumedKwh'],
  ['own_use_wh', 'ownUseKwh'],
  ['bought_wh', 'boughtKwh'],
  ['bought_neur', 'boughtEur'],
  ['sold_wh', 'soldKwh'],
  ['sold_neur', 'soldEur'],
  ['supplied_wh', 'suppliedKwh'],
  ['supplied_neur', 'suppliedEur'],
  ['exported_wh', 'exportedKwh'],
  ['exported_neur', 'exportedEur'],
  ['late_wh', 'lateKwh'],
  ['imbalance_wh', 'imbalanceKwh'],
  ['imbalance_neur', 'imbalanceEur'],
  ['corrected_wh', 'correctedKwh'],
  ['correction_wh', 'correctionKwh'],
  ['correction_neur', 'correctionEur'],
  ['due_neur', 'dueEur'],
] as const;

/** Nano-euro as exact EUR text: 225000000n -> "0.225", -1n -> "-0.000000001". */
export function formatNeur(neur: bigint): string {
  const negative = neur < 0n;
  const abs = negative ? -neur : neur;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / 1_000_000_000n}${frac ? `.${frac}` : ''}`;
}

/** Column values (Wh, nano-euro) as the view's exact kWh and EUR strings. */
export function figures(values: Readonly<Record<string, bigint>>): StatementFigures {
  const out: Record<string, string> = {};
  for (const [column, field] of COLUMNS) {
    const v = values[column] ?? 0n;
    out[field] = column.endsWith('_neur') ? formatNeur(v) : formatWh(v);
  }
  return out as unknown as StatementFigures;
}

/** The filter of `?trader=&from=&to=&limit=` (times in ms since the Unix epoch). */
export function parseStatementFilter(params: Readonly<Record<string, string>>): StatementFilter {
  const range = parseTimeRange(params, STATEMENTS_LIMIT_MAX);
  return params['trader'] === undefined
    ? range
    : { ...range, trader: parseAddressParam(params['trader'], 'trader') };
}

/** A context's statements, oldest period first, then by trader (byte order), with totals. */
export async function marketStatements(
  sql: Sql,
  context: string,
  filter: StatementFilter,
): Promise<StatementsView> {
  const rows = await read<Record<string, string>>(
    sql,
    `SELECT trader, period_start_ms::text AS period_start_ms, ${COLUMNS.map(([c]) => `${c}::text AS ${c}`).join(', ')}
       FROM state.energy_market_statements
      WHERE context = $1 AND ($2::text IS NULL OR trader = $2)
        AND ($3::bigint IS NULL OR period_start_ms >= $3) AND ($4::bigint IS NULL OR period_start_ms < $4)
      ORDER BY period_start_ms, trader
      LIMIT $5`,
    [context, filter.trader ?? null, filter.fromMs ?? null, filter.toMs ?? null, filter.limit + 1],
  );
  const truncated = rows.length > filter.limit;
  const sums: Record<string, bigint> = {};
  const statements = rows.slice(0, filter.limit).map((r) => {
    const values: Record<string, bigint> = {};
    for (const [column] of COLUMNS) {
      const v = BigInt(r[column] ?? '0');
      values[column] = v;
      sums[column] = (sums[column] ?? 0n) + v;
    }
    const periodStartMs = Number(r['period_start_ms']);
    return {
      trader: r['trader'] ?? '',
      periodStartMs,
      periodStart: new Date(periodStartMs).toISOString(),
      ...figures(values),
    };
  });
  return { context, statements, totals: figures(sums), truncated };
}

/** The statements as CSV: one header line, then one line per statement (no totals line). */
export function statementsCsv(view: StatementsView): string {
  const fields = COLUMNS.map(([, field]) => field);
  const lines = [csvLine(['context', 'trader', 'periodStart', ...fields])];
  for (const s of view.statements) {
    lines.push(csvLine([view.context, s.trader, s.periodStart, ...fields.map((f) => s[f])]));
  }
  return `${lines.join('\n')}\n`;
}
