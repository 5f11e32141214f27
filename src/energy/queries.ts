// The read side of the energy market: SQL over the contracts' state tables (schema `state`,
// src/energy/tables.ts, docs/energy.md "Tables") for the API, the client and the CLI. Given any
// `Sql` (the processor's database, a mirror node's, or a read-only connection of one's own), it
// answers three questions, each with one statement so that the answer is one consistent snapshot:
//
//   - energyBalances: a context's balances per trader, period and label set (each with the
//     period's first block and start time), filtered by trader, label and period, with totals;
//   - energyContext: a context's members and their roles, and its settlement period;
//   - energyHistory: a trader's balance changes, newest first, in pages.
//
// Amounts leave as exact kWh strings (formatWh), never as floating point numbers. Results are
// ordered deterministically (text in byte order, as the tables' COLLATE "C" columns sort).
// Parameters are checked first (src/energy/query-params.ts); a bad one is ChainError('bad_request') naming the
// parameter. Only reads: nothing here writes.

import { formatWh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import { arrayLiteral } from '../store/sql-values.js';
import type { Sql } from '../store/types.js';
import {
  BALANCES_LIMIT_DEFAULT,
  HISTORY_LIMIT_DEFAULT,
  canonicalLabels,
  checkBalanceFilter,
  checkHistoryPage,
  formatHistoryCursor,
  parseAddressParam,
} from './query-params.js';
import {
  bigintOf,
  compareBytes,
  iso,
  jsonArray,
  jsonRows,
  read,
  safeNumber,
  stringArray,
  textOf,
} from './query-rows.js';
import type {
  EnergyBalanceFilter,
  EnergyBalancesView,
  EnergyBalanceView,
  EnergyContextView,
  EnergyDeviceView,
  EnergyHistoryEntry,
  EnergyHistoryPage,
  EnergyHistoryView,
  EnergyPeriodView,
  EnergyRole,
  EnergyTraderTotal,
} from './views.js';

// The views and the parameter parsers are part of the read side's interface: callers that run the
// queries (the HTTP routes, tests) find them here too.
export * from './query-params.js';
export type * from './views.js';

/** The statement behind energyBalances (exported so tests can EXPLAIN it). */
export function balancesQuery(
  context: string,
  filter: EnergyBalanceFilter,
): { text: string; params: string[] } {
  const params: string[] = [context];
  const where = ['context = $1'];
  if (filter.trader !== undefined) {
    params.push(filter.trader);
    where.push(`trader = $${params.length}`);
  }
  if (filter.labels !== undefined) {
    // @> is what the GIN index on labels serves ('x' = ANY(labels) would scan the table).
    params.push(arrayLiteral([...filter.labels]));
    where.push(`labels @> $${params.length}::text::text[]`);
  }
  if (filter.block !== undefined) {
    params.push(String(filter.block));
    where.push(`block = $${params.length}::text::bigint`);
  }
  params.push(String(filter.limit ?? BALANCES_LIMIT_DEFAULT));
  const limit = `$${params.length}::text::int`;
  const text = `WITH m AS (
  SELECT trader, block, period_start_ms, labels, labels_key, amount_wh FROM state.energy_balances WHERE ${where.join(' AND ')}
), page AS (
  SELECT * FROM m ORDER BY trader, block, labels_key LIMIT ${limit} + 1
)
SELECT
  (SELECT coalesce(json_agg(json_build_array(trader, block::text, period_start_ms::text, labels, amount_wh::text) ORDER BY trader, block, labels_key), '[]'::json) FROM page) AS balances,
  (SELECT coalesce(json_agg(json_build_array(trader, wh::text, n::text) ORDER BY trader), '[]'::json)
     FROM (SELECT trader, sum(amount_wh) AS wh, count(*) AS n FROM m GROUP BY trader) t) AS totals`;
  return { text, params };
}

/** Balances of a context (see EnergyBalancesView). */
export async function energyBalances(
  sql: Sql,
  context: string,
  filter: EnergyBalanceFilter = {},
): Promise<EnergyBalancesView> {
  parseAddressParam(context, 'context');
  checkBalanceFilter(filter);
  const labels = filter.labels === undefined ? undefined : canonicalLabels(filter.labels);
  const normal: EnergyBalanceFilter = { ...filter, ...(labels === undefined ? {} : { labels }) };
  const { text, params } = balancesQuery(context, normal);
  const rows = await read<{ balances: unknown; totals: unknown }>(sql, text, params);
  const row = rows[0];
  if (row === undefined) throw new ChainError('internal', 'the balance query returned no row');
  const limit = filter.limit ?? BALANCES_LIMIT_DEFAULT;
  const listed = jsonRows(row.balances, 'balances');
  const balances = listed.slice(0, limit).map((r): EnergyBalanceView => {
    const [trader, block, startMs, labelSet, wh] = r;
    const periodStartMs = safeNumber(startMs, 'period_start_ms');
    return {
      trader: textOf(trader, 'trader'),
      block: safeNumber(block, 'block'),
      periodStart: iso(periodStartMs),
      periodStartMs,
      labels: stringArray(labelSet, 'labels'),
      amount: formatWh(bigintOf(wh, 'amount_wh')),
    };
  });
  let total = 0n;
  const totals = jsonRows(row.totals, 'totals').map((r): EnergyTraderTotal => {
    const [trader, wh, n] = r;
    const sum = bigintOf(wh, 'sum');
    total += sum;
    return {
      trader: textOf(trader, 'trader'),
      amount: formatWh(sum),
      balances: safeNumber(n, 'count'),
    };
  });
  return {
    context,
    filter: { trader: filter.trader ?? null, labels: labels ?? null, block: filter.block ?? null },
    balances,
    truncated: listed.length > limit,
    totals,
    total: formatWh(total),
  };
}

const CONTEXT_SQL = `SELECT
  (SELECT coalesce(json_agg(json_build_array(address, added_height::text) ORDER BY address), '[]'::json)
     FROM state.energy_traders WHERE context = $1) AS traders,
  (SELECT coalesce(json_agg(json_build_array(address, trader, labels) ORDER BY address), '[]'::json)
     FROM state.energy_producers WHERE context = $1) AS producers,
  (SELECT coalesce(json_agg(json_build_array(address, trader, labels) ORDER BY address), '[]'::json)
     FROM state.energy_consumers WHERE context = $1) AS consumers,
  (SELECT json_build_array(period_ms::text, previous_period_ms::text, from_height::text)
     FROM state.energy_settings WHERE context = $1) AS settings,
  (SELECT json_build_array(block::text, start_ms::text, end_ms::text, period_ms::text)
     FROM state.energy_periods WHERE context = $1 AND latest ORDER BY block DESC LIMIT 1) AS latest,
  (SELECT json_build_array(market_on, period_ms::text, gate_closure_ms::text, auction, allocation,
                           changed_height::text)
     FROM state.energy_market_settings WHERE context = $1) AS market`;

/** Members, roles and settlement period of a context (see EnergyContextView). */
export async function energyContext(sql: Sql, context: string): Promise<EnergyContextView> {
  parseAddressParam(context, 'context');
  const rows = await read<{
    traders: unknown;
    producers: unknown;
    consumers: unknown;
    settings: unknown;
    latest: unknown;
    market: unknown;
  }>(sql, CONTEXT_SQL, [context]);
  const row = rows[0];
  if (row === undefined) throw new ChainError('internal', 'the context query returned no row');
  const traders = jsonRows(row.traders, 'traders').map(([address, height]) => ({
    address: textOf(address, 'address'),
    addedHeight: safeNumber(height, 'added_height'),
  }));
  const device = ([address, trader, labels]: unknown[]): EnergyDeviceView => ({
    address: textOf(address, 'address'),
    trader: textOf(trader, 'trader'),
    labels: stringArray(labels, 'labels'),
  });
  const producers = jsonRows(row.producers, 'producers').map(device);
  const consumers = jsonRows(row.consumers, 'consumers').map(device);
  const settings =
    row.settings === null || row.settings === undefined
      ? null
      : jsonArray(row.settings, 'settings');
  const settlementPeriod =
    settings === null
      ? { periodSeconds: 0, fromHeight: null, previousPeriodSeconds: 0 }
      : {
          periodSeconds: safeNumber(settings[0], 'period_ms') / 1000,
          fromHeight: safeNumber(settings[2], 'from_height'),
          previousPeriodSeconds: safeNumber(settings[1], 'previous_period_ms') / 1000,
        };
  let latestPeriod: EnergyPeriodView | null = null;
  if (row.latest !== null && row.latest !== undefined) {
    const [block, startMs, endMs, periodMs] = jsonArray(row.latest, 'latest');
    const start = safeNumber(startMs, 'start_ms');
    const end = safeNumber(endMs, 'end_ms');
    latestPeriod = {
      block: safeNumber(block, 'block'),
      start: iso(start),
      startMs: start,
      end: iso(end),
      endMs: end,
      periodSeconds: safeNumber(periodMs, 'period_ms') / 1000,
    };
  }
  const roles = new Map<string, Set<EnergyRole>>([[context, new Set<EnergyRole>(['owner'])]]);
  const add = (address: string, role: EnergyRole): void => {
    const set = roles.get(address) ?? new Set<EnergyRole>();
    set.add(role);
    roles.set(address, set);
  };
  for (const t of traders) add(t.address, 'trader');
  for (const p of producers) add(p.address, 'producer');
  for (const c of consumers) add(c.address, 'consumer');
  const order: EnergyRole[] = ['owner', 'trader', 'producer', 'consumer'];
  const members = [...roles.entries()]
    .sort(([a], [b]) => compareBytes(a, b))
    .map(([address, set]) => ({ address, roles: order.filter((r) => set.has(r)) }));
  return {
    context,
    owner: context,
    settlementPeriod,
    market: marketOf(row.market),
    latestPeriod,
    traders,
    producers,
    consumers,
    members,
  };
}

function marketOf(value: unknown): EnergyContextView['market'] {
  if (value === null || value === undefined) return null;
  const [on, periodMs, gateMs, auction, allocation, changedHeight] = jsonArray(value, 'market');
  return {
    on: on === true,
    periodSeconds: safeNumber(periodMs, 'period_ms') / 1000,
    gateClosureSeconds: safeNumber(gateMs, 'gate_closure_ms') / 1000,
    auction: auction === true,
    allocation: allocation === true,
    changedHeight: safeNumber(changedHeight, 'changed_height'),
  };
}

/** The statement behind energyHistory (exported so tests can EXPLAIN it). */
export function historyQuery(
  context: string,
  trader: string,
  page: EnergyHistoryPage,
): { text: string; params: string[] } {
  const params: string[] = [context, trader];
  const where = ['context = $1', 'trader = $2'];
  const before = page.before;
  if (before !== undefined) {
    params.push(String(before.height));
    const h = `$${params.length}::text::bigint`;
    if (before.txId === undefined || before.seq === undefined) {
      where.push(`height < ${h}`);
    } else {
      params.push(before.txId, String(before.seq));
      const t = `$${params.length - 1}::text`;
      const s = `$${params.length}::text::bigint`;
      where.push(
        `(height < ${h} OR (height = ${h} AND (tx_id > ${t} OR (tx_id = ${t} AND seq > ${s}))))`,
      );
    }
  }
  params.push(String((page.limit ?? HISTORY_LIMIT_DEFAULT) + 1));
  const text = `SELECT tx_id, seq, height, processed_ms, kind, block, period_start_ms, labels, delta_wh, counterparty, description
FROM state.energy_history WHERE ${where.join(' AND ')}
ORDER BY height DESC, tx_id, seq LIMIT $${params.length}::text::int`;
  return { text, params };
}

interface HistoryRow {
  tx_id: string;
  seq: bigint;
  height: bigint;
  processed_ms: bigint;
  kind: string;
  block: bigint;
  period_start_ms: bigint;
  labels: string[];
  delta_wh: bigint;
  counterparty: string;
  description: string;
}

/** A trader's history, newest first (see EnergyHistoryView). */
export async function energyHistory(
  sql: Sql,
  context: string,
  trader: string,
  page: EnergyHistoryPage = {},
): Promise<EnergyHistoryView> {
  parseAddressParam(context, 'context');
  parseAddressParam(trader, 'trader');
  checkHistoryPage(page);
  const limit = page.limit ?? HISTORY_LIMIT_DEFAULT;
  const { text: statement, params } = historyQuery(context, trader, page);
  const rows = await read<HistoryRow>(sql, statement, params);
  const entries = rows.slice(0, limit).map((r): EnergyHistoryEntry => {
    const processedMs = safeNumber(r.processed_ms, 'processed_ms');
    const periodStartMs = safeNumber(r.period_start_ms, 'period_start_ms');
    return {
      txId: r.tx_id,
      seq: safeNumber(r.seq, 'seq'),
      height: safeNumber(r.height, 'height'),
      processedAt: iso(processedMs),
      processedMs,
      kind: r.kind,
      block: safeNumber(r.block, 'block'),
      periodStart: iso(periodStartMs),
      periodStartMs,
      labels: stringArray(r.labels, 'labels'),
      amount: formatWh(bigintOf(r.delta_wh, 'delta_wh')),
      counterparty: r.counterparty === '' ? null : r.counterparty,
      description: r.description === '' ? null : r.description,
    };
  });
  const last = entries[entries.length - 1];
  const next =
    rows.length > limit && last !== undefined
      ? formatHistoryCursor({ height: last.height, txId: last.txId, seq: last.seq })
      : null;
  return { context, trader, entries, next };
}
