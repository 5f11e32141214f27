// The in-memory ledger double: a LedgerService (src/ledger/service.ts) for tests of what sits on
// top of a ledger (the API server, the client and the CLI through it). It decodes the v1
// transaction layout just enough to know ids, hashes and payloads, admits what it is told to
// admit, and turns pending transactions into blocks either after a short timer or when the test
// calls produceBlock(). It runs no contracts: each outcome is chosen by the test (program() or
// decide()). Signatures are verified only when `verifyChainId` names the chain (a test of a
// client that signs); otherwise any bytes in the layout pass, so tests can hand-make transactions.
// For contracts on the real engine use test-chain.ts / energy-chain.ts; for a server that
// misbehaves on the wire, cli-fake-server.ts.

import type { ApiError, LedgerService, SubmitResult } from '../../src/api/types.js';
import type {
  BlockTxSummary,
  BlockView,
  ChainInfo,
  ContractView,
  TxView,
} from '../../src/chain/views.js';
import type { Block, BlockTxOutcome } from '../../src/chain/types.js';
import { decodeTx, verifyTxSignature } from '../../src/chain/tx.js';
import { ChainError } from '../../src/core/errors.js';
import { type FakeTx, coreTx, decodeFakeTx, sha256 } from './fake-tx.js';

export { CONTEXT_PUBLIC_KEY, addressOf, decodeFakeTx, encodeFakeTx } from './fake-tx.js';
export type { FakeTx, TxFields } from './fake-tx.js';

/** What happens to a submitted transaction. */
export type FakeDecision =
  | { readonly kind: 'refuse'; readonly code: string; readonly message: string }
  | { readonly kind: 'accept'; readonly message?: string }
  | { readonly kind: 'reject'; readonly code?: string; readonly message: string }
  | { readonly kind: 'invalid'; readonly code: string; readonly message: string };

export interface MemoryLedgerOptions {
  readonly contracts?: readonly ContractView[];
  /** Delay from a submit to the block that finalises it; null = only produceBlock() finalises. Default 20 ms. */
  readonly finalDelayMs?: number | null;
  readonly decide?: (tx: FakeTx) => FakeDecision;
  readonly chainId?: string;
  /** Produce an empty genesis block at height 0 on construction. Default true. */
  readonly withGenesis?: boolean;
  /** Height of the first block produced. Default 0. */
  readonly firstHeight?: number;
  readonly clock?: () => number;
  /** Refuse transactions whose signature does not verify for this chain id (signature_invalid). */
  readonly verifyChainId?: string;
}

interface Pending {
  readonly tx: FakeTx;
  readonly decision: Exclude<FakeDecision, { kind: 'refuse' }>;
  readonly createMs: number;
  readonly overrides: Partial<TxView>;
}

const PROCESSOR_ADDRESS = '1Dc1wbmUgVqZ16GSmmg2Y2cLGjRgP358pd';
const PROCESSOR_PUBLIC_KEY = '0309d152a2deb078b250802c198f068e9e65fd1c01c9f953fde7c35c457f2c9dc0';
export class MemoryLedger implements LedgerService {
  readonly contracts: ContractView[];
  readonly chainId: string;
  private readonly txs = new Map<string, TxView>();
  private readonly pending: Pending[] = [];
  private readonly programmed = new Map<
    string,
    { decision: FakeDecision; overrides: Partial<TxView> }
  >();
  private readonly blocks: { block: Block; view: BlockView }[] = [];
  private readonly txListeners = new Set<(view: TxView) => void>();
  private readonly blockListeners = new Set<(block: Block, view: BlockView) => void>();
  private readonly finalDelayMs: number | null;
  private readonly decide: (tx: FakeTx) => FakeDecision;
  private readonly clock: () => number;
  private readonly verifyChainId: string | undefined;
  private nextHeight: number;
  private lastMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private failures: Error[] = [];
  /** Every batch passed to submit(), for assertions. */
  readonly submitted: { count: number; createMs: number | undefined }[] = [];

  constructor(opts: MemoryLedgerOptions = {}) {
    this.contracts = [...(opts.contracts ?? [])];
    this.chainId = opts.chainId ?? 'hanzenet';
    this.finalDelayMs = opts.finalDelayMs === undefined ? 20 : opts.finalDelayMs;
    this.clock = opts.clock ?? Date.now;
    this.verifyChainId = opts.verifyChainId;
    this.nextHeight = opts.firstHeight ?? 0;
    this.decide =
      opts.decide ??
      ((tx) =>
        this.contracts.some((c) => c.hash === tx.contractHashHex)
          ? { kind: 'accept' }
          : {
              kind: 'refuse',
              code: 'contract_unknown',
              message: `no active contract has hash ${tx.contractHashHex}`,
            });
    if (opts.withGenesis ?? true) this.produceBlock();
  }

  /** Fixes the outcome (and optionally view fields) of one transaction id before it is submitted. */
  program(idHex: string, decision: FakeDecision, overrides: Partial<TxView> = {}): void {
    this.programmed.set(idHex.toLowerCase(), { decision, overrides });
  }

  /** The next service call (submit, getTransaction, info, ...) throws this error. */
  failNext(err: Error): void {
    this.failures.push(err);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  listenerCounts(): { tx: number; block: number } {
    return { tx: this.txListeners.size, block: this.blockListeners.size };
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---- LedgerService ---------------------------------------------------------------------

  async info(): Promise<ChainInfo> {
    this.maybeFail();
    const head = this.blocks.at(-1)?.view ?? null;
    return {
      chainId: this.chainId,
      processorAddress: PROCESSOR_ADDRESS,
      role: 'processor',
      head:
        head === null
          ? null
          : { height: head.height, hash: head.hash, processedMs: head.processedMs },
      chainTimeMs: head === null ? null : head.processedMs,
    };
  }

  async submit(
    raw: readonly Uint8Array[],
    opts: { readonly createMs?: number } = {},
  ): Promise<SubmitResult[]> {
    this.maybeFail();
    this.submitted.push({ count: raw.length, createMs: opts.createMs });
    const results = raw.map((bytes) => this.admit(bytes, opts.createMs));
    if (this.pending.length > 0 && this.finalDelayMs !== null && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.produceBlock();
      }, this.finalDelayMs);
    }
    return results;
  }

  async getTransaction(idHex: string): Promise<TxView | null> {
    this.maybeFail();
    return this.txs.get(idHex.toLowerCase()) ?? null;
  }

  onTxFinal(listener: (view: TxView) => void): () => void {
    this.txListeners.add(listener);
    return () => this.txListeners.delete(listener);
  }

  async listContracts(): Promise<ContractView[]> {
    this.maybeFail();
    return [...this.contracts];
  }

  async getBlocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    this.maybeFail();
    return this.blocks
      .filter((b) => b.view.height >= fromHeight)
      .slice(0, limit)
      .map((b) => b.view);
  }

  async getRawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    this.maybeFail();
    return this.blocks
      .filter((b) => b.view.height >= fromHeight)
      .slice(0, limit)
      .map((b) => b.block.bytes);
  }

  onBlock(listener: (block: Block, view: BlockView) => void): () => void {
    this.blockListeners.add(listener);
    return () => this.blockListeners.delete(listener);
  }

  // ---- producing blocks ------------------------------------------------------------------

  /**
   * Finalises every pending transaction: accepted and rejected ones go into a new block (which
   * is produced even when empty), invalid ones are final without a block. Block listeners are
   * called first, then the final view of each transaction.
   */
  produceBlock(opts: { readonly paddingBytes?: number } = {}): BlockView {
    const batch = this.pending.splice(0);
    const height = this.nextHeight++;
    const processedMs = Math.max(this.clock(), this.lastMs + 1);
    this.lastMs = processedMs;
    const inBlock = batch.filter((p) => p.decision.kind !== 'invalid');
    const finals: TxView[] = [];
    const summaries: BlockTxSummary[] = [];
    const outcomes: BlockTxOutcome[] = [];
    for (const p of batch) {
      const position = inBlock.indexOf(p);
      const view = this.finalView(
        p,
        position === -1 ? null : { height, position, processedMs },
        processedMs,
      );
      this.txs.set(p.tx.idHex, view);
      finals.push(view);
      if (position !== -1) {
        summaries.push({
          id: view.id,
          contractType: view.contractType,
          sender: p.tx.sender,
          status: view.status === 'accepted' ? 'accepted' : 'rejected',
          code: view.code,
          message: view.message ?? '',
        });
        outcomes.push(
          view.status === 'accepted'
            ? { status: 'accepted', message: view.message ?? '' }
            : {
                status: 'rejected',
                code: view.code ?? 'contract_rejected',
                message: view.message ?? '',
              },
        );
      }
    }
    const previousHash = this.blocks.at(-1)?.view.hash ?? '00'.repeat(32);
    const body = Buffer.from(
      JSON.stringify({ height, previousHash, processedMs, txs: inBlock.map((p) => p.tx.idHex) }) +
        ' '.repeat(opts.paddingBytes ?? 0),
    );
    const bytes = new Uint8Array(body);
    const hash = sha256(sha256(bytes)).toString('hex');
    const genesis =
      height === 0
        ? {
            chainId: this.chainId,
            processorPublicKey: PROCESSOR_PUBLIC_KEY,
            processorAddress: PROCESSOR_ADDRESS,
          }
        : null;
    const view: BlockView = {
      height,
      hash,
      previousHash,
      processedMs,
      stateDigest: sha256(Buffer.from(`state ${height}`)).toString('hex'),
      txCount: inBlock.length,
      transactions: summaries,
      signature: 'ee'.repeat(64),
      genesis,
    };
    const block: Block = {
      bytes,
      version: 1,
      height,
      previousHashHex: previousHash,
      processedMs,
      stateDigestHex: view.stateDigest,
      genesis:
        genesis === null
          ? null
          : {
              chainId: genesis.chainId,
              processorPublicKeyHex: genesis.processorPublicKey,
              processorAddress: genesis.processorAddress,
            },
      txs: inBlock.map((p) => coreTx(p.tx)),
      outcomes,
      signature: new Uint8Array(64).fill(0xee),
      hashHex: hash,
    };
    this.blocks.push({ block, view });
    for (const listener of [...this.blockListeners]) listener(block, view);
    for (const final of finals) for (const listener of [...this.txListeners]) listener(final);
    return view;
  }

  private admit(bytes: Uint8Array, createMs: number | undefined): SubmitResult {
    const decoded = decodeFakeTx(bytes);
    if (!decoded.ok) return { ok: false, id: null, error: decoded.error };
    const tx = decoded.tx;
    const unsigned = this.signatureProblem(bytes);
    if (unsigned !== null) return { ok: false, id: null, error: unsigned };
    if (this.txs.has(tx.idHex)) {
      return {
        ok: false,
        id: tx.idHex,
        error: {
          code: 'tx_duplicate_id',
          message: `a transaction with id ${tx.idHex} was already submitted; an id is accepted at most once`,
          details: { id: tx.idHex },
        },
      };
    }
    const programmed = this.programmed.get(tx.idHex);
    const decision = programmed?.decision ?? this.decide(tx);
    if (decision.kind === 'refuse')
      return {
        ok: false,
        id: tx.idHex,
        error: { code: decision.code, message: decision.message, details: { id: tx.idHex } },
      };
    const pending: Pending = {
      tx,
      decision,
      createMs: createMs ?? this.clock(),
      overrides: programmed?.overrides ?? {},
    };
    this.pending.push(pending);
    this.txs.set(tx.idHex, this.baseView(pending));
    return { ok: true, id: tx.idHex };
  }

  /** With verifyChainId: why the real decoder or the signature check refuses `bytes`, else null. */
  private signatureProblem(bytes: Uint8Array): ApiError | null {
    const chainId = this.verifyChainId;
    if (chainId === undefined) return null;
    try {
      const tx = decodeTx(bytes);
      if (verifyTxSignature(tx, chainId)) return null;
      return {
        code: 'signature_invalid',
        message: `transaction ${tx.idHex}: bad signature for chain ${chainId}`,
        details: {},
      };
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      return err.toJSON();
    }
  }

  private contractType(hashHex: string): string | null {
    if (hashHex === '00'.repeat(32)) return 'Create Contract';
    if (hashHex === 'ff'.repeat(32)) return 'Delete Contract';
    return this.contracts.find((c) => c.hash === hashHex)?.type ?? null;
  }

  private baseView(p: Pending): TxView {
    const receiver = p.tx.payload['receiver'];
    return {
      id: p.tx.idHex,
      version: 1,
      contractHash: p.tx.contractHashHex,
      validTill: p.tx.validTillMs,
      payload: p.tx.payload,
      publicKey: p.tx.publicKeyHex,
      signature: p.tx.signatureHex,
      status: 'new',
      code: null,
      message: null,
      createTs: p.createMs,
      sender: p.tx.sender,
      contractType: this.contractType(p.tx.contractHashHex),
      blockId: null,
      positionInBlock: null,
      processedTs: null,
      receiver: typeof receiver === 'string' ? receiver.slice(0, 35) : null,
    };
  }

  private finalView(
    p: Pending,
    place: { height: number; position: number; processedMs: number } | null,
    processedMs: number,
  ): TxView {
    const base = this.baseView(p);
    const d = p.decision;
    const outcome =
      d.kind === 'accept'
        ? { status: 'accepted' as const, code: null, message: d.message ?? 'OK' }
        : d.kind === 'reject'
          ? { status: 'rejected' as const, code: d.code ?? 'contract_rejected', message: d.message }
          : { status: 'invalid' as const, code: d.code, message: d.message };
    return {
      ...base,
      ...outcome,
      sender: place === null ? null : base.sender,
      blockId: place?.height ?? null,
      positionInBlock: place?.position ?? null,
      processedTs: processedMs,
      ...p.overrides,
    };
  }

  private maybeFail(): void {
    const err = this.failures.shift();
    if (err !== undefined) throw err;
  }
}
