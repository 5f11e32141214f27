// The flows of a context's settled market periods (docs/api.md "Market flows"): every row of
// state.energy_market_flows in a window of period starts, in (period, seq) order, read in one SQL
// statement through the table's primary key (context, period_start_ms, seq). The dashboard
// animates them between households: local flows (own use, auction, allocation) green, external
// ones (supply, export, imbalance, corrections) red, and it tells solar from other energy by the
// labels.

import { Type } from '@sinclair/typebox';
import { formatWh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { formatNeur } from './market-statements.js';
import { parseIntegerParam, parseTimeRange } from './query-params.js';
import { bigintOf, iso, read, safeNumber, stringArray, textOf } from './query-rows.js';
import { DecimalText, checkQuery } from './query-schema.js';

/** Most flows in one answer, and the default. */
export const FLOWS_LIMIT_MAX = 10_000;

/** Where a flow's energy came from or went: inside the context's market, outside it, or the parent market. */
export type FlowScope = 'local' | 'external' | 'upstream';

export interface MarketFlowView {
  readonly periodStartMs: number;
  readonly periodStart: string;
  readonly seq: number;
  /** own, auction, allocation, supply, export, late_supply, late_export, correction_supply, correction_export, upstream, upstream_own. */
  readonly kind: string;
  readonly scope: FlowScope;
  /** The selling household, or null when the energy came from outside the context's market. */
  readonly seller: string | null;
  /** The buying household, or null when the energy went outside the context's market. */
  readonly buyer: string | null;
  /** The address of the outside party as the chain records it (the owner for the external supplier, the counterparty in the parent market), null for a local flow. */
  readonly outside: string | null;
  /** The seller's labels (e.g. ["solar"]); [] for energy from outside. */
  readonly labels: string[];
  readonly kwh: string;
  readonly eurPerKwh: string;
  readonly eur: string;
  /** The period the energy was metered in: this period, or an earlier one for late energy and corrections. */
  readonly ofPeriodMs: number;
  /** The block whose settlement wrote the flow. */
  readonly height: number;
}

export interface MarketFlowsView {
  readonly context: string;
  readonly flows: MarketFlowView[];
  readonly truncated: boolean;
  /** The cursor after the last flow listed when more follow (pass it as `after`), else null. */
  readonly next: string | null;
}

export interface FlowsQuery {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly after?: { readonly periodStartMs: number; readonly seq: number };
  readonly limit: number;
}

const FlowsSchema = Type.Object(
  {
    from: Type.Optional(DecimalText),
    to: Type.Optional(DecimalText),
    after: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,15})$' })),
    limit: Type.Optional(DecimalText),
  },
  { additionalProperties: false },
);

/** The window of `?from=&to=&after=&limit=`. */
export function parseFlowsQuery(query: unknown): FlowsQuery {
  const params = checkQuery(FlowsSchema, query);
  const range = parseTimeRange(params, FLOWS_LIMIT_MAX);
  const after = params['after'];
  if (after === undefined) return range;
  const [period, seq] = after.split(':');
  return {
    ...range,
    after: {
      periodStartMs: parseIntegerParam(period, 'after', 0, Number.MAX_SAFE_INTEGER),
      seq: parseIntegerParam(seq, 'after', 0, Number.MAX_SAFE_INTEGER),
    },
  };
}

const LOCAL_KINDS = new Set(['own', 'auction', 'allocation']);
const FROM_OUTSIDE = new Set(['supply', 'late_supply', 'correction_supply']);
const TO_OUTSIDE = new Set(['export', 'late_export', 'correction_export']);

/** The flows of the window, oldest period first, then in settlement order. */
export async function marketFlows(
  sql: Sql,
  context: string,
  query: FlowsQuery,
): Promise<MarketFlowsView> {
  const rows = await read<Record<string, unknown>>(
    sql,
    // An upstream flow joins a household of this context and a party of the parent market; the
    // household is the side with a statement of the period (primary key of the statements).
    `SELECT f.period_start_ms::text AS period_start_ms, f.seq::text AS seq, f.kind, f.seller,
            f.buyer, f.labels, f.wh::text AS wh, f.price_ueur_per_kwh::text AS ueur,
            f.neur::text AS neur, f.of_period_ms::text AS of_period_ms, f.height::text AS height,
            (f.kind = 'upstream' AND EXISTS (
              SELECT 1 FROM state.energy_market_statements s
               WHERE s.context = f.context AND s.period_start_ms = f.period_start_ms
                 AND s.trader = f.seller)) AS seller_is_household
       FROM state.energy_market_flows f
      WHERE f.context = $1
        AND ($2::bigint IS NULL OR f.period_start_ms >= $2)
        AND ($3::bigint IS NULL OR f.period_start_ms < $3)
        AND ($4::bigint IS NULL OR (f.period_start_ms, f.seq) > ($4::bigint, $5::bigint))
      ORDER BY f.period_start_ms, f.seq
      LIMIT $6`,
    [
      context,
      query.fromMs ?? null,
      query.toMs ?? null,
      query.after?.periodStartMs ?? null,
      query.after?.seq ?? null,
      query.limit + 1,
    ],
  );
  const flows = rows.slice(0, query.limit).map(flowView);
  const last = flows[flows.length - 1];
  const truncated = rows.length > query.limit;
  return {
    context,
    flows,
    truncated,
    next: truncated && last !== undefined ? `${last.periodStartMs}:${last.seq}` : null,
  };
}

function flowView(r: Record<string, unknown>): MarketFlowView {
  const kind = textOf(r['kind'], 'kind');
  const seller = textOf(r['seller'], 'seller');
  const buyer = textOf(r['buyer'], 'buyer');
  const periodStartMs = safeNumber(r['period_start_ms'], 'period_start_ms');
  const sides = sidesOf(kind, seller, buyer, r['seller_is_household'] === true);
  return {
    periodStartMs,
    periodStart: iso(periodStartMs),
    seq: safeNumber(r['seq'], 'seq'),
    kind,
    ...sides,
    labels: stringArray(r['labels'], 'labels'),
    kwh: formatWh(bigintOf(r['wh'], 'wh')),
    eurPerKwh: formatNeur(bigintOf(r['ueur'], 'price_ueur_per_kwh') * 1000n),
    eur: formatNeur(bigintOf(r['neur'], 'neur')),
    ofPeriodMs: safeNumber(r['of_period_ms'], 'of_period_ms'),
    height: safeNumber(r['height'], 'height'),
  };
}

/** Which side of a flow is a household of the context and which lies outside its market. */
function sidesOf(
  kind: string,
  seller: string,
  buyer: string,
  sellerIsHousehold: boolean,
): Pick<MarketFlowView, 'scope' | 'seller' | 'buyer' | 'outside'> {
  if (LOCAL_KINDS.has(kind) || kind === 'upstream_own')
    return { scope: kind === 'upstream_own' ? 'upstream' : 'local', seller, buyer, outside: null };
  if (FROM_OUTSIDE.has(kind)) return { scope: 'external', seller: null, buyer, outside: seller };
  if (TO_OUTSIDE.has(kind)) return { scope: 'external', seller, buyer: null, outside: buyer };
  if (kind === 'upstream')
    return sellerIsHousehold
      ? { scope: 'upstream', seller, buyer: null, outside: buyer }
      : { scope: 'upstream', seller: null, buyer, outside: seller };
  throw new ChainError('internal', `energy_market_flows holds a flow of unknown kind ${kind}`);
}
