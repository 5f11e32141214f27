// The transaction the end-to-end tests send most: a context owner registers a new trader (a fresh
// address) with the Trader contract. Each call signs a new one.

import { signTx } from '../../src/chain/tx.js';
import type { Tx } from '../../src/chain/types.js';
import { PrivateKey } from '../../src/core/keys.js';

export function traderRegistration(owner: PrivateKey, traderHash: string, chainId: string): Tx {
  return signTx(
    {
      contractHashHex: traderHash,
      validTillMs: 0,
      payloadText: JSON.stringify({
        context: owner.address,
        address: PrivateKey.generate().address,
        allowed: true,
      }),
    },
    owner,
    chainId,
  );
}
