// Which settled periods one grouped answer reads (docs/api.md "Market statements", "Market
// figures"). The work of an answer is bounded before the database aggregates anything: the
// window is cut to the first `limit` groups, calendar days or months counted from the first
// settled period in range (or the first `limit` settled periods), and the database then groups
// only the periods inside it, by a key computed per row (width_bucket over the groups' starts).
// Finding the window reads only keys of the statements' primary key or trader index.

import type { Sql } from '../store/types.js';
import { calendarGroups } from './market-groups.js';
import type { CalendarGroup, GroupQuery } from './market-groups.js';
import { read } from './query-rows.js';

export interface GroupWindow {
  /** The calendar groups of the window (day, month); empty for `period`. */
  readonly groups: readonly CalendarGroup[];
  /** Periods starting at or after this and before `toMs` are read. */
  readonly fromMs: number;
  readonly toMs: number;
  /** The start of the first group after the window when settled periods lie beyond it. */
  readonly nextFromMs: number | null;
}

const RANGE = `context = $1 AND ($2::text IS NULL OR trader = $2)
  AND ($3::bigint IS NULL OR period_start_ms >= $3) AND ($4::bigint IS NULL OR period_start_ms < $4)`;

/** The window of a grouped read of a context's statements (of one trader, when given); null: none. */
export async function groupWindow(
  sql: Sql,
  context: string,
  trader: string | undefined,
  query: GroupQuery,
): Promise<GroupWindow | null> {
  const params = [context, trader ?? null, query.fromMs ?? null, query.toMs ?? null];
  if (query.group === 'period') {
    const rows = await read<{ period_start_ms: string }>(
      sql,
      `SELECT DISTINCT period_start_ms::text AS period_start_ms FROM state.energy_market_statements
        WHERE ${RANGE} ORDER BY period_start_ms LIMIT $5`,
      [...params, query.limit + 1],
    );
    const starts = rows.map((r) => Number(r.period_start_ms));
    const first = starts[0];
    if (first === undefined) return null;
    const next = starts[query.limit];
    const last = starts.at(-1) ?? first;
    return { groups: [], fromMs: first, toMs: next ?? last + 1, nextFromMs: next ?? null };
  }
  const [range] = await read<{ first_ms: string | null; last_ms: string | null }>(
    sql,
    `SELECT min(period_start_ms)::text AS first_ms, max(period_start_ms)::text AS last_ms
       FROM state.energy_market_statements WHERE ${RANGE}`,
    params,
  );
  if (range?.first_ms == null || range.last_ms == null) return null;
  const firstMs = Number(range.first_ms);
  const lastMs = Number(range.last_ms);
  const groups = calendarGroups(query.group, firstMs, lastMs, query.tz, query.limit + 1);
  const beyond = groups[query.limit];
  const inWindow = groups.slice(0, query.limit);
  const endMs = inWindow.at(-1)?.endMs ?? lastMs + 1;
  return {
    groups: inWindow,
    fromMs: firstMs,
    toMs: Math.min(endMs, lastMs + 1),
    nextFromMs: beyond?.startMs ?? null,
  };
}

/** The groups' starts as the thresholds of width_bucket (bucket i is groups[i - 1]). */
export function groupThresholds(window: GroupWindow): string[] {
  return window.groups.map((g) => String(g.startMs));
}
