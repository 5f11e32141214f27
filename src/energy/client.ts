// The energy market's reads through the generic HanzeNet client (docs/energy.md "Reading"): typed
// views of GET /api/energy/contexts/... (src/energy/http-routes.ts). The client library itself
// knows no application; these functions add the energy routes on top of its `getJson`.

import type { HanzenetClient } from '../client/client.js';
import { checkHeight } from '../client/check.js';
import { ClientError } from '../client/errors.js';
import { isRecord } from '../client/http.js';
import type { MarketFiguresView } from './market-figures.js';
import type { GroupedStatementsView } from './market-grouped-statements.js';
import type { GroupKind } from './market-groups.js';
import type { MarketPricesView } from './market-prices-read.js';
import type { StatementsView } from './market-statements.js';
import type {
  DeviceReadingsView,
  DeviceRegistrationsView,
  EnergyBalancesView,
  EnergyContextView,
  EnergyHistoryView,
} from './views.js';

/** What the energy reads need of a client: one JSON GET. */
export type JsonGetter = Pick<HanzenetClient, 'getJson'>;

/** Which balances `fetchEnergyBalances` lists (every filter is optional; see docs/api.md "Energy"). */
export interface EnergyBalancesQuery {
  /** Only this trader's balances. */
  readonly trader?: string;
  /** Only balances carrying this label (an array or "a,b": carrying all of them). */
  readonly label?: string | readonly string[];
  /** Only the settlement period with this first block. */
  readonly block?: number;
  /** Most balances listed (server default 1000, at most 10000); the totals cover every match. */
  readonly limit?: number;
}

/** Which page of a trader's history `fetchEnergyHistory` returns. */
export interface EnergyHistoryQuery {
  /** Entries per page (server default 100, at most 1000). */
  readonly limit?: number;
  /** A block height (entries of earlier blocks), or the `next` cursor of the previous page. */
  readonly before?: string | number;
}

/** The members of an energy context and their roles, and its settlement period. */
export async function fetchEnergyContext(
  client: JsonGetter,
  context: string,
): Promise<EnergyContextView> {
  const body = await client.getJson(`/api/energy/contexts/${pathSegment('context', context)}`);
  return isRecord(body) && Array.isArray(body['members'])
    ? (body as unknown as EnergyContextView)
    : badEnergyAnswer('an energy context view', body);
}

/** The balances of an energy context per trader, period and label set, with totals per trader. */
export async function fetchEnergyBalances(
  client: JsonGetter,
  context: string,
  query: EnergyBalancesQuery = {},
): Promise<EnergyBalancesView> {
  const params: Record<string, string | number> = {};
  if (query.trader !== undefined) params['trader'] = query.trader;
  if (query.label !== undefined)
    params['label'] = typeof query.label === 'string' ? query.label : query.label.join(',');
  if (query.block !== undefined) params['block'] = checkHeight('block', query.block);
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/balances`,
    params,
  );
  return isRecord(body) && Array.isArray(body['balances'])
    ? (body as unknown as EnergyBalancesView)
    : badEnergyAnswer('an energy balances view', body);
}

/** A trader's balance changes in a context, newest first; pass `next` as `before` for the next page. */
export async function fetchEnergyHistory(
  client: JsonGetter,
  context: string,
  trader: string,
  query: EnergyHistoryQuery = {},
): Promise<EnergyHistoryView> {
  const params: Record<string, string | number> = {};
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  if (query.before !== undefined) params['before'] = String(query.before);
  const path = `/api/energy/contexts/${pathSegment('context', context)}/traders/${pathSegment('trader', trader)}/history`;
  const body = await client.getJson(path, params);
  return isRecord(body) && Array.isArray(body['entries'])
    ? (body as unknown as EnergyHistoryView)
    : badEnergyAnswer('an energy history view', body);
}

/** Which market statements `fetchMarketStatements` lists (docs/api.md "Market statements"). */
export interface MarketStatementsQuery {
  /** Only this trader's statements. */
  readonly trader?: string;
  /** Periods starting at or after this, ms since the Unix epoch. */
  readonly fromMs?: number;
  /** Periods starting before this, ms since the Unix epoch. */
  readonly toMs?: number;
  /** Most statements (grouped statements) listed (server default and maximum 10000). */
  readonly limit?: number;
  /** One statement per settled period (the default), or summed per trader and day or month. */
  readonly group?: GroupKind;
  /** The IANA time zone of days and months (server default UTC). */
  readonly tz?: string;
}

/** Which groups `fetchMarketFigures` lists (docs/api.md "Market figures"). */
export interface MarketFiguresQuery {
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Most groups listed (server default and maximum 10000). */
  readonly limit?: number;
  /** Per settled period (the default), day or month. */
  readonly group?: GroupKind;
  /** The IANA time zone of days and months (server default UTC). */
  readonly tz?: string;
}

/** A context's settled market statements per trader and period, with totals. */
export async function fetchMarketStatements(
  client: JsonGetter,
  context: string,
  query?: MarketStatementsQuery & { readonly group?: 'period' },
): Promise<StatementsView>;
/** A context's market statements summed per trader and day or month, with totals. */
export async function fetchMarketStatements(
  client: JsonGetter,
  context: string,
  query: MarketStatementsQuery & { readonly group: 'day' | 'month' },
): Promise<GroupedStatementsView>;
/** Either, when the grouping is only known at run time. */
export async function fetchMarketStatements(
  client: JsonGetter,
  context: string,
  query: MarketStatementsQuery,
): Promise<StatementsView | GroupedStatementsView>;
export async function fetchMarketStatements(
  client: JsonGetter,
  context: string,
  query: MarketStatementsQuery = {},
): Promise<StatementsView | GroupedStatementsView> {
  const params = groupParams(query);
  if (query.trader !== undefined) params['trader'] = query.trader;
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/market/statements`,
    params,
  );
  return isRecord(body) && Array.isArray(body['statements'])
    ? (body as unknown as StatementsView | GroupedStatementsView)
    : badEnergyAnswer('a market statements view', body);
}

/** Every registration (Producer, Consumer) of a device in a context, oldest first, with block times. */
export async function fetchDeviceRegistrations(
  client: JsonGetter,
  context: string,
  address: string,
): Promise<DeviceRegistrationsView> {
  const path = `/api/energy/contexts/${pathSegment('context', context)}/devices/${pathSegment('address', address)}/registrations`;
  const body = await client.getJson(path);
  return isRecord(body) && Array.isArray(body['registrations'])
    ? (body as unknown as DeviceRegistrationsView)
    : badEnergyAnswer('a device registrations view', body);
}

/** A device's accepted Energy transactions processed at or after `fromMs`, oldest first. */
export async function fetchDeviceReadings(
  client: JsonGetter,
  context: string,
  address: string,
  fromMs = 0,
): Promise<DeviceReadingsView> {
  const path = `/api/energy/contexts/${pathSegment('context', context)}/devices/${pathSegment('address', address)}/readings`;
  const body = await client.getJson(path, { from: checkHeight('fromMs', fromMs) });
  return isRecord(body) && Array.isArray(body['readings'])
    ? (body as unknown as DeviceReadingsView)
    : badEnergyAnswer('a device readings view', body);
}

/** A context's market figures per settled period, day or month, with totals. */
export async function fetchMarketFigures(
  client: JsonGetter,
  context: string,
  query: MarketFiguresQuery = {},
): Promise<MarketFiguresView> {
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/market/figures`,
    groupParams(query),
  );
  return isRecord(body) && Array.isArray(body['groups'])
    ? (body as unknown as MarketFiguresView)
    : badEnergyAnswer('a market figures view', body);
}

/** Which periods `fetchMarketPrices` lists (docs/api.md "Market prices"). */
export interface MarketPricesQuery {
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Most periods listed (server default and maximum 2976). */
  readonly limit?: number;
}

/** A context's market settings and the prices of its periods, oldest first. */
export async function fetchMarketPrices(
  client: JsonGetter,
  context: string,
  query: MarketPricesQuery = {},
): Promise<MarketPricesView> {
  const body = await client.getJson(
    `/api/energy/contexts/${pathSegment('context', context)}/market/prices`,
    groupParams(query),
  );
  return isRecord(body) && Array.isArray(body['prices'])
    ? (body as unknown as MarketPricesView)
    : badEnergyAnswer('a market prices view', body);
}

/** The query parameters from, to, limit, group and tz (the server checks group and tz). */
function groupParams(query: MarketFiguresQuery): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  if (query.fromMs !== undefined) params['from'] = checkHeight('fromMs', query.fromMs);
  if (query.toMs !== undefined) params['to'] = checkHeight('toMs', query.toMs);
  if (query.limit !== undefined) params['limit'] = checkHeight('limit', query.limit);
  if (query.group !== undefined) params['group'] = query.group;
  if (query.tz !== undefined) params['tz'] = query.tz;
  return params;
}

/** A URL path segment; an empty one would change the route, so it is refused here. */
export function pathSegment(name: string, value: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ClientError('bad_request', `${name} must be a non-empty string (an address)`, {
      field: name,
    });
  return encodeURIComponent(value);
}

export function badEnergyAnswer(what: string, body: unknown): never {
  const excerpt = JSON.stringify(body)?.slice(0, 200) ?? String(body);
  throw new ClientError('bad_response', `expected ${what} from the server, got ${excerpt}`, {
    expected: what,
  });
}
