// Setting up a demo neighbourhood through the client, as its owner and households would (with
// the city's setup steps, src/city/setup.ts): the market on with the double auction and the
// community allocation, the households as traders with their house meters and, where they have
// panels, their solar meters labelled `solar`; the day's prices (the supplier's following the
// day); the standing orders of the households that trade; their places on the community map along
// a street; and in a stack the city as the parent.

import type { HanzenetClient } from '../client/client.js';
import type { PrivateKey } from '../core/keys.js';
import { type Call, type ParentMarket, sendStep } from '../city/setup.js';
import type { Household } from './community.js';
import { supplyEur } from './community.js';
import type { HouseholdKeys } from './gateway.js';
import { streetLayout } from './street.js';

export const PERIOD_SECONDS = 900;
export const PERIODS_PER_DAY = 96;
export const LOCAL_EUR = '0.15';
export const FEED_IN_EUR = '0.05';

export interface NeighbourhoodSetup {
  readonly name: string;
  readonly owner: PrivateKey;
  readonly homes: readonly Household[];
  readonly keys: readonly HouseholdKeys[];
  readonly dayStartMs: number;
  readonly gateClosureSeconds: number;
  readonly parent: ParentMarket | null;
}

function marketCalls(s: NeighbourhoodSetup): Call[] {
  const context = s.owner.address;
  const market = {
    type: 'Market',
    key: s.owner,
    payload: {
      context,
      on: true,
      periodSeconds: PERIOD_SECONDS,
      gateClosureSeconds: s.gateClosureSeconds,
      auction: true,
      allocation: true,
    },
  };
  const traders = s.keys.map((k) => ({
    type: 'Trader',
    key: s.owner,
    payload: { context, address: k.trader.address, allowed: true },
  }));
  return [market, ...traders];
}

function deviceCalls(s: NeighbourhoodSetup): Call[] {
  const context = s.owner.address;
  const calls: Call[] = [];
  s.keys.forEach((k, i) => {
    const trader = k.trader.address;
    calls.push({
      type: 'Consumer',
      key: s.owner,
      payload: { context, address: k.house.address, allowed: true, trader, labels: [] },
    });
    if ((s.homes[i]?.pvKwp ?? 0) > 0)
      calls.push({
        type: 'Producer',
        key: s.owner,
        payload: { context, address: k.solar.address, allowed: true, trader, labels: ['solar'] },
      });
  });
  const periods = Array.from({ length: PERIODS_PER_DAY }, (_, k) => k);
  calls.push({
    type: 'MarketPrices',
    key: s.owner,
    payload: {
      context,
      fromMs: s.dayStartMs,
      localEur: periods.map(() => LOCAL_EUR),
      supplyEur: periods.map(supplyEur),
      feedInEur: periods.map(() => FEED_IN_EUR),
    },
  });
  return calls;
}

/** The standing orders for the whole day, placed before it starts. */
function orderCalls(s: NeighbourhoodSetup): Call[] {
  const context = s.owner.address;
  const toMs = s.dayStartMs + (PERIODS_PER_DAY - 1) * PERIOD_SECONDS * 1000;
  return s.homes.flatMap((h, i) => {
    const key = s.keys[i]?.trader;
    if (h.order === null || key === undefined) return [];
    return [{ type: 'Order', key, payload: { context, ...h.order, fromMs: s.dayStartMs, toMs } }];
  });
}

/** Each household placed on the community map along the street (street.ts). */
function placeCalls(s: NeighbourhoodSetup): Call[] {
  const context = s.owner.address;
  return streetLayout(s.keys.length).map((place, i) => ({
    type: 'Place',
    key: s.owner,
    payload: { context, member: s.keys[i]?.trader.address, ...place },
  }));
}

function parentCalls(s: NeighbourhoodSetup): Call[] {
  if (s.parent === null) return [];
  const payload = {
    context: s.owner.address,
    on: true,
    parentChain: s.parent.chainId,
    parentContext: s.parent.context,
    processor: s.parent.processor,
  };
  return [{ type: 'MarketParent', key: s.owner, payload }];
}

export async function setUpDemoNeighbourhood(
  client: HanzenetClient,
  s: NeighbourhoodSetup,
): Promise<void> {
  await sendStep(client, s.name, marketCalls(s));
  await sendStep(client, s.name, deviceCalls(s));
  await sendStep(client, s.name, [...orderCalls(s), ...placeCalls(s), ...parentCalls(s)]);
}
