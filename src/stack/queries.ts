// The reads of stacked marketplaces on one chain's database (docs/decisions/0012): the child's
// parent link, upstream rows and residual; the parent's members, their positions and flows; the
// blocks they name. Each list has a limit and is served by a table's key or index. Labels come as
// JSON (the same on PGlite and PostgreSQL), amounts as text turned into bigint.

import { ChainError } from '../core/errors.js';
import { read } from '../energy/query-rows.js';
import type { Sql } from '../store/types.js';
import type { ParentFlowRow, ResidualRow } from './payloads.js';

/** Most rows of one list read. */
export const STACK_LIST_LIMIT_MAX = 1000;
/** Most flows of one period read for one member (a period holds at most 9,999 positions a side). */
const MEMBER_FLOWS_MAX = 20_000;

export interface ParentLink {
  readonly context: string;
  readonly parentChain: string;
  readonly parentContext: string;
  readonly parentProcessor: string;
  readonly height: number;
}

export interface UpstreamRow {
  readonly context: string;
  readonly periodStartMs: number;
  readonly state: string;
  readonly localHeight: number;
  readonly producedWh: bigint;
  readonly consumedWh: bigint;
  readonly missed: boolean;
  readonly parentHeight: number;
  readonly parentBlockHash: string;
  readonly settledHeight: number;
}

export interface MemberRow {
  readonly context: string;
  readonly member: string;
  readonly chain: string;
  readonly childContext: string;
  readonly processor: string;
  readonly producer: string;
  readonly consumer: string;
  readonly lastPeriodMs: number;
  readonly lastHeight: number;
  readonly height: number;
}

export interface MemberPositionRow {
  readonly context: string;
  readonly member: string;
  readonly periodStartMs: number;
  readonly chain: string;
  readonly childHeight: number;
  readonly childBlockHash: string;
  readonly producedWh: bigint;
  readonly consumedWh: bigint;
  readonly txId: string;
  readonly height: number;
}

export interface MarketTiming {
  readonly periodMs: number;
  readonly gateClosureMs: number;
}

export interface PeriodPrices {
  readonly localUeur: bigint;
  readonly supplyUeur: bigint;
  readonly feedInUeur: bigint;
}

type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v as string);
const big = (v: unknown): bigint => BigInt(v as string);
const str = (v: unknown): string => String(v);
const labelsOf = (v: unknown): string[] => {
  if (!Array.isArray(v) || v.some((l) => typeof l !== 'string'))
    throw new ChainError('internal', `expected a JSON array of labels, got ${JSON.stringify(v)}`);
  return v as string[];
};

/** The parent market of a child context (MarketParent), or null. */
export async function parentOf(sql: Sql, context: string): Promise<ParentLink | null> {
  const rows = await read<Row>(
    sql,
    `SELECT context, parent_chain, parent_context, parent_processor, height::text AS height
       FROM state.energy_market_parents WHERE context = $1`,
    [context],
  );
  return rows[0] === undefined ? null : parentLink(rows[0]);
}

/** The contexts whose parent market is on `parentChain`, by context address after `after`. */
export async function parentsOnChain(
  sql: Sql,
  parentChain: string,
  after: string,
  limit: number,
): Promise<ParentLink[]> {
  const rows = await read<Row>(
    sql,
    `SELECT context, parent_chain, parent_context, parent_processor, height::text AS height
       FROM state.energy_market_parents WHERE context > $1 AND parent_chain = $2
      ORDER BY context LIMIT $3`,
    [after, parentChain, limit],
  );
  return rows.map(parentLink);
}

function parentLink(r: Row): ParentLink {
  return {
    context: str(r['context']),
    parentChain: str(r['parent_chain']),
    parentContext: str(r['parent_context']),
    parentProcessor: str(r['parent_processor']),
    height: num(r['height']),
  };
}

const UPSTREAM_COLUMNS = `context, period_start_ms::text AS period_start_ms, state, local_height::text AS local_height,
  produced_wh::text AS produced_wh, consumed_wh::text AS consumed_wh, missed,
  parent_height::text AS parent_height, parent_block_hash, settled_height::text AS settled_height`;

/** A context's upstream rows from `fromMs` on, oldest first; only those in `state` when given. */
export async function upstreamRows(
  sql: Sql,
  context: string,
  state: string | null,
  fromMs: number,
  limit: number,
): Promise<UpstreamRow[]> {
  const rows = await read<Row>(
    sql,
    `SELECT ${UPSTREAM_COLUMNS} FROM state.energy_market_upstream
      WHERE context = $1 AND ($2::text IS NULL OR state = $2) AND period_start_ms >= $3
      ORDER BY period_start_ms LIMIT $4`,
    [context, state, fromMs, limit],
  );
  return rows.map(upstreamRow);
}

export async function upstreamOf(
  sql: Sql,
  context: string,
  periodStartMs: number,
): Promise<UpstreamRow | null> {
  const rows = await read<Row>(
    sql,
    `SELECT ${UPSTREAM_COLUMNS} FROM state.energy_market_upstream
      WHERE context = $1 AND period_start_ms = $2`,
    [context, periodStartMs],
  );
  return rows[0] === undefined ? null : upstreamRow(rows[0]);
}

function upstreamRow(r: Row): UpstreamRow {
  return {
    context: str(r['context']),
    periodStartMs: num(r['period_start_ms']),
    state: str(r['state']),
    localHeight: num(r['local_height']),
    producedWh: big(r['produced_wh']),
    consumedWh: big(r['consumed_wh']),
    missed: r['missed'] === true,
    parentHeight: num(r['parent_height']),
    parentBlockHash: str(r['parent_block_hash']),
    settledHeight: num(r['settled_height']),
  };
}

/** The residual of a child context's period (SettlePeriod wrote it). */
export async function residualsOf(
  sql: Sql,
  context: string,
  periodStartMs: number,
): Promise<ResidualRow[]> {
  const rows = await read<Row>(
    sql,
    `SELECT trader, direction, to_json(labels) AS labels, wh::text AS wh
       FROM state.energy_market_residuals WHERE context = $1 AND period_start_ms = $2
      ORDER BY trader, labels_key, direction`,
    [context, periodStartMs],
  );
  return rows.map((r) => ({
    trader: str(r['trader']),
    direction: str(r['direction']),
    labels: labelsOf(r['labels']),
    wh: big(r['wh']),
  }));
}

const MEMBER_COLUMNS = `context, member, chain, child_context, processor, producer, consumer,
  last_period_ms::text AS last_period_ms, last_height::text AS last_height, height::text AS height`;

export async function memberOf(
  sql: Sql,
  context: string,
  member: string,
): Promise<MemberRow | null> {
  const rows = await read<Row>(
    sql,
    `SELECT ${MEMBER_COLUMNS} FROM state.energy_market_members WHERE context = $1 AND member = $2`,
    [context, member],
  );
  return rows[0] === undefined ? null : memberRow(rows[0]);
}

/** A parent context's members, by address after `after`; only those of `chain` when given. */
export async function membersOf(
  sql: Sql,
  context: string,
  chain: string | null,
  after: string,
  limit: number,
): Promise<MemberRow[]> {
  const rows = await read<Row>(
    sql,
    `SELECT ${MEMBER_COLUMNS} FROM state.energy_market_members
      WHERE context = $1 AND member > $2 AND ($3::text IS NULL OR chain = $3)
      ORDER BY member LIMIT $4`,
    [context, after, chain, limit],
  );
  return rows.map(memberRow);
}

function memberRow(r: Row): MemberRow {
  return {
    context: str(r['context']),
    member: str(r['member']),
    chain: str(r['chain']),
    childContext: str(r['child_context']),
    processor: str(r['processor']),
    producer: str(r['producer']),
    consumer: str(r['consumer']),
    lastPeriodMs: num(r['last_period_ms']),
    lastHeight: num(r['last_height']),
    height: num(r['height']),
  };
}

const POSITION_COLUMNS = `context, member, period_start_ms::text AS period_start_ms, chain,
  child_height::text AS child_height, child_block_hash, produced_wh::text AS produced_wh,
  consumed_wh::text AS consumed_wh, tx_id, height::text AS height`;

/** A parent context's member positions from `fromMs` on, oldest first; one member's when given. */
export async function memberPositions(
  sql: Sql,
  context: string,
  member: string | null,
  fromMs: number,
  limit: number,
): Promise<MemberPositionRow[]> {
  const rows = await read<Row>(
    sql,
    `SELECT ${POSITION_COLUMNS} FROM state.energy_market_member_positions
      WHERE context = $1 AND ($2::text IS NULL OR member = $2) AND period_start_ms >= $3
      ORDER BY period_start_ms, member LIMIT $4`,
    [context, member, fromMs, limit],
  );
  return rows.map(positionRow);
}

export async function memberPositionOf(
  sql: Sql,
  context: string,
  member: string,
  periodStartMs: number,
): Promise<MemberPositionRow | null> {
  const rows = await read<Row>(
    sql,
    `SELECT ${POSITION_COLUMNS} FROM state.energy_market_member_positions
      WHERE context = $1 AND member = $2 AND period_start_ms = $3`,
    [context, member, periodStartMs],
  );
  return rows[0] === undefined ? null : positionRow(rows[0]);
}

function positionRow(r: Row): MemberPositionRow {
  return {
    context: str(r['context']),
    member: str(r['member']),
    periodStartMs: num(r['period_start_ms']),
    chain: str(r['chain']),
    childHeight: num(r['child_height']),
    childBlockHash: str(r['child_block_hash']),
    producedWh: big(r['produced_wh']),
    consumedWh: big(r['consumed_wh']),
    txId: str(r['tx_id']),
    height: num(r['height']),
  };
}

/** Every flow of a period in which `trader` is the seller or the buyer, in flow order. */
export async function flowsOfTrader(
  sql: Sql,
  context: string,
  periodStartMs: number,
  trader: string,
): Promise<ParentFlowRow[]> {
  const rows = await read<Row>(
    sql,
    `SELECT seq::text AS seq, kind, seller, buyer, to_json(labels) AS labels, wh::text AS wh,
            price_ueur_per_kwh::text AS price, height::text AS height
       FROM state.energy_market_flows
      WHERE context = $1 AND period_start_ms = $2 AND (seller = $3 OR buyer = $3)
      ORDER BY seq LIMIT $4`,
    [context, periodStartMs, trader, MEMBER_FLOWS_MAX],
  );
  return rows.map((r) => ({
    seq: big(r['seq']),
    kind: str(r['kind']),
    seller: str(r['seller']),
    buyer: str(r['buyer']),
    labels: labelsOf(r['labels']),
    wh: big(r['wh']),
    priceUeur: big(r['price']),
    height: big(r['height']),
  }));
}

/** Whether a context's period is settled (false: not settled, or no energy booked in it). */
export async function isPeriodSettled(
  sql: Sql,
  context: string,
  periodStartMs: number,
): Promise<boolean> {
  const rows = await read<Row>(
    sql,
    `SELECT settled FROM state.energy_market_periods WHERE context = $1 AND period_start_ms = $2`,
    [context, periodStartMs],
  );
  return rows[0]?.['settled'] === true;
}

export async function marketTiming(sql: Sql, context: string): Promise<MarketTiming | null> {
  const rows = await read<Row>(
    sql,
    `SELECT period_ms::text AS period_ms, gate_closure_ms::text AS gate_closure_ms
       FROM state.energy_market_settings WHERE context = $1`,
    [context],
  );
  const r = rows[0];
  return r === undefined
    ? null
    : { periodMs: num(r['period_ms']), gateClosureMs: num(r['gate_closure_ms']) };
}

export async function pricesOf(
  sql: Sql,
  context: string,
  periodStartMs: number,
): Promise<PeriodPrices | null> {
  const rows = await read<Row>(
    sql,
    `SELECT local_ueur_per_kwh::text AS l, supply_ueur_per_kwh::text AS s, feed_in_ueur_per_kwh::text AS f
       FROM state.energy_market_prices WHERE context = $1 AND period_start_ms = $2`,
    [context, periodStartMs],
  );
  const r = rows[0];
  return r === undefined
    ? null
    : { localUeur: big(r['l']), supplyUeur: big(r['s']), feedInUeur: big(r['f']) };
}

/** The hash (hex) of the block at `height`, or null when the chain is not that high. */
export async function blockHashAt(sql: Sql, height: number): Promise<string | null> {
  const rows = await read<Row>(
    sql,
    `SELECT encode(hash, 'hex') AS hash FROM chain.blocks WHERE height = $1`,
    [height],
  );
  return rows[0] === undefined ? null : str(rows[0]['hash']);
}

/**
 * The first block whose time is at least `ms`, or null when there is none yet. Block times grow
 * with the height, so a binary search over the height (the table's key) finds it in about 40
 * reads without scanning the chain.
 */
export async function firstBlockAtOrAfter(
  sql: Sql,
  ms: number,
): Promise<{ height: number; hash: string } | null> {
  const timeAt = async (height: number): Promise<number> => {
    const rows = await read<Row>(
      sql,
      `SELECT processed_ms::text AS ms FROM chain.blocks WHERE height = $1`,
      [height],
    );
    return num(rows[0]?.['ms']);
  };
  const head = await read<Row>(sql, `SELECT max(height)::text AS h FROM chain.blocks`, []);
  if (head[0]?.['h'] === null || head[0]?.['h'] === undefined) return null;
  let high = num(head[0]['h']);
  if ((await timeAt(high)) < ms) return null;
  let low = 0;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if ((await timeAt(mid)) >= ms) high = mid;
    else low = mid + 1;
  }
  const hash = await blockHashAt(sql, low);
  return hash === null ? null : { height: low, hash };
}
