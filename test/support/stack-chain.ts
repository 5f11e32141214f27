// What the end-to-end tests of stacked marketplaces share (test/e2e-stack.test.ts,
// test/e2e-stack-faults.test.ts): contract calls signed for one real processor and required to be
// accepted, and waiting on a condition the chains show.

import assert from 'node:assert/strict';
import { signTx } from '../../src/chain/tx.js';
import type { ContractView, TxView } from '../../src/chain/views.js';
import type { PrivateKey } from '../../src/core/keys.js';
import { getJson, postJson } from './processes.js';

/** The processor a sender talks to: its API and the chain its transactions are signed for. */
export interface ChainEndpoint {
  readonly url: string;
  readonly chainId: string;
}

export interface ChainSender {
  /** The hash of the chain's contract of this type. */
  hashOf(type: string): string;
  /** Signs one call, posts it with wait and requires it accepted. */
  accept(key: PrivateKey, type: string, payload: Record<string, unknown>): Promise<void>;
  /** Several calls in one block (one batch), each required to be accepted. */
  acceptTogether(calls: [PrivateKey, string, Record<string, unknown>][]): Promise<void>;
}

/** Signs contract calls for one chain and posts them with wait. */
export async function chainSender(p: ChainEndpoint): Promise<ChainSender> {
  const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
  const hashOf = (type: string): string => {
    const c = contracts.find((x) => x.type === type);
    assert.ok(c !== undefined, `chain ${p.chainId} has ${type}`);
    return c.hash;
  };
  const sign = (key: PrivateKey, type: string, payload: Record<string, unknown>) =>
    signTx(
      { contractHashHex: hashOf(type), validTillMs: 0, payloadText: JSON.stringify(payload) },
      key,
      p.chainId,
    );
  const accept = async (
    key: PrivateKey,
    type: string,
    payload: Record<string, unknown>,
  ): Promise<void> => {
    const res = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(sign(key, type, payload).bytes).toString('base64'),
      wait: true,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'accepted', `${type}: ${res.body.code} ${res.body.message}`);
  };
  const acceptTogether = async (
    calls: [PrivateKey, string, Record<string, unknown>][],
  ): Promise<void> => {
    const res = await postJson<{ results: TxView[] }>(`${p.url}/api/transactions/batch`, {
      transactions: calls.map(([k, t, pl]) => Buffer.from(sign(k, t, pl).bytes).toString('base64')),
      wait: true,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const r of res.body.results)
      assert.equal(r.status, 'accepted', `${r.contractType}: ${r.code} ${r.message}`);
  };
  return { hashOf, accept, acceptTogether };
}

/** Asks `probe` every 200 ms until it returns something other than null; fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
