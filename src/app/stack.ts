// What a processor signs stacked marketplaces' transactions with (src/stack/http-routes.ts): its
// own key and the packed hashes of MemberPosition and UpstreamSettlement. The energy contracts'
// packed hashes are the same on every chain of this version, so the hash this processor computes
// is the one the other chain runs.

import { packContract } from '../contracts/authoring/pack.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import { ENERGY_CONTRACTS } from '../energy/index.js';
import type { StackSigner } from '../stack/http-routes.js';

export function stackSigner(key: PrivateKey): StackSigner {
  const hashes = new Map<string, string>();
  return {
    key,
    contractHashHex(type) {
      let hash = hashes.get(type);
      if (hash === undefined) {
        const def = ENERGY_CONTRACTS.find((d) => d.type === type);
        if (def === undefined) {
          throw new ChainError('not_found', `the energy contracts of this version have no ${type}`);
        }
        hash = packContract(def).hashHex;
        hashes.set(type, hash);
      }
      return hash;
    },
  };
}
