// Typed client calls of the reads the live dashboard uses (docs/api.md "Energy": places, flows,
// orders) and the owner's Place call, on top of the generic client's getJson and executeContract.

import type { ExecuteOptions, HanzenetClient, SubmittedTx } from '../client/client.js';
import { checkHeight } from '../client/check.js';
import { isRecord } from '../client/http.js';
import type { TxView } from '../chain/views.js';
import { type JsonGetter, badEnergyAnswer, pathSegment } from './client.js';
import type { MarketFlowsView } from './market-flows.js';
import type { MarketOrdersView } from './market-orders.js';
import { type PlaceInput, type PlacesView, placePayload } from './places.js';

/** Which page of places `fetchPlaces` returns. */
export interface PlacesQuery {
  /** Members after this address (the previous page's `next`). */
  readonly after?: string;
  /** Most places listed (server default and maximum 1000). */
  readonly limit?: number;
}

/** Where the owner placed the context's traders on the community map, by address. */
export async function fetchPlaces(
  client: JsonGetter,
  context: string,
  query: PlacesQuery = {},
): Promise<PlacesView> {
  const params: Record<string, string | number> = {};
  if (query.after !== undefined) params['after'] = query.after;
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/places`,
    params,
  );
  return isRecord(body) && Array.isArray(body['places'])
    ? (body as unknown as PlacesView)
    : badEnergyAnswer('a places view', body);
}

/** How a Place call is signed and sent (the owner's key; by default waits for the outcome). */
export type PlaceCallOptions = Omit<ExecuteOptions, 'contractType' | 'contractHash' | 'payload'>;

/** Signs and sends a Place call: the context owner places a trader at x, y on the map. */
export function placeMember(
  client: Pick<HanzenetClient, 'executeContract'>,
  input: PlaceInput,
  opts: PlaceCallOptions,
): Promise<SubmittedTx | TxView> {
  return client.executeContract({ ...opts, contractType: 'Place', payload: placePayload(input) });
}

/** Which flows `fetchMarketFlows` lists (docs/api.md "Market flows"). */
export interface MarketFlowsQuery {
  /** Periods starting at or after this, ms since the Unix epoch. */
  readonly fromMs?: number;
  /** Periods starting before this. */
  readonly toMs?: number;
  /** The previous answer's `next` (`<periodStartMs>:<seq>`): flows after it. */
  readonly after?: string;
  /** Most flows listed (server default and maximum 10000). */
  readonly limit?: number;
}

/** The flows of a context's settled market periods, oldest period first, in settlement order. */
export async function fetchMarketFlows(
  client: JsonGetter,
  context: string,
  query: MarketFlowsQuery = {},
): Promise<MarketFlowsView> {
  const params: Record<string, string | number> = {};
  if (query.fromMs !== undefined) params['from'] = checkHeight('fromMs', query.fromMs);
  if (query.toMs !== undefined) params['to'] = checkHeight('toMs', query.toMs);
  if (query.after !== undefined) params['after'] = query.after;
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/market/flows`,
    params,
  );
  return isRecord(body) && Array.isArray(body['flows'])
    ? (body as unknown as MarketFlowsView)
    : badEnergyAnswer('a market flows view', body);
}

/** Which period's book `fetchMarketOrders` returns (docs/api.md "Market orders"). */
export interface MarketOrdersQuery {
  /** A period start (ms), `current` (the server's default) or `last` (the newest settled period). */
  readonly period?: number | 'current' | 'last';
  /** Most orders listed (server default and maximum 20000). */
  readonly limit?: number;
}

/** The order book of a market period and, once it is settled, its clearing. */
export async function fetchMarketOrders(
  client: JsonGetter,
  context: string,
  query: MarketOrdersQuery = {},
): Promise<MarketOrdersView> {
  const params: Record<string, string | number> = {};
  if (query.period !== undefined)
    params['period'] =
      typeof query.period === 'number' ? checkHeight('period', query.period) : query.period;
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/market/orders`,
    params,
  );
  return isRecord(body) && Array.isArray(body['orders'])
    ? (body as unknown as MarketOrdersView)
    : badEnergyAnswer('a market orders view', body);
}
