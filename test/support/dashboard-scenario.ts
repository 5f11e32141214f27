// The chains the dashboard's browser tests look at, built through a real processor's API: a market
// community of six households (the thesis' first prototype) whose last quarter hour is settled, a
// Transfer in a thesis-style context, and a community of a thousand households for the timing.

import assert from 'node:assert/strict';
import { signTx } from '../../src/chain/tx.js';
import type { ContractView, TxView } from '../../src/chain/views.js';
import { PrivateKey } from '../../src/core/keys.js';
import { getJson, postJson } from './processes.js';
import type { StartedProcessor } from './processes.js';

export const QUARTER_MS = 900_000;

export interface Call {
  readonly key: PrivateKey;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** Signs and sends calls in batches of up to 1000, waiting for each batch; all must be accepted. */
export async function sendAll(p: StartedProcessor, calls: readonly Call[]): Promise<TxView[]> {
  const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
  const hashes = new Map(contracts.map((c) => [c.type, c.hash]));
  const out: TxView[] = [];
  for (let i = 0; i < calls.length; i += 1000) {
    const part = calls.slice(i, i + 1000);
    const transactions = part.map((c) => {
      const hash = hashes.get(c.type);
      assert.ok(hash, `contract ${c.type} is on the chain`);
      const tx = signTx(
        { contractHashHex: hash, validTillMs: 0, payloadText: JSON.stringify(c.payload) },
        c.key,
        p.chainId,
      );
      return Buffer.from(tx.bytes).toString('base64');
    });
    const res = await postJson<{ results: TxView[] }>(`${p.url}/api/transactions/batch`, {
      transactions,
      wait: true,
      timeoutMs: 120_000,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    for (const [j, r] of res.body.results.entries())
      assert.equal(r.status, 'accepted', `${part[j]?.type}: ${JSON.stringify(r).slice(0, 300)}`);
    out.push(...res.body.results);
  }
  return out;
}

export interface Community {
  readonly context: string;
  readonly periodMs: number;
  readonly traders: readonly string[];
  readonly solar: readonly string[];
}

/**
 * A market context with `households` traders, every `solarEvery`-th with solar panels, the market
 * on (gate closure 0) with prices for the quarter hour that ended last, and readings in it: solar
 * households produce, everyone consumes. The processor's settlement agent settles it.
 */
export async function marketCommunity(
  p: StartedProcessor,
  households: number,
  solarEvery: number,
  { placed = false }: { placed?: boolean } = {},
): Promise<Community> {
  const owner = PrivateKey.generate();
  const context = owner.address;
  const traders = Array.from({ length: households }, () => PrivateKey.generate());
  const meters = traders.map(() => PrivateKey.generate());
  const panels = traders.map((_, i) => (i % solarEvery === 0 ? PrivateKey.generate() : null));
  const o = (type: string, payload: Record<string, unknown>): Call => ({
    key: owner,
    type,
    payload: { context, ...payload },
  });
  const setup: Call[] = [];
  for (const t of traders) setup.push(o('Trader', { address: t.address, allowed: true }));
  traders.forEach((t, i) => {
    const meter = meters[i] as PrivateKey;
    setup.push(
      o('Consumer', { address: meter.address, allowed: true, trader: t.address, labels: [] }),
    );
    const panel = panels[i];
    if (panel)
      setup.push(
        o('Producer', {
          address: panel.address,
          allowed: true,
          trader: t.address,
          labels: ['solar'],
        }),
      );
  });
  if (placed)
    for (const [i, t] of traders.entries())
      setup.push(
        o('Place', { member: t.address, ...streetPlace(i, households), label: `No. ${i + 1}` }),
      );
  await sendAll(p, setup);
  const periodMs = Math.floor(Date.now() / QUARTER_MS) * QUARTER_MS - QUARTER_MS;
  await sendAll(p, [
    o('Market', { on: true, gateClosureSeconds: 0 }),
    o('MarketPrices', {
      fromMs: periodMs,
      localEur: ['0.15'],
      supplyEur: ['0.3'],
      feedInEur: ['0.05'],
    }),
  ]);
  const readingMs = periodMs + QUARTER_MS - 1000;
  const readings: Call[] = [];
  traders.forEach((_, i) => {
    const used = (0.2 + ((i * 37) % 11) / 10).toFixed(1);
    readings.push({
      key: meters[i] as PrivateKey,
      type: 'Energy',
      payload: { context, amount: `-${used}`, register: used, readingMs },
    });
    const panel = panels[i];
    if (panel) {
      const made = (1 + ((i * 13) % 7) / 4).toFixed(2);
      readings.push({
        key: panel,
        type: 'Energy',
        payload: { context, amount: made, register: made, readingMs },
      });
    }
  });
  await sendAll(p, readings);
  if (placed) {
    // Standing orders over the next two hours: the current period's book shows them.
    const fromMs = periodMs + QUARTER_MS;
    const toMs = fromMs + 8 * QUARTER_MS;
    await sendAll(p, [
      {
        key: traders[0] as PrivateKey,
        type: 'Order',
        payload: { context, side: 'sell', priceEur: '0.12', amount: '1', labels: [], fromMs, toMs },
      },
      {
        key: traders[1] as PrivateKey,
        type: 'Order',
        payload: { context, side: 'buy', priceEur: '0.2', labels: [], fromMs, toMs },
      },
    ]);
  }
  return {
    context,
    periodMs,
    traders: traders.map((t) => t.address),
    solar: traders.filter((_, i) => panels[i] !== null).map((t) => t.address),
  };
}

/** Two rows of houses along a street across the middle of the schematic map. */
export function streetPlace(i: number, households: number): { x: number; y: number } {
  const perRow = Math.ceil(households / 2);
  const column = i % perRow;
  return {
    x: Math.round(1000 + (8000 * (column + 0.5)) / perRow),
    y: i < perRow ? 3500 : 6500,
  };
}

/** Waits until the processor's settlement agent settled the community's period. */
export async function untilSettled(p: StartedProcessor, c: Community): Promise<void> {
  const url = `${p.url}/api/energy/contexts/${c.context}/market/figures?from=${c.periodMs}`;
  for (let i = 0; i < 600; i++) {
    const body = (await getJson<{ groups: unknown[] }>(url)).body;
    if (body.groups.length > 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the period ${c.periodMs} of ${c.context} was not settled in 120 s`);
}

/** A thesis-style context (no market): solar energy, then a Transfer of part of it. */
export async function transferContext(p: StartedProcessor): Promise<{ transferId: string }> {
  const owner = PrivateKey.generate();
  const context = owner.address;
  const [anna, bert, panel] = [1, 2, 3].map(() => PrivateKey.generate()) as [
    PrivateKey,
    PrivateKey,
    PrivateKey,
  ];
  const o = (type: string, payload: Record<string, unknown>): Call => ({
    key: owner,
    type,
    payload: { context, ...payload },
  });
  await sendAll(p, [
    o('Trader', { address: anna.address, allowed: true }),
    o('Trader', { address: bert.address, allowed: true }),
    o('Producer', {
      address: panel.address,
      allowed: true,
      trader: anna.address,
      labels: ['solar'],
    }),
  ]);
  const [energy] = await sendAll(p, [
    { key: panel, type: 'Energy', payload: { context, amount: '1' } },
  ]);
  const block = energy?.blockId;
  assert.ok(typeof block === 'number');
  const [transfer] = await sendAll(p, [
    {
      key: anna,
      type: 'Transfer',
      payload: { context, receiver: bert.address, block, labels: ['solar'], amount: '0.4' },
    },
  ]);
  assert.ok(transfer);
  return { transferId: transfer.id };
}
