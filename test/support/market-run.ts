// Runs a market scenario (test/support/market-scenario.ts) on an EnergyChain: each block of the
// scenario at its block time, its calls signed by their keys, CancelOrder pointed at the id of
// the Order it cancels. Every call of a scenario is meant to be accepted: a rejection fails.

import assert from 'node:assert/strict';
import type { EnergyChain } from './energy-chain.js';
import type { Scenario, ScenarioCall } from './market-scenario.js';
import { QUARTER_MS } from './market-scenario.js';

/** The first period start after the chain's open block that leaves room for a scenario's setup block. */
export function nextBaseMs(chain: EnergyChain): number {
  return Math.ceil((chain.processedMs + 120_000 + 2) / QUARTER_MS) * QUARTER_MS;
}

/** Key of an order of a context: its owner's address and the order's index. */
export function orderKey(call: ScenarioCall, ref: number): string {
  return `${String(call.payload['context'])}|${ref}`;
}

/** The payload of a call with the order id of a CancelOrder filled in. */
export function payloadOf(
  call: ScenarioCall,
  orderIds: ReadonlyMap<string, string>,
): Record<string, unknown> {
  if (call.cancels === undefined) return call.payload;
  const id = orderIds.get(orderKey(call, call.cancels));
  assert.ok(id !== undefined, `CancelOrder of order ${call.cancels} before it was placed`);
  return { ...call.payload, order: id };
}

export async function runOnChain(chain: EnergyChain, scenario: Scenario): Promise<void> {
  const orderIds = new Map<string, string>();
  for (const block of scenario.blocks) {
    await chain.gotoBlock(chain.height + 1, block.atMs);
    if (block.calls.length === 0) continue;
    // Calls take consecutive ids after the last one (none of them is invalid).
    let last = 0;
    try {
      last = Number.parseInt(chain.lastTxId, 16);
    } catch {
      last = 0;
    }
    block.calls.forEach((call, i) => {
      if (call.orderRef !== undefined)
        orderIds.set(orderKey(call, call.orderRef), (last + 1 + i).toString(16).padStart(32, '0'));
    });
    const outcomes = await chain.executeAll(
      block.calls.map((call) => ({
        type: call.type,
        sender: call.signer,
        payload: payloadOf(call, orderIds),
      })),
    );
    outcomes.forEach((o, i) => {
      const call = block.calls[i] as ScenarioCall;
      assert.equal(
        o.status,
        'accepted',
        `${call.type} ${JSON.stringify(call.payload)} at ${block.atMs}: ${o.status === 'accepted' ? '' : `${o.code}: ${o.message}`}`,
      );
    });
  }
}
