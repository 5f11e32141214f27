// Setting up the contexts of a city through the client, as their owners would: a neighbourhood's
// households (Trader, Producer for the solar meters, Consumer for the house meters), its market
// with prices and the city as its parent (MarketParent); the city's market with each
// neighbourhood as a trader with its two devices, linked to its chain (MarketMember). What a chain
// already has (a second start on the same data directory) is not sent again, and what is sent
// again anyway has the id it had, so it is never booked twice.

import { createHash } from 'node:crypto';
import type { Tx } from '../chain/types.js';
import type { HanzenetClient } from '../client/client.js';
import { submitOnce } from '../client/submit-once.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import { fetchEnergyContext, fetchMarketPrices } from '../energy/client.js';
import type { EnergyContextView } from '../energy/views.js';
import type { CityKeys, NeighbourhoodKeys } from './keys.js';
import type { CityPrices } from './options.js';

/** MarketPrices sets at most this many periods at once. */
const PRICE_PERIODS_MAX = 2976;
const SETUP_WAIT_MS = 120_000;

export interface Call {
  readonly type: string;
  readonly key: PrivateKey;
  readonly payload: Record<string, unknown>;
}

export interface MarketSetup {
  readonly periodSeconds: number;
  readonly gateClosureSeconds: number;
  readonly prices: CityPrices;
  readonly nowMs: number;
}

/** A neighbourhood in the city: its chain, context and processor, and its devices there. */
export interface CityMember {
  readonly chainId: string;
  readonly context: string;
  readonly processor: string;
  readonly producer: string;
  readonly consumer: string;
}

/** The city as a neighbourhood's parent market. */
export interface ParentMarket {
  readonly chainId: string;
  readonly context: string;
  readonly processor: string;
}

/**
 * The id of a setup transaction: 16 bytes of SHA-256 over the chain, the contract and the payload,
 * so that a second start sending it again books nothing twice (the chain refuses a known id and
 * the earlier outcome counts, src/client/submit-once.ts).
 */
export function setupTxId(chainId: string, call: Call): string {
  return createHash('sha256')
    .update(`hanzenet-city-v1\n${chainId}\n${call.type}\n${JSON.stringify(call.payload)}`)
    .digest()
    .subarray(0, 16)
    .toString('hex');
}

/**
 * Sends the calls of one step, each with its setup id, and waits for all of them; the calls of a
 * step must not depend on each other. Throws `city_setup_rejected` at the first that is not
 * accepted (now or by an earlier start).
 */
export async function sendStep(
  client: HanzenetClient,
  chain: string,
  calls: readonly Call[],
): Promise<void> {
  if (calls.length === 0) return;
  // The last active contract of each type, as `contract execute --contract-type` takes it.
  const hashes = new Map((await client.contracts()).map((c) => [c.type, c.hash]));
  const chainId = await client.chainId();
  const txs: Tx[] = [];
  for (const c of calls) {
    const contractHash = hashes.get(c.type) ?? (await client.contractHashOfType(c.type));
    const idHex = setupTxId(chainId, c);
    txs.push(
      await client.signContractCall({ contractHash, payload: c.payload, key: c.key, idHex }),
    );
  }
  const outcomes = await submitOnce(client, txs, SETUP_WAIT_MS);
  outcomes.forEach((o, i) => {
    if (o.status === 'accepted' || o.status === 'already_accepted') return;
    const call = calls[i] as Call;
    const code = o.code ?? o.status;
    const message = o.message ?? 'no final status in time';
    throw new ChainError(
      'city_setup_rejected',
      `${chain}: ${call.type} ${JSON.stringify(call.payload)} was not accepted (${o.status}): ${code}: ${message}`,
      { chain, contractType: call.type, status: o.status, code, message },
    );
  });
}

/** Market on with the city's settings, unless it is on with them already. */
function marketCall(view: EnergyContextView, owner: PrivateKey, m: MarketSetup): Call[] {
  const s = view.market;
  if (
    s?.on === true &&
    s.periodSeconds === m.periodSeconds &&
    s.gateClosureSeconds === m.gateClosureSeconds
  )
    return [];
  const payload = {
    context: owner.address,
    on: true,
    periodSeconds: m.periodSeconds,
    gateClosureSeconds: m.gateClosureSeconds,
  };
  return [{ type: 'Market', key: owner, payload }];
}

/**
 * The same prices for as many periods as one MarketPrices sets, from the period before the
 * current one (so that a period that has just ended can be settled), unless the current period
 * has prices already.
 */
async function pricesCall(
  client: HanzenetClient,
  owner: PrivateKey,
  m: MarketSetup,
): Promise<Call[]> {
  const periodMs = m.periodSeconds * 1000;
  const currentMs = Math.floor(m.nowMs / periodMs) * periodMs;
  const have = await fetchMarketPrices(client, owner.address, { fromMs: currentMs, limit: 1 });
  if (have.prices[0]?.periodStartMs === currentMs) return [];
  const fill = (price: string): string[] => Array.from({ length: PRICE_PERIODS_MAX }, () => price);
  const payload = {
    context: owner.address,
    fromMs: currentMs - periodMs,
    localEur: fill(m.prices.localEur),
    supplyEur: fill(m.prices.supplyEur),
    feedInEur: fill(m.prices.feedInEur),
  };
  return [{ type: 'MarketPrices', key: owner, payload }];
}

function traderCall(view: EnergyContextView, owner: PrivateKey, address: string): Call[] {
  if (view.traders.some((t) => t.address === address)) return [];
  const payload = { context: owner.address, address, allowed: true };
  return [{ type: 'Trader', key: owner, payload }];
}

function deviceCall(
  view: EnergyContextView,
  owner: PrivateKey,
  role: 'Producer' | 'Consumer',
  device: { address: string; trader: string; labels: string[] },
): Call[] {
  const known = role === 'Producer' ? view.producers : view.consumers;
  if (known.some((d) => d.address === device.address)) return [];
  return [
    { type: role, key: owner, payload: { context: owner.address, allowed: true, ...device } },
  ];
}

/** A neighbourhood's households and market, and the city as its parent market. */
export async function setUpNeighbourhood(
  client: HanzenetClient,
  chain: string,
  keys: NeighbourhoodKeys,
  market: MarketSetup,
  parent: ParentMarket,
): Promise<void> {
  const owner = keys.owner;
  const view = await fetchEnergyContext(client, owner.address);
  await sendStep(client, chain, [
    ...marketCall(view, owner, market),
    ...keys.households.flatMap((h) => traderCall(view, owner, h.trader.address)),
  ]);
  const devices = keys.households.flatMap((h) => [
    ...deviceCall(view, owner, 'Consumer', {
      address: h.house.address,
      trader: h.trader.address,
      labels: [],
    }),
    ...(h.solar === null
      ? []
      : deviceCall(view, owner, 'Producer', {
          address: h.solar.address,
          trader: h.trader.address,
          labels: ['solar'],
        })),
  ]);
  await sendStep(client, chain, [...devices, ...(await pricesCall(client, owner, market))]);
  const link = {
    context: owner.address,
    on: true,
    parentChain: parent.chainId,
    parentContext: parent.context,
    processor: parent.processor,
  };
  await sendStep(client, chain, [{ type: 'MarketParent', key: owner, payload: link }]);
}

/**
 * The city's market, and each neighbourhood as a trader with its producer and consumer there,
 * linked to its chain, context and processor (MarketMember).
 */
export async function setUpCity(
  client: HanzenetClient,
  keys: CityKeys,
  members: readonly CityMember[],
  market: MarketSetup,
): Promise<void> {
  const owner = keys.owner;
  const view = await fetchEnergyContext(client, owner.address);
  await sendStep(client, 'city', [
    ...marketCall(view, owner, market),
    ...members.flatMap((m) => traderCall(view, owner, m.context)),
  ]);
  const devices = members.flatMap((m) => [
    ...deviceCall(view, owner, 'Producer', { address: m.producer, trader: m.context, labels: [] }),
    ...deviceCall(view, owner, 'Consumer', { address: m.consumer, trader: m.context, labels: [] }),
  ]);
  await sendStep(client, 'city', [...devices, ...(await pricesCall(client, owner, market))]);
  const links = members.map((m) => ({
    type: 'MarketMember',
    key: owner,
    payload: {
      context: owner.address,
      member: m.context,
      chain: m.chainId,
      childContext: m.context,
      processor: m.processor,
      producer: m.producer,
      consumer: m.consumer,
    },
  }));
  await sendStep(client, 'city', links);
}
