// The code hashes of the energy contracts as packed for the chain. A contract's code (its compiled
// `execute` with the helpers it declares) is what goes on chain, and its hash is the contract's
// identity: a change of formatting, of the compiler's output or of a helper changes it, and
// `hanzenet energy install` on an existing chain would then create the contract a second time.
// Update these only in a reviewed commit that means to publish new contract versions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packContract } from '../src/contracts/authoring/pack.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';

const CODE_HASHES: Readonly<Record<string, string>> = {
  Trader: '5564c2d5ec78a9983b784022d43ae45eb3eb2930e1dfb1cac804fd3b133efed2',
  Producer: '5d368fcb1d19896d3a709e2e884f222eebba5156fdac1adb1f12e531cf852a51',
  Consumer: '3509fa15acb55ba3a8df252bfe4a045b76621a606137cde94f4f406aad8f1623',
  SettlementPeriod: 'afc3b218fafae131614a7319a1a7a5fe64556b6e6639edf843cad082f8816200',
  Market: '6012f8d249cfcbea10cff15b4169871ec86e2a8497fc6d15759fdc59ae14079b',
  Energy: '403b5a03cb75223ce2638cbed0a08f3d75e46c54274f58e0c6ac594c259d9d8e',
  MarketMember: '320f85e42dfdc3fd99136894ec037c249dcef5ede0fb334f299e428031fb7c2a',
  MarketParent: '733f19f7f34ab99f227681d789a76ab9f1748a8511ed41453a7a102f656a4d4c',
  MarketPrices: '10f2c05bb53ead67086f28838d47be9571e26133a439bfc00aaafbe55a1edbc4',
  Order: '4bbd09974ca883a9a66c0fb136e58c8740a0152765960a0469452249c49a364a',
  CancelOrder: '2376d736f9d8f95da47c55ca8185862e017bbf72ca27dd7cef2deb274a37414c',
  SettlePeriod: '2edbcf4281eb4191f52a3569636e642ad53461e36376cfcefb53f0833cea3f03',
  Transfer: 'fdd6f9b11523a9a8fb97fdac2af15468f4345e1e3917c2744a5b3f8528106615',
  UpstreamSettlement: '47bf42419d25980f398dc75aaad4a1a4b3134f4c4b92b86ed373c0c518c84a1c',
  Reduce: '5d44b281eb013a3d8a280516f0f990e64c1410a0f15a3a23b42235b38af25e02',
  MemberPosition: '8798bb609711e61312eeb37d316f9a98efb498e9c02f88f4da63ec625683ab35',
  Mutate: 'c02461b9f0c01296e051697d90a59fd843db2c581aae6472b0ad5c5bfbc439bd',
  MarketCorrection: '49e617e5cb8b8e543d2a22200d009c940af1d956c7dd5ad59b9f685fe764dfa1',
  Place: 'a32cc3228cbf72561b9082c99b5a5b09edbc9e8660a6be269a44d05af8e01d44',
};

test('the energy contracts pack to the code hashes published on chains', () => {
  const packed = Object.fromEntries(
    ENERGY_CONTRACTS.map((def) => [def.type, packContract(def).hashHex]),
  );
  assert.deepEqual(packed, CODE_HASHES);
});
