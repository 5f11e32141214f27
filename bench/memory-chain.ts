// A chain in memory for the contract engine benchmarks (engine.ts, clearing.ts, market-day.ts): the
// real executor (in its worker thread or in process) runs whole blocks against a MemoryStore, and
// each block is committed at once. No database, no signatures checked, no block hashes: what is
// measured is executing contracts.

import type { BlockExecutionResult } from '../src/contracts/runtime/types.js';
import { createExecutor, DEFAULT_RESIDENT_ROWS } from '../src/contracts/runtime/executor.js';
import type { Executor } from '../src/contracts/runtime/executor.js';
import { packContract } from '../src/contracts/authoring/pack.js';
import { signTx } from '../src/chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../src/chain/types.js';
import type { Tx } from '../src/chain/types.js';
import type { PrivateKey } from '../src/core/keys.js';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import { MemoryStore } from './memory-store.js';
import type { ContractHashes } from './workload.js';

export class MemoryChain {
  height = 0;

  private constructor(
    readonly chainId: string,
    readonly processorKey: PrivateKey,
    readonly store: MemoryStore,
    private readonly executor: Executor,
    public processedMs: number,
  ) {}

  static async open(
    chainId: string,
    processorKey: PrivateKey,
    startMs: number,
    inWorker: boolean,
  ): Promise<MemoryChain> {
    const store = new MemoryStore();
    const executor = await createExecutor({
      reader: store,
      inWorker,
      residentRows: DEFAULT_RESIDENT_ROWS,
    });
    return new MemoryChain(chainId, processorKey, store, executor, startMs);
  }

  /** Creates the energy contracts in one block; returns their hashes by type. */
  async installEnergy(atMs: number): Promise<ContractHashes> {
    const packed = ENERGY_CONTRACTS.map((def) => packContract(def));
    await this.run(
      packed.map((p) =>
        signTx(
          {
            contractHashHex: CREATE_CONTRACT_HASH,
            validTillMs: 0,
            payloadText: JSON.stringify(p.payload),
          },
          this.processorKey,
          this.chainId,
        ),
      ),
      atMs,
    );
    return Object.fromEntries(packed.map((p) => [p.payload.type, p.hashHex]));
  }

  /** Executes and commits one block at `atMs`; throws when a transaction is not accepted. */
  async run(txs: readonly Tx[], atMs: number): Promise<BlockExecutionResult> {
    this.height += 1;
    const previousProcessedMs = this.processedMs;
    this.processedMs = atMs;
    const result = await this.executor.executeBlock({
      chainId: this.chainId,
      processorAddress: this.processorKey.address,
      height: this.height,
      processedMs: atMs,
      previousHashHex: '00'.repeat(32),
      previousProcessedMs,
      txs,
    });
    const refused = result.outcomes.findIndex((r) => r.status !== 'accepted');
    if (refused >= 0) {
      const r = result.outcomes[refused];
      throw new Error(
        `block ${this.height}: transaction ${refused} ended ${r?.status ?? '?'}: ${r && 'code' in r ? r.code : ''} ${r?.message ?? ''}`,
      );
    }
    this.store.apply(result, new Map());
    this.executor.commit();
    return result;
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}
