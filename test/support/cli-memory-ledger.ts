// An in-memory LedgerService (src/api/types.ts) for running the real API server under the client
// without a processor: admission decodes and verifies transactions for the chain id, and
// `settle()` makes every pending transaction final in a new block, as a block commit would.

import type { LedgerService, SubmitResult } from '../../src/api/types.js';
import type { BlockView, ChainInfo, ContractView, TxView } from '../../src/chain/views.js';
import { toHex } from '../../src/core/bytes.js';
import { ChainError } from '../../src/core/errors.js';
import { decodeTx, verifyTxSignature } from '../../src/chain/tx.js';
import type { Block } from '../../src/chain/types.js';
import { PROCESSOR_ADDRESS } from './cli-fake-server.js';

export class MemoryLedger implements LedgerService {
  readonly views = new Map<string, TxView>();
  private readonly pending: string[] = [];
  private readonly blockViews: BlockView[] = [];
  private readonly finalListeners = new Set<(view: TxView) => void>();
  private readonly blockListeners = new Set<(block: Block, view: BlockView) => void>();

  constructor(
    readonly chainId: string,
    readonly contracts: ContractView[],
  ) {}

  async info(): Promise<ChainInfo> {
    const head = this.blockViews.at(-1);
    return {
      chainId: this.chainId,
      processorAddress: PROCESSOR_ADDRESS,
      role: 'processor',
      head:
        head === undefined
          ? null
          : { height: head.height, hash: head.hash, processedMs: head.processedMs },
      chainTimeMs: Date.now(),
    };
  }

  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    return txs.map((bytes) => {
      try {
        const tx = decodeTx(bytes);
        if (!verifyTxSignature(tx, this.chainId))
          throw new ChainError(
            'signature_invalid',
            `transaction ${tx.idHex}: bad signature for chain ${this.chainId}`,
          );
        if (this.views.has(tx.idHex))
          throw new ChainError('tx_duplicate_id', `transaction ${tx.idHex} already exists`);
        const contractType =
          this.contracts.find((c) => c.hash === tx.contractHashHex)?.type ?? null;
        this.views.set(tx.idHex, {
          id: tx.idHex,
          version: 1,
          contractHash: tx.contractHashHex,
          validTill: tx.validTillMs,
          payload: JSON.parse(tx.payloadText) as unknown,
          publicKey: toHex(tx.publicKey),
          signature: toHex(tx.signature),
          status: 'new',
          code: null,
          message: null,
          createTs: Date.now(),
          sender: tx.sender,
          contractType,
          blockId: null,
          positionInBlock: null,
          processedTs: null,
          receiver: null,
        });
        this.pending.push(tx.idHex);
        return { ok: true as const, id: tx.idHex };
      } catch (err) {
        if (!(err instanceof ChainError)) throw err;
        return { ok: false as const, id: null, error: err.toJSON() };
      }
    });
  }

  async getTransaction(idHex: string): Promise<TxView | null> {
    return this.views.get(idHex.toLowerCase()) ?? null;
  }

  onTxFinal(listener: (view: TxView) => void): () => void {
    this.finalListeners.add(listener);
    return () => this.finalListeners.delete(listener);
  }

  async listContracts(): Promise<ContractView[]> {
    return this.contracts;
  }

  async getBlocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    return this.blockViews.slice(fromHeight, fromHeight + limit);
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    return this.blockViews
      .slice(fromHeight, fromHeight + limit)
      .map((b) => Uint8Array.of(b.height));
  }

  onBlock(listener: (block: Block, view: BlockView) => void): () => void {
    this.blockListeners.add(listener);
    return () => this.blockListeners.delete(listener);
  }

  /** Puts every pending transaction (accepted, or rejected when its payload says so) in a new block. */
  settle(): BlockView {
    const height = this.blockViews.length;
    const processedMs = Date.now();
    const ids = this.pending.splice(0);
    const finals = ids.map((id, position) => {
      const view = this.views.get(id) as TxView;
      const reject = (view.payload as Record<string, unknown>)['reject'] === true;
      const final: TxView = {
        ...view,
        status: reject ? 'rejected' : 'accepted',
        code: reject ? 'contract_rejected' : null,
        message: reject ? 'no' : 'OK',
        blockId: height,
        positionInBlock: position,
        processedTs: processedMs,
      };
      this.views.set(id, final);
      return final;
    });
    const view: BlockView = {
      height,
      hash: toHex(Uint8Array.of(height)).padStart(64, '0'),
      previousHash: '00'.repeat(32),
      processedMs,
      stateDigest: '00'.repeat(32),
      txCount: finals.length,
      transactions: finals.map((f) => ({
        id: f.id,
        contractType: f.contractType,
        sender: f.sender ?? '',
        status: f.status as 'accepted' | 'rejected',
        code: f.code,
        message: f.message ?? '',
      })),
      signature: '00'.repeat(64),
      genesis: null,
    };
    this.blockViews.push(view);
    const block = { bytes: Uint8Array.of(height) } as unknown as Block;
    for (const l of this.blockListeners) l(block, view);
    for (const f of finals) for (const l of this.finalListeners) l(f);
    return view;
  }
}
