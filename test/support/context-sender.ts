// Sending contract calls of one context to a real processor process, as the end-to-end tests of
// the market do: each call signed, sent with wait, and required to be accepted.

import assert from 'node:assert/strict';
import { signTx } from '../../src/chain/tx.js';
import type { ContractView, TxView } from '../../src/chain/views.js';
import type { PrivateKey } from '../../src/core/keys.js';
import { getJson, postJson } from './processes.js';
import type { StartedProcessor } from './processes.js';

/** Signs `type` with `payload` (plus the context) by `key`, waits for its block, requires it accepted. */
export type ContextSend = (
  key: PrivateKey,
  type: string,
  payload: Record<string, unknown>,
) => Promise<void>;

/** A sender of contract calls in `context`, by the processor's current contract list. */
export async function contextSender(p: StartedProcessor, context: string): Promise<ContextSend> {
  const contracts = (await getJson<ContractView[]>(`${p.url}/api/contracts`)).body;
  const hashes = new Map(contracts.map((c) => [c.type, c.hash]));
  return async (key, type, payload) => {
    const tx = signTx(
      {
        contractHashHex: hashes.get(type) ?? '',
        validTillMs: 0,
        payloadText: JSON.stringify({ context, ...payload }),
      },
      key,
      p.chainId,
    );
    const res = await postJson<TxView>(`${p.url}/api/transactions`, {
      base64tx: Buffer.from(tx.bytes).toString('base64'),
      wait: true,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'accepted', `${type}: ${res.body.code} ${res.body.message}`);
  };
}
