// Reads of the public API on the page's own origin (docs/api.md). Every read is one GET; an
// error answer becomes an ApiFailure carrying the server's stable code, so a view can tell "this
// server has no such route" (not_found) from a failure worth showing.

import type {
  BlockView,
  ChainInfo,
  EnergyContextView,
  FiguresAnswer,
  Flow,
  MirrorStatusView,
  OrderBook,
  Place,
  PricesAnswer,
  StackFlows,
  StackMember,
  StackPosition,
  StatementsAnswer,
  TxView,
} from './types.js';

export const TIME_ZONE = 'Europe/Amsterdam';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The API's base: the page's own origin and path (the page may be served under a prefix). */
function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).href;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path), signal === undefined ? {} : { signal });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiFailure(res.status, 'bad_answer', `GET ${path}: not JSON (${String(err)})`);
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    throw new ApiFailure(res.status, error?.code ?? 'http_error', error?.message ?? res.statusText);
  }
  return body as T;
}

/** The answer, or null when the server has no such route or thing (404 not_found). */
export async function getOptional<T>(path: string, signal?: AbortSignal): Promise<T | null> {
  try {
    return await getJson<T>(path, signal);
  } catch (err) {
    if (err instanceof ApiFailure && err.code === 'not_found') return null;
    throw err;
  }
}

const enc = encodeURIComponent;
const ctxPath = (context: string): string => `/api/energy/contexts/${enc(context)}`;

function query(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params))
    if (v !== undefined) parts.push(`${enc(k)}=${enc(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export const api = {
  info: (signal?: AbortSignal) => getJson<ChainInfo>('/api/info', signal),
  blocks: (from: number, limit: number) =>
    getJson<BlockView[]>(`/api/blocks${query({ from, limit })}`),
  transaction: (id: string) => getJson<TxView>(`/api/transactions/${enc(id)}`),
  context: (context: string) => getJson<EnergyContextView>(ctxPath(context)),
  statements: (
    context: string,
    p: {
      trader?: string;
      from?: number | undefined;
      to?: number;
      group?: string;
      limit?: number;
    },
  ) =>
    getJson<StatementsAnswer>(
      `${ctxPath(context)}/market/statements${query({ ...p, tz: p.group === undefined || p.group === 'period' ? undefined : TIME_ZONE })}`,
    ),
  figures: (
    context: string,
    p: { from?: number | undefined; to?: number; group: string; limit?: number },
  ) =>
    getJson<FiguresAnswer>(
      `${ctxPath(context)}/market/figures${query({ ...p, tz: p.group === 'period' ? undefined : TIME_ZONE })}`,
    ),
  prices: (context: string, p: { from?: number; to?: number; limit?: number }) =>
    getJson<PricesAnswer>(`${ctxPath(context)}/market/prices${query(p)}`),
  places: (context: string) => allPlaces(context),
  flows: (context: string, from: number, to: number) =>
    getOptional<{ flows: Flow[]; truncated?: boolean }>(
      `${ctxPath(context)}/market/flows${query({ from, to, limit: 10000 })}`,
    ),
  orders: (context: string, period: 'current' | 'last') =>
    getOptional<OrderBook>(`${ctxPath(context)}/market/orders${query({ period, limit: 1000 })}`),
  mirrors: () => getOptional<{ mirrors: MirrorStatus[] }>('/api/mirrors'),
  stackMembers: (context: string) =>
    getJson<{ members: StackMember[] }>(`${ctxPath(context)}/market/stack/members?limit=1000`),
  stackPositions: (context: string, from: number) =>
    getJson<{ positions: StackPosition[] }>(
      `${ctxPath(context)}/market/stack/positions${query({ from, limit: 1000 })}`,
    ),
  stackFlows: (context: string, periodStartMs: number, member: string) =>
    getJson<StackFlows>(
      `${ctxPath(context)}/market/stack/flows/${periodStartMs}${query({ member })}`,
    ),
};

/** Pages of at most 1000 places, following `next`; null when the server has no places route. */
async function allPlaces(context: string): Promise<{ places: Place[] } | null> {
  const places: Place[] = [];
  let after: string | undefined;
  for (let page = 0; page < PLACES_PAGES_MAX; page++) {
    const answer = await getOptional<{ places: Place[]; next: string | null }>(
      `${ctxPath(context)}/places${query({ after, limit: 1000 })}`,
    );
    if (answer === null) return null;
    places.push(...answer.places);
    if (answer.next === null) break;
    after = answer.next;
  }
  return { places };
}

const PLACES_PAGES_MAX = 20;

/** One mirror node as the processor last checked it (GET /api/mirrors, docs/api.md). */
export type MirrorStatus = MirrorStatusView;
