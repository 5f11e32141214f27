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
// Parameters are checked first (parse* below); a bad one is ChainError('bad_request') naming the
// parameter. Only reads: nothing here writes.

import { formatWh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import { isAddress } from '../core/keys.js';
import { parseLabels } from '../core/labels.js';
import { arrayLiteral } from '../store/sql-values.js';
import type { Sql } from '../store/types.js';

export const BALANCES_LIMIT_DEFAULT = 1000;
export const BALANCES_LIMIT_MAX = 10_000;
export const HISTORY_LIMIT_DEFAULT = 100;
export const HISTORY_LIMIT_MAX = 1000;

// ---------------------------------------------------------------------------------------------
// Result shapes (the JSON the API sends).

/** One balance: a trader's energy of one settlement period with exactly one label set. */
export interface EnergyBalanceView {
  readonly trader: string;
  /** The period's first block: what Transfer, Reduce and Mutate name as `block`. */
  readonly block: number;
  /** The period's start, ISO 8601 UTC. */
  readonly periodStart: string;
  readonly periodStartMs: number;
  /** The canonical label set ([] is unlabelled energy). */
  readonly labels: string[];
  /** Exact kWh, e.g. "10", "-0.125"; never "0" (a balance of zero does not exist). */
  readonly amount: string;
}

export interface EnergyTraderTotal {
  readonly trader: string;
  /** The sum of the trader's matching balances, exact kWh. */
  readonly amount: string;
  /** How many balances make up the sum. */
  readonly balances: number;
}

export interface EnergyBalanceFilter {
  readonly trader?: string;
  /** Balances carrying every one of these labels (canonical, non-empty). */
  readonly labels?: readonly string[];
  /** The period, by its first block. */
  readonly block?: number;
  /** Most balances listed (default 1000, at most 10000); totals always cover every match. */
  readonly limit?: number;
}

export interface EnergyBalancesView {
  readonly context: string;
  readonly filter: { readonly trader: string | null; readonly labels: string[] | null; readonly block: number | null };
  /** Ordered by trader, block, label set. */
  readonly balances: EnergyBalanceView[];
  /** True when more balances match than `limit` allowed to list (the totals still count them all). */
  readonly truncated: boolean;
  /** Per trader, ordered by trader, over every matching balance. */
  readonly totals: EnergyTraderTotal[];
  /** The sum of every matching balance, exact kWh. */
  readonly total: string;
}

export type EnergyRole = 'owner' | 'trader' | 'producer' | 'consumer';

export interface EnergyDeviceView {
  readonly address: string;
  /** The trader whose balance the device's energy goes to (or comes from). */
  readonly trader: string;
  /** The labels the owner gave the device. */
  readonly labels: string[];
}

export interface EnergyPeriodView {
  /** The period's first block. */
  readonly block: number;
  readonly start: string;
  readonly startMs: number;
  /** Exclusive. For a per-block period (periodSeconds 0) it is the block time + 1 ms. */
  readonly end: string;
  readonly endMs: number;
  readonly periodSeconds: number;
}

export interface EnergyContextView {
  readonly context: string;
  /** The holder of the context address key: the context address itself. */
  readonly owner: string;
  readonly settlementPeriod: {
    /** The length set last (0: every block is its own period, the default). */
    readonly periodSeconds: number;
    /** The block from which `periodSeconds` applies (null: never set). */
    readonly fromHeight: number | null;
    /** The length that applied before `fromHeight`. */
    readonly previousPeriodSeconds: number;
  };
  /** The most recently opened period, in which energy of the next blocks may still land; null before any energy. */
  readonly latestPeriod: EnergyPeriodView | null;
  /** Ordered by address. */
  readonly traders: { readonly address: string; readonly addedHeight: number }[];
  readonly producers: EnergyDeviceView[];
  readonly consumers: EnergyDeviceView[];
  /** Every address with a role in the context, ordered by address (the owner included). */
  readonly members: { readonly address: string; readonly roles: EnergyRole[] }[];
}

export type EnergyHistoryKind = 'energy' | 'transfer' | 'reduce' | 'mutate' | 'removal';

export interface EnergyHistoryEntry {
  readonly txId: string;
  /** The entry's number within its transaction (a Reduce changes two balances of the trader). */
  readonly seq: number;
  /** The block the transaction is in, and its time. */
  readonly height: number;
  readonly processedAt: string;
  readonly processedMs: number;
  /** energy, transfer, reduce, mutate or removal (EnergyHistoryKind). */
  readonly kind: string;
  /** The period of the balance that changed, by its first block, and its start. */
  readonly block: number;
  readonly periodStart: string;
  readonly periodStartMs: number;
  readonly labels: string[];
  /** The change, exact kWh (negative: energy left the balance). */
  readonly amount: string;
  /** The device (energy), the other trader (transfer) or the owner (mutate); null otherwise. */
  readonly counterparty: string | null;
  readonly description: string | null;
}

export interface EnergyHistoryPage {
  readonly limit?: number;
  /** A cursor: a block height (entries of earlier blocks), or the `next` of a previous page. */
  readonly before?: HistoryCursor;
}

export interface HistoryCursor {
  readonly height: number;
  /** With txId and seq: the last entry of the previous page (the page goes on after it). */
  readonly txId?: string;
  readonly seq?: number;
}

export interface EnergyHistoryView {
  readonly context: string;
  readonly trader: string;
  /** Newest first: by block height descending, then transaction id and seq ascending. */
  readonly entries: EnergyHistoryEntry[];
  /** Pass as `before` for the next page; null when there is none. */
  readonly next: string | null;
}

// ---------------------------------------------------------------------------------------------
// Parameters. Each parser takes what arrived (a URL segment, a query string value, a CLI option)
// and throws ChainError('bad_request') with details.field naming the parameter.

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const CURSOR = /^(0|[1-9][0-9]*)(?::([0-9a-f]{32}):(0|[1-9][0-9]*))?$/;

function badRequest(field: string, message: string, details: Record<string, unknown> = {}): ChainError {
  return new ChainError('bad_request', message, { field, ...details });
}

function excerpt(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

/** An address (context, trader); `field` names it in the error. */
export function parseAddressParam(value: unknown, field: string): string {
  if (!isAddress(value)) {
    throw badRequest(field, `${field} must be an address (base58check, like 1BoatSLRHtKNngkdXEeobR76b53LETtpyT), got ${excerpt(value)}`);
  }
  return value;
}

/** A decimal integer from `min` to `max`. */
export function parseIntegerParam(value: unknown, field: string, min: number, max: number): number {
  const n = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw badRequest(field, `${field} must be an integer from ${min} to ${max}, got ${excerpt(value)}`, { min, max });
  }
  return n;
}

/** One label, or several separated by commas (balances carrying all of them). */
export function parseLabelFilter(value: unknown, field = 'label'): string[] {
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest(field, `${field} must name a label such as "solar" (or several, separated by commas), got ${excerpt(value)}`);
  }
  const parsed = parseLabels(value);
  if (!parsed.ok) throw badRequest(field, `${field}: ${parsed.reason}`);
  return parsed.labels;
}

/** `<height>` or `<height>:<txId>:<seq>` (the `next` of a history page). */
export function parseHistoryCursor(value: unknown, field = 'before'): HistoryCursor {
  const m = typeof value === 'string' ? CURSOR.exec(value) : null;
  const height = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  const seq = m?.[3] === undefined ? undefined : Number(m[3]);
  if (m === null || !Number.isSafeInteger(height) || (seq !== undefined && !Number.isSafeInteger(seq))) {
    throw badRequest(field, `${field} must be a block height or the "next" cursor of a previous page (<height>:<txId>:<seq>), got ${excerpt(value)}`);
  }
  return m[2] === undefined || seq === undefined ? { height } : { height, txId: m[2], seq };
}

export function formatHistoryCursor(cursor: HistoryCursor): string {
  return cursor.txId === undefined || cursor.seq === undefined ? String(cursor.height) : `${cursor.height}:${cursor.txId}:${cursor.seq}`;
}

/** The balance filter from string parameters (query string or CLI options); absent ones stay absent. */
export function parseBalanceFilter(params: { readonly trader?: unknown; readonly label?: unknown; readonly block?: unknown; readonly limit?: unknown }): EnergyBalanceFilter {
  const out: { trader?: string; labels?: string[]; block?: number; limit?: number } = {};
  if (params.trader !== undefined) out.trader = parseAddressParam(params.trader, 'trader');
  if (params.label !== undefined) out.labels = parseLabelFilter(params.label, 'label');
  if (params.block !== undefined) out.block = parseIntegerParam(params.block, 'block', 0, Number.MAX_SAFE_INTEGER);
  if (params.limit !== undefined) out.limit = parseIntegerParam(params.limit, 'limit', 1, BALANCES_LIMIT_MAX);
  return out;
}

/** The history page from string parameters. */
export function parseHistoryPage(params: { readonly limit?: unknown; readonly before?: unknown }): EnergyHistoryPage {
  const out: { limit?: number; before?: HistoryCursor } = {};
  if (params.limit !== undefined) out.limit = parseIntegerParam(params.limit, 'limit', 1, HISTORY_LIMIT_MAX);
  if (params.before !== undefined) out.before = parseHistoryCursor(params.before, 'before');
  return out;
}

function checkFilter(filter: EnergyBalanceFilter): void {
  if (filter.trader !== undefined) parseAddressParam(filter.trader, 'trader');
  if (filter.labels !== undefined) {
    const parsed = parseLabels([...filter.labels]);
    if (!parsed.ok) throw badRequest('label', `label: ${parsed.reason}`);
    if (parsed.labels.length === 0) throw badRequest('label', 'label must name at least one label');
  }
  if (filter.block !== undefined && (!Number.isSafeInteger(filter.block) || filter.block < 0)) {
    throw badRequest('block', `block must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${filter.block}`);
  }
  if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 1 || filter.limit > BALANCES_LIMIT_MAX)) {
    throw badRequest('limit', `limit must be an integer from 1 to ${BALANCES_LIMIT_MAX}, got ${filter.limit}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Queries.

/** The statement behind energyBalances (exported so tests can EXPLAIN it). */
export function balancesQuery(context: string, filter: EnergyBalanceFilter): { text: string; params: string[] } {
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
export async function energyBalances(sql: Sql, context: string, filter: EnergyBalanceFilter = {}): Promise<EnergyBalancesView> {
  parseAddressParam(context, 'context');
  checkFilter(filter);
  const labels = filter.labels === undefined ? undefined : canonical(filter.labels);
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
    return { trader: textOf(trader, 'trader'), amount: formatWh(sum), balances: safeNumber(n, 'count') };
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
     FROM state.energy_periods WHERE context = $1 AND latest ORDER BY block DESC LIMIT 1) AS latest`;

/** Members, roles and settlement period of a context (see EnergyContextView). */
export async function energyContext(sql: Sql, context: string): Promise<EnergyContextView> {
  parseAddressParam(context, 'context');
  const rows = await read<{ traders: unknown; producers: unknown; consumers: unknown; settings: unknown; latest: unknown }>(sql, CONTEXT_SQL, [context]);
  const row = rows[0];
  if (row === undefined) throw new ChainError('internal', 'the context query returned no row');
  const traders = jsonRows(row.traders, 'traders').map(([address, height]) => ({ address: textOf(address, 'address'), addedHeight: safeNumber(height, 'added_height') }));
  const device = ([address, trader, labels]: unknown[]): EnergyDeviceView => ({
    address: textOf(address, 'address'),
    trader: textOf(trader, 'trader'),
    labels: stringArray(labels, 'labels'),
  });
  const producers = jsonRows(row.producers, 'producers').map(device);
  const consumers = jsonRows(row.consumers, 'consumers').map(device);
  const settings = row.settings === null || row.settings === undefined ? null : jsonArray(row.settings, 'settings');
  const settlementPeriod = settings === null
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
    latestPeriod = { block: safeNumber(block, 'block'), start: iso(start), startMs: start, end: iso(end), endMs: end, periodSeconds: safeNumber(periodMs, 'period_ms') / 1000 };
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
  return { context, owner: context, settlementPeriod, latestPeriod, traders, producers, consumers, members };
}

/** The statement behind energyHistory (exported so tests can EXPLAIN it). */
export function historyQuery(context: string, trader: string, page: EnergyHistoryPage): { text: string; params: string[] } {
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
      where.push(`(height < ${h} OR (height = ${h} AND (tx_id > ${t} OR (tx_id = ${t} AND seq > ${s}))))`);
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
export async function energyHistory(sql: Sql, context: string, trader: string, page: EnergyHistoryPage = {}): Promise<EnergyHistoryView> {
  parseAddressParam(context, 'context');
  parseAddressParam(trader, 'trader');
  const limit = page.limit ?? HISTORY_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_LIMIT_MAX) {
    throw badRequest('limit', `limit must be an integer from 1 to ${HISTORY_LIMIT_MAX}, got ${limit}`);
  }
  if (page.before !== undefined) parseHistoryCursor(formatHistoryCursor(page.before), 'before');
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
  const next = rows.length > limit && last !== undefined ? formatHistoryCursor({ height: last.height, txId: last.txId, seq: last.seq }) : null;
  return { context, trader, entries, next };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/** Runs a read; a chain without the energy contracts (no tables yet) is not_found. */
async function read<R>(sql: Sql, text: string, params: unknown[]): Promise<R[]> {
  try {
    return (await sql.query<R>(text, params)).rows;
  } catch (err) {
    if ((err as { code?: unknown }).code === '42P01') {
      throw new ChainError('not_found', 'the energy contracts are not installed on this chain (no energy tables in schema state); install them with `hanzenet energy install`', {}, { cause: err });
    }
    throw err;
  }
}

function canonical(labels: readonly string[]): string[] {
  const parsed = parseLabels([...labels]);
  if (!parsed.ok) throw badRequest('label', `label: ${parsed.reason}`);
  return parsed.labels;
}

function jsonArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ChainError('internal', `expected a JSON array for ${what}, got ${typeof value}`);
  return value;
}

function jsonRows(value: unknown, what: string): unknown[][] {
  return jsonArray(value, what).map((r) => jsonArray(r, what));
}

function textOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ChainError('internal', `expected text for ${what}, got ${typeof value}`);
  return value;
}

function stringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ChainError('internal', `expected text[] for ${what}`);
  return value as string[];
}

/** A bigint from the driver (bigint) or from JSON text of one. */
function bigintOf(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  throw new ChainError('internal', `expected an integer for ${what}, got ${String(value)}`);
}

function safeNumber(value: unknown, what: string): number {
  const n = Number(bigintOf(value, what));
  if (!Number.isSafeInteger(n)) throw new ChainError('internal', `${what} is not a safe integer: ${String(value)}`);
  return n;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** UTF-8 byte order, the order of the tables' COLLATE "C" text. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
