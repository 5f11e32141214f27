// Typed client calls of the reads the live dashboard uses (docs/api.md "Energy": places, flows,
// orders) and the owner's Place call, on top of the generic client's getJson and executeContract.

import type { ExecuteOptions, HanzenetClient, SubmittedTx } from '../client/client.js';
import { checkHeight } from '../client/check.js';
import { isRecord } from '../client/http.js';
import type { TxView } from '../chain/views.js';
import { type JsonGetter, badEnergyAnswer, pathSegment } from './client.js';
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
