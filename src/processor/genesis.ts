// Block 0 of a new chain: it names the chain id and the processor's key, which every later block
// is checked against, and it holds no transactions.

import { buildBlock } from '../chain/block-encode.js';
import { genesisBlockFields } from '../chain/genesis.js';
import type { PrivateKey } from '../core/keys.js';
import type { Scheduler } from '../core/scheduler.js';
import { commitUnexecuted } from '../ledger/commit-pipeline.js';
import type { Logger } from '../ledger/log.js';
import type { ChainStore } from '../store/chain-store.js';

export async function commitGenesis(
  deps: {
    readonly store: ChainStore;
    readonly key: PrivateKey;
    readonly scheduler: Scheduler;
    readonly log: Logger;
  },
  chainId: string,
): Promise<void> {
  const { key } = deps;
  const block = buildBlock(genesisBlockFields(key, chainId, deps.scheduler.nowMs()), key, chainId);
  await commitUnexecuted(deps.store, {
    block,
    txRecords: [],
    invalidRecords: [],
    stateChanges: [],
    createdContracts: [],
    deletedContracts: [],
  });
  deps.log.info('created a new chain', {
    chainId,
    processorAddress: key.address,
    genesisHash: block.hashHex,
  });
}
