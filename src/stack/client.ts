// The stacked marketplaces' routes through the generic HanzeNet client (docs/api.md, "Stacked
// marketplaces"): typed views of the reads and of the transactions a processor signs for the
// other chain. Used by the uplink and the audit.

import type { HanzenetClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import { isRecord } from '../client/http.js';
import type {
  MemberFlowsView,
  MemberPositionsView,
  MembersView,
  ParentsView,
  ResidualsView,
  SignedStackTxView,
  UpstreamView,
} from './views.js';

export type JsonGetter = Pick<HanzenetClient, 'getJson'>;

const contextPath = (context: string): string =>
  `/api/energy/contexts/${segment('context', context)}/market/stack`;

/** Child contexts whose parent market is on `parentChain`, by address after `after`. */
export async function fetchStackParents(
  client: JsonGetter,
  parentChain: string,
  page: { after?: string; limit?: number } = {},
): Promise<ParentsView> {
  const body = await client.getJson('/api/energy/stack/parents', {
    parentChain,
    ...(page.after === undefined ? {} : { after: page.after }),
    ...(page.limit === undefined ? {} : { limit: page.limit }),
  });
  return checked<ParentsView>(body, 'parents', 'a stack parents view');
}

/** A child context's upstream rows, oldest first (only `open` or `settled` ones when given). */
export async function fetchUpstream(
  client: JsonGetter,
  context: string,
  query: { state?: 'open' | 'settled'; fromMs?: number; limit?: number } = {},
): Promise<UpstreamView> {
  const body = await client.getJson(`${contextPath(context)}/upstream`, {
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(query.fromMs === undefined ? {} : { from: query.fromMs }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
  });
  return checked<UpstreamView>(body, 'upstream', 'a stack upstream view');
}

/** What a child context's period left over after its local settlement. */
export async function fetchResiduals(
  client: JsonGetter,
  context: string,
  periodStartMs: number,
): Promise<ResidualsView> {
  const body = await client.getJson(`${contextPath(context)}/residuals/${periodStartMs}`);
  return checked<ResidualsView>(body, 'residuals', 'a stack residuals view');
}

/** A parent context's members (only those of child chain `chain` when given). */
export async function fetchMembers(
  client: JsonGetter,
  context: string,
  query: { chain?: string; after?: string; limit?: number } = {},
): Promise<MembersView> {
  const body = await client.getJson(`${contextPath(context)}/members`, {
    ...(query.chain === undefined ? {} : { chain: query.chain }),
    ...(query.after === undefined ? {} : { after: query.after }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
  });
  return checked<MembersView>(body, 'members', 'a stack members view');
}

/** A parent context's member positions, oldest first (one member's when given). */
export async function fetchMemberPositions(
  client: JsonGetter,
  context: string,
  query: { member?: string; fromMs?: number; limit?: number } = {},
): Promise<MemberPositionsView> {
  const body = await client.getJson(`${contextPath(context)}/positions`, {
    ...(query.member === undefined ? {} : { member: query.member }),
    ...(query.fromMs === undefined ? {} : { from: query.fromMs }),
    ...(query.limit === undefined ? {} : { limit: query.limit }),
  });
  return checked<MemberPositionsView>(body, 'positions', 'a stack positions view');
}

/** A member's flows in a parent's period, and whether the period is complete. */
export async function fetchMemberFlows(
  client: JsonGetter,
  context: string,
  periodStartMs: number,
  member: string,
): Promise<MemberFlowsView> {
  const body = await client.getJson(`${contextPath(context)}/flows/${periodStartMs}`, { member });
  return checked<MemberFlowsView>(body, 'flows', 'a stack member flows view');
}

/** The MemberPosition a child's processor signs for the parent's chain. */
export async function fetchSignedUp(
  client: JsonGetter,
  context: string,
  periodStartMs: number,
  parentChain: string,
): Promise<SignedStackTxView> {
  const body = await client.getJson(`${contextPath(context)}/up/${periodStartMs}`, { parentChain });
  return checked<SignedStackTxView>(body, 'tx', 'a signed MemberPosition');
}

/** The UpstreamSettlement a parent's processor signs for a member's child chain. */
export async function fetchSignedDown(
  client: JsonGetter,
  context: string,
  periodStartMs: number,
  member: string,
  childChain: string,
): Promise<SignedStackTxView> {
  const body = await client.getJson(`${contextPath(context)}/down/${periodStartMs}`, {
    member,
    childChain,
  });
  return checked<SignedStackTxView>(body, 'tx', 'a signed UpstreamSettlement');
}

function checked<V>(body: unknown, field: string, what: string): V {
  if (isRecord(body) && body[field] !== undefined) return body as unknown as V;
  const excerpt = JSON.stringify(body)?.slice(0, 200) ?? String(body);
  throw new ClientError('bad_response', `expected ${what} from the server, got ${excerpt}`, {
    expected: what,
  });
}

function segment(name: string, value: string): string {
  if (value === '')
    throw new ClientError('bad_request', `${name} must be a non-empty string (an address)`, {
      field: name,
    });
  return encodeURIComponent(value);
}
