// Installs the HanzeNet energy contracts on a chain: one processor-signed create transaction per
// contract, submitted like any other transaction, awaited until committed. The composition root
// does this on a new chain; the platform below it knows nothing of the energy application.

import { packContract } from '../contracts/authoring/pack.js';
import { ChainError } from '../core/errors.js';
import type { PrivateKey } from '../core/keys.js';
import { signTx } from '../chain/tx.js';
import { CREATE_CONTRACT_HASH } from '../chain/types.js';
import type { TxView } from '../chain/views.js';
import { ENERGY_CONTRACTS } from '../energy/index.js';
import type { Logger } from '../ledger/log.js';
import type { Processor } from '../processor/processor.js';

export async function installEnergyContracts(
  processor: Processor,
  key: PrivateKey,
  log: Logger,
  /** The transaction ids (default random, as clients choose them); the simulator draws them from its seed. */
  newIdHex?: () => string,
): Promise<TxView[]> {
  const existing = new Set((await processor.listContracts()).map((c) => c.hash));
  const txs = ENERGY_CONTRACTS.map((def) => packContract(def))
    .filter((packed) => !existing.has(packed.hashHex))
    .map((packed) =>
      signTx(
        {
          ...(newIdHex === undefined ? {} : { idHex: newIdHex() }),
          contractHashHex: CREATE_CONTRACT_HASH,
          validTillMs: 0,
          payloadText: JSON.stringify(packed.payload),
        },
        key,
        processor.chainId,
      ),
    );
  if (txs.length === 0) return [];
  const waiting = new Map(txs.map((tx) => [tx.idHex, null as TxView | null]));
  const done = new Promise<TxView[]>((resolve) => {
    const off = processor.onTxFinal((view) => {
      if (!waiting.has(view.id)) return;
      waiting.set(view.id, view);
      if ([...waiting.values()].every((v) => v !== null)) {
        off();
        resolve([...waiting.values()] as TxView[]);
      }
    });
  });
  const results = await processor.submit(txs.map((tx) => tx.bytes));
  const refused = results.find((r) => !r.ok);
  if (refused && !refused.ok)
    throw new ChainError(
      'internal',
      `installing the energy contracts failed: ${refused.error.code}: ${refused.error.message}`,
    );
  const views = await done;
  const failed = views.find((v) => v.status !== 'accepted');
  if (failed)
    throw new ChainError(
      'internal',
      `installing contract ${failed.id} ended ${failed.status}: ${failed.message ?? ''}`,
    );
  log.info('installed the energy contracts', { contracts: views.length });
  return views;
}
