// A city's market for the dashboard's stacked view, on one real processor (the parent chain): a
// city household with solar panels and two neighbourhoods as members (MarketMember), whose child
// processors' keys sign their positions for the minute that ended last (MemberPosition, with the
// derived id of decision 0012). The child chains themselves are not run: the parent trusts the
// keys it registered, which is all the city's view reads. The processor's settlement agent
// settles the city's period once its gate closes, a few seconds later.

import assert from 'node:assert/strict';
import { signTx } from '../../src/chain/tx.js';
import type { ContractView, TxView } from '../../src/chain/views.js';
import { PrivateKey } from '../../src/core/keys.js';
import { stackTxIdHex } from '../../src/stack/ids.js';
import { buildMemberPosition } from '../../src/stack/payloads.js';
import { type Call, sendAll } from './dashboard-scenario.js';
import { getJson, postJson } from './processes.js';
import type { StartedProcessor } from './processes.js';

const MINUTE_MS = 60_000;
const GATE_AFTER_MS = 8000;

export interface City {
  readonly context: string;
  readonly periodMs: number;
  readonly members: readonly string[];
}

export async function cityScenario(p: StartedProcessor): Promise<City> {
  const [owner, home, homeSolar] = [1, 2, 3].map(() => PrivateKey.generate()) as [
    PrivateKey,
    PrivateKey,
    PrivateKey,
  ];
  const context = owner.address;
  const hoods = ['hz-north', 'hz-south'].map((chain) => ({
    chain,
    key: PrivateKey.generate(), // the neighbourhood's context (its owner's key): the member
    processor: PrivateKey.generate(), // the child chain's processor key
    producer: PrivateKey.generate(),
    consumer: PrivateKey.generate(),
  }));
  const o = (type: string, payload: Record<string, unknown>): Call => ({
    key: owner,
    type,
    payload: { context, ...payload },
  });
  const P = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  const gateSeconds = Math.ceil((Date.now() + GATE_AFTER_MS - (P + MINUTE_MS)) / 1000);
  const setup: Call[] = [
    o('Trader', { address: home.address, allowed: true }),
    o('Producer', {
      address: homeSolar.address,
      allowed: true,
      trader: home.address,
      labels: ['solar'],
    }),
  ];
  for (const h of hoods)
    setup.push(
      o('Trader', { address: h.key.address, allowed: true }),
      o('Producer', {
        address: h.producer.address,
        allowed: true,
        trader: h.key.address,
        labels: [],
      }),
      o('Consumer', {
        address: h.consumer.address,
        allowed: true,
        trader: h.key.address,
        labels: [],
      }),
    );
  await sendAll(p, setup);
  await sendAll(p, [
    o('Market', { on: true, periodSeconds: 60, gateClosureSeconds: gateSeconds }),
    o('MarketPrices', { fromMs: P, localEur: ['0.14'], supplyEur: ['0.29'], feedInEur: ['0.04'] }),
    ...hoods.map((h) =>
      o('MarketMember', {
        member: h.key.address,
        chain: h.chain,
        childContext: h.key.address,
        processor: h.processor.address,
        producer: h.producer.address,
        consumer: h.consumer.address,
      }),
    ),
  ]);
  await sendAll(p, [
    {
      key: homeSolar,
      type: 'Energy',
      payload: { context, amount: '1.5', register: '1.5', readingMs: P + MINUTE_MS - 1000 },
    },
  ]);
  // North needs 2 kWh more than it made; south has 0.8 kWh of solar left over.
  const residuals = [
    [{ trader: 'x', direction: 'consumed', labels: [], wh: 2000n }],
    [{ trader: 'y', direction: 'produced', labels: ['solar'], wh: 800n }],
  ];
  const hash = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body.find(
    (c) => c.type === 'MemberPosition',
  )?.hash;
  assert.ok(hash);
  for (const [i, h] of hoods.entries()) {
    const payload = buildMemberPosition({
      parentContext: context,
      childChain: h.chain,
      childContext: h.key.address,
      periodStartMs: P,
      periodMs: MINUTE_MS,
      height: 7 + i,
      blockHash: 'ab'.repeat(32),
      residuals: residuals[i] ?? [],
    });
    const idHex = stackTxIdHex({
      childChain: h.chain,
      parentChain: p.chainId,
      childContext: h.key.address,
      periodStartMs: P,
      direction: 'up',
    });
    const tx = signTx(
      { idHex, contractHashHex: hash, validTillMs: 0, payloadText: JSON.stringify(payload) },
      h.processor,
      p.chainId,
    );
    const res = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(tx.bytes).toString('base64'),
      wait: true,
    });
    assert.equal(
      res.body.status,
      'accepted',
      `MemberPosition: ${res.body.code} ${res.body.message}`,
    );
  }
  return { context, periodMs: P, members: hoods.map((h) => h.key.address) };
}

/** Waits until the city's period is settled (its gate closed a few seconds after the setup). */
export async function untilCitySettled(p: StartedProcessor, city: City): Promise<void> {
  const url = `${p.url}/api/energy/contexts/${city.context}/market/figures?from=${city.periodMs}`;
  for (let i = 0; i < 300; i++) {
    if ((await getJson<{ groups: unknown[] }>(url)).body.groups.length > 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the city's period ${city.periodMs} was not settled in 60 s`);
}
