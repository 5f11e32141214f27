// The market's statements summed per trader and calendar day or month of a time zone
// (`?group=day|month&tz=`; docs/api.md "Market statements"). The sums are exact (bigint); the
// database groups the periods of the window (src/energy/market-group-window.ts) by the group a
// period starts in, and `limit` counts the grouped statements listed.

import { csvLine } from '../core/csv.js';
import type { Sql } from '../store/types.js';
import { groupThresholds, groupWindow } from './market-group-window.js';
import { parseGroupQuery } from './market-groups.js';
import type { GroupQuery } from './market-groups.js';
import { COLUMNS, figures, marketStatements, parseStatementFilter } from './market-statements.js';
import type { StatementFigures, StatementsView } from './market-statements.js';
import { read } from './query-rows.js';

/** A trader's statements of one day or month, summed. */
export interface GroupedStatementView extends StatementFigures {
  readonly trader: string;
  /** The local date (`2026-03-29`) or month (`2026-03`) in the answer's time zone. */
  readonly group: string;
  /** The group's first instant and the first instant after it, ms and ISO 8601 (UTC). */
  readonly startMs: number;
  readonly start: string;
  readonly endMs: number;
  readonly end: string;
  /** How many of the trader's settled periods the sums cover. */
  readonly periods: number;
}

export interface GroupedStatementsView {
  readonly context: string;
  readonly group: 'day' | 'month';
  readonly tz: string;
  readonly statements: GroupedStatementView[];
  /** The sums over the grouped statements listed. */
  readonly totals: StatementFigures;
  /** More statements match than are listed. */
  readonly truncated: boolean;
  /** When truncated: pass this as `from` for the groups that follow (the first not listed in full). */
  readonly nextFromMs: number | null;
}

export interface GroupedStatementQuery extends GroupQuery {
  readonly group: 'day' | 'month';
  readonly trader?: string;
}

/** The answer of `?trader=&from=&to=&limit=&group=&tz=`: per period, or grouped by day or month. */
export async function readMarketStatements(
  sql: Sql,
  context: string,
  params: Readonly<Record<string, string>>,
): Promise<StatementsView | GroupedStatementsView> {
  const { group: _group, tz: _tz, ...rest } = params;
  const filter = parseStatementFilter(rest);
  const grouping = parseGroupQuery(params);
  if (grouping.group === 'period') return marketStatements(sql, context, filter);
  return groupedMarketStatements(sql, context, {
    ...grouping,
    group: grouping.group,
    ...(filter.trader === undefined ? {} : { trader: filter.trader }),
  });
}

/** A context's statements per trader and day or month, oldest group first, then by trader. */
export async function groupedMarketStatements(
  sql: Sql,
  context: string,
  query: GroupedStatementQuery,
): Promise<GroupedStatementsView> {
  const empty: GroupedStatementsView = {
    context,
    group: query.group,
    tz: query.tz,
    statements: [],
    totals: figures({}),
    truncated: false,
    nextFromMs: null,
  };
  const window = await groupWindow(sql, context, query.trader, query);
  if (window === null) return empty;
  const rows = await read<Record<string, string>>(
    sql,
    `SELECT width_bucket(period_start_ms, $5::bigint[]) AS g, trader, count(*)::text AS periods,
            ${COLUMNS.map(([c]) => `sum(${c})::text AS ${c}`).join(', ')}
       FROM state.energy_market_statements
      WHERE context = $1 AND ($2::text IS NULL OR trader = $2)
        AND period_start_ms >= $3 AND period_start_ms < $4
      GROUP BY g, trader ORDER BY g, trader LIMIT $6`,
    [
      context,
      query.trader ?? null,
      window.fromMs,
      window.toMs,
      groupThresholds(window),
      query.limit + 1,
    ],
  );
  const groupOf = (r: Record<string, string> | undefined) => window.groups[Number(r?.['g']) - 1];
  const sums: Record<string, bigint> = {};
  const statements = rows.slice(0, query.limit).map((r): GroupedStatementView => {
    const values: Record<string, bigint> = {};
    for (const [column] of COLUMNS) {
      const v = BigInt(r[column] ?? '0');
      values[column] = v;
      sums[column] = (sums[column] ?? 0n) + v;
    }
    const g = groupOf(r);
    const startMs = g?.startMs ?? 0;
    const endMs = g?.endMs ?? 0;
    return {
      trader: r['trader'] ?? '',
      group: g?.label ?? '',
      startMs,
      start: new Date(startMs).toISOString(),
      endMs,
      end: new Date(endMs).toISOString(),
      periods: Number(r['periods']),
      ...figures(values),
    };
  });
  const cut = rows.length > query.limit ? groupOf(rows[query.limit]) : undefined;
  const nextFromMs = cut === undefined ? window.nextFromMs : Math.max(cut.startMs, window.fromMs);
  return {
    ...empty,
    statements,
    totals: figures(sums),
    truncated: nextFromMs !== null,
    nextFromMs,
  };
}

/** Grouped statements as CSV: one header line, then one line per grouped statement. */
export function groupedStatementsCsv(view: GroupedStatementsView): string {
  const fields = COLUMNS.map(([, field]) => field);
  const lines = [
    csvLine(['context', 'trader', view.group, 'tz', 'start', 'end', 'periods', ...fields]),
  ];
  for (const s of view.statements) {
    lines.push(
      csvLine([
        view.context,
        s.trader,
        s.group,
        view.tz,
        s.start,
        s.end,
        String(s.periods),
        ...fields.map((f) => s[f]),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}
